/**
 * The server of the single-origin 64 B scenarios when Debian's nginx is installed
 * (`scripts/setup-test-deps.sh` installs nginx-light): one nginx process, no master, on a
 * free 127.0.0.1 port, answering `GET /64` with the same 64 bytes as the node:http server,
 * keep-alive for 65 s and for any number of requests. nginx answers a small GET in 13-20 us
 * of CPU here, where node:http's server needs 35-60 and, at concurrency 64, ran at 80-99% of
 * its core: a client could then be no faster than the server, whatever it cost
 * (docs/performance.md, "Twelfth pass").
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { accepts, freePort } from "./ports.js"
import { paths, sizes } from "./protocol.js"

/** A running nginx: its port, its pid (for its CPU), its version and a `stop`. */
export interface Nginx {
  readonly port: number
  readonly pid: number
  readonly version: string
  readonly stop: () => void
}

/** The nginx configuration: one process in the foreground, everything it writes in `dir`. */
const configuration = (dir: string, port: number): string => {
  const temp = (name: string) => `${name} ${path.join(dir, name.replace("_path", ""))};`
  return `daemon off;
master_process off;
worker_processes 1;
pid ${path.join(dir, "nginx.pid")};
error_log ${path.join(dir, "error.log")} warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 65s;
  keepalive_requests 1000000000;
  ${temp("client_body_temp_path")} ${temp("proxy_temp_path")} ${temp("fastcgi_temp_path")}
  ${temp("uwsgi_temp_path")} ${temp("scgi_temp_path")}
  server {
    listen 127.0.0.1:${port};
    location = ${paths.small} {
      default_type application/octet-stream;
      return 200 "${"a".repeat(sizes.small)}";
    }
    location / { return 404; }
  }
}
`
}

/**
 * Starts nginx pinned to `core` when `taskset` is given. Resolves once it accepts
 * connections; rejects when it exits or does not listen within 10 s.
 */
export const startNginx = async (binary: string, taskset: { readonly core: number } | null): Promise<Nginx> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "httpool-bench-nginx-"))
  const port = await freePort()
  const conf = path.join(dir, "nginx.conf")
  fs.writeFileSync(conf, configuration(dir, port))
  const version = spawnSync(binary, ["-v"], { encoding: "utf8" })
    .stderr.trim()
    .replace(/^nginx version: nginx\//, "")
  // -e: the error log before the configuration is read (else nginx opens its system one).
  const args = ["-p", dir, "-c", conf, "-e", path.join(dir, "error.log")]
  const child =
    taskset === null
      ? spawn(binary, args, { stdio: "ignore" })
      : spawn("taskset", ["-c", String(taskset.core), binary, ...args], { stdio: "ignore" })
  const stop = () => {
    child.kill("SIGKILL")
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 10_000
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = fs.existsSync(path.join(dir, "error.log")) ? fs.readFileSync(path.join(dir, "error.log"), "utf8") : ""
      stop()
      throw new Error(`nginx did not listen on 127.0.0.1:${port}: ${log.slice(-500)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return { port, pid: child.pid ?? 0, version, stop }
}
