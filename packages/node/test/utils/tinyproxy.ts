/**
 * A real tinyproxy (Debian's package, installed by `scripts/setup-test-deps.sh`) as a scoped
 * resource: a minimal configuration in a temp directory, one `tinyproxy -d` process on a free
 * 127.0.0.1 port serving loopback clients only, stopped (SIGTERM, then SIGKILL) and its
 * directory removed when the Scope closes.
 *
 * tinyproxy 1.11 answers a forwarded request and closes the connection without
 * `Connection: close` (see /work/shared/TEST-PEERS.md): the peer of choice for "a connection
 * the server closed after answering is never reused".
 *
 * When tinyproxy is not installed, `available` is false and `start` gives `Option.none()`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"

const findBinary = (): string | undefined => {
  const dirs = [...(process.env["PATH"] ?? "").split(path.delimiter), "/usr/bin", "/usr/sbin", "/usr/local/bin"]
  for (const dir of dirs) {
    if (dir === "") continue
    const file = path.join(dir, "tinyproxy")
    try {
      fs.accessSync(file, fs.constants.X_OK)
      if (fs.statSync(file).isFile()) return file
    } catch {
      // not here
    }
  }
  return undefined
}

/** The tinyproxy executable, found when this module loads. */
export const binary: string | undefined = findBinary()

/** Whether tinyproxy is installed; decide `describe.skipIf(!available)` with it. */
export const available: boolean = binary !== undefined

/** A running tinyproxy. */
export interface Tinyproxy {
  readonly port: number
  /** `http://127.0.0.1:port`. */
  readonly url: string
  /** What tinyproxy has logged so far (for failure messages). */
  readonly log: () => string
}

const freePort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const isRoot = typeof process.getuid === "function" && process.getuid() === 0

const configuration = (port: number): string =>
  [
    // As root, tinyproxy switches to this user.
    ...(isRoot ? ["User nobody", "Group nogroup"] : []),
    `Port ${port}`,
    "Listen 127.0.0.1",
    "Timeout 30",
    "MaxClients 50",
    "Allow 127.0.0.1",
    "LogLevel Info",
    "DisableViaHeader Yes",
    ""
  ].join("\n")

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

const stop = (child: ChildProcess): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (exited(child)) return resume(Effect.void)
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000)
    child.once("exit", () => {
      clearTimeout(timer)
      resume(Effect.void)
    })
    child.kill("SIGTERM")
  }).pipe(Effect.timeoutTo({ duration: "4 seconds", onSuccess: () => undefined, onTimeout: () => undefined }))

const launch = (bin: string, dir: string) =>
  Effect.gen(function* () {
    const port = yield* freePort
    const conf = path.join(dir, "tinyproxy.conf")
    fs.writeFileSync(conf, configuration(port), { mode: 0o644 })
    const child = spawn(bin, ["-d", "-c", conf], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    const collect = (chunk: Buffer) => {
      if (output.length < 65_536) output += chunk.toString("utf8")
    }
    child.stdout?.on("data", collect)
    child.stderr?.on("data", collect)
    child.on("error", (error) => collect(Buffer.from(`${error.message}\n`)))
    const killOnExit = () => {
      if (!exited(child)) child.kill("SIGKILL")
    }
    process.once("exit", killOnExit)
    const deadline = Date.now() + 10_000
    while (!output.includes("Accepting connections")) {
      if (exited(child) || Date.now() > deadline) {
        yield* stop(child)
        process.off("exit", killOnExit)
        return yield* Effect.fail(`tinyproxy did not start on 127.0.0.1:${port}\n${output}`)
      }
      yield* Effect.sleep("20 millis")
    }
    return { child, port, killOnExit, log: () => output }
  })

/** Starts tinyproxy for the current Scope, or gives `Option.none()` when it is not installed. */
export const start: Effect.Effect<Option.Option<Tinyproxy>, never, Scope.Scope> = Effect.gen(function* () {
  const bin = binary
  if (bin === undefined) return Option.none()
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "httpool-tinyproxy-"))
      fs.chmodSync(dir, 0o755)
      return dir
    }),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })).pipe(Effect.ignore)
  )
  const running = yield* Effect.acquireRelease(
    launch(bin, dir).pipe(
      Effect.retry({ times: 2 }),
      Effect.orDieWith((message) => new Error(message))
    ),
    ({ child, killOnExit }) =>
      Effect.zipRight(
        stop(child),
        Effect.sync(() => process.off("exit", killOnExit))
      )
  )
  return Option.some({ port: running.port, url: `http://127.0.0.1:${running.port}`, log: running.log })
})
