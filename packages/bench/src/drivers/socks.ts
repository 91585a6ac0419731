/**
 * The SOCKS5 scenario: the SOCKS server its clients go through (Debian's dante, started by the
 * orchestrator on core 0 beside the target server), and undici's client for it,
 * `Socks5ProxyAgent`. httpool's client is the ProxyManager driver given the `socks5://` URL,
 * urllib3's its `SOCKSProxyManager` (with PySocks, Debian's python3-socks).
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Socks5ProxyAgent } from "undici"
import { accepts, freePort } from "../ports.js"
import type { Driver } from "./common.js"
import { withDispatcher } from "./undici.js"

/**
 * undici's `request(url, { dispatcher })` with a Socks5ProxyAgent trusting the bench CA (its
 * `requestTls` option works but is missing from undici's types).
 */
export const undici: Driver = (job) => {
  const options: Socks5ProxyAgent.Options & { readonly requestTls?: { readonly ca: string } } =
    job.caPem === null ? {} : { requestTls: { ca: job.caPem } }
  return withDispatcher(job, new Socks5ProxyAgent(job.proxy ?? "", options))
}

/**
 * Starts dante on a free 127.0.0.1 port (loopback clients to loopback targets, no
 * authentication), pinned to `core` when `taskset` is given, in a process group of its own.
 * Resolves to its `socks5://` URL and a `stop` that ends the group.
 */
export const startDante = async (
  binary: string,
  taskset: { readonly core: number } | null
): Promise<{ readonly url: string; readonly stop: () => void }> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "httpool-bench-danted-"))
  fs.chmodSync(dir, 0o755)
  const port = await freePort()
  const root = typeof process.getuid === "function" && process.getuid() === 0
  const conf = path.join(dir, "danted.conf")
  fs.writeFileSync(
    conf,
    [
      `logoutput: ${path.join(dir, "danted.log")}`,
      `internal: 127.0.0.1 port = ${port}`,
      "external: 127.0.0.1",
      "clientmethod: none",
      "socksmethod: none",
      ...(root ? ["user.privileged: root", "user.unprivileged: nobody"] : []),
      "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }",
      "socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 }",
      ""
    ].join("\n")
  )
  const args = ["-f", conf, "-p", path.join(dir, "danted.pid"), "-N", "1"]
  const child =
    taskset === null
      ? spawn(binary, args, { detached: true, stdio: "ignore" })
      : spawn("taskset", ["-c", String(taskset.core), binary, ...args], { detached: true, stdio: "ignore" })
  const pgid = child.pid ?? 0
  const stop = () => {
    try {
      process.kill(-pgid, "SIGTERM")
    } catch {
      // gone already
    }
    // Its forked children may linger a moment; wait (bounded) for the group to be gone.
    spawnSync("sh", ["-c", `for i in $(seq 50); do kill -0 -${pgid} 2>/dev/null || exit 0; sleep 0.1; done`])
    try {
      process.kill(-pgid, "SIGKILL")
    } catch {
      // gone
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 10_000
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      stop()
      throw new Error(`danted did not listen on 127.0.0.1:${port}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return { url: `socks5://127.0.0.1:${port}`, stop }
}
