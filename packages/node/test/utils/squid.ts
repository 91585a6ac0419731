/**
 * A real squid (Debian's package, installed by `scripts/setup-test-deps.sh`) as a scoped
 * resource: a minimal configuration in a temp directory, one squid process started with
 * `-N` (no daemon) on a free 127.0.0.1 port by `Daemon.start`, killed by its process group
 * (SIGKILL: its orderly shutdown takes 2 s) and its directory removed when the Scope closes.
 *
 * The configuration only serves loopback clients and only reaches loopback destinations:
 * CONNECT to any unprivileged loopback port, CONNECT to ports 1-1023 refused with 403, every
 * other destination refused with 403. No disk or memory cache, no ICP/HTCP/pinger, and DNS
 * only through /etc/hosts (its resolver is pointed at 127.0.0.1), so nothing leaves the host.
 *
 * When squid is not installed, `available` is false and `start` gives `Option.none()`.
 * Started as root, squid switches to the `proxy` user (or `nobody`), which then owns the
 * temp directory; started by anyone else it runs as that user.
 *
 * @example
 * it.scopedLive("goes through squid", () =>
 *   Effect.gen(function*() {
 *     const squid = Option.getOrThrow(yield* Squid.start)
 *     // ... ProxyManager.make(squid.url)
 *     const [line] = yield* squid.waitForAccessLog(1)
 *     expect([line.method, line.url, line.status]).toEqual(["GET", `${origin.url}/`, 200])
 *   }))
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Daemon from "./daemon.js"

/** The squid executable, found synchronously when this module loads (PATH, then /usr/sbin). */
export const binary: string | undefined = Daemon.findBinary("squid")

/** Whether squid is installed; decide `describe.skipIf(!available)` with it. */
export const available: boolean = binary !== undefined

/** One line of squid's access log, in this helper's log format. */
export interface AccessLogLine {
  /** The request method squid received (`GET`, `CONNECT`, ...). */
  readonly method: string
  /** The request target squid received: absolute-form for forwarded requests, `host:port` for CONNECT. */
  readonly url: string
  /** The status squid answered the client with. */
  readonly status: number
  /** The `X-Proxy-Note` header of the request squid received, or null (a probe for proxy headers). */
  readonly proxyNote: string | null
}

/** A running squid. */
export interface Squid {
  readonly port: number
  /** `http://127.0.0.1:port`. */
  readonly url: string
  /** The directory holding squid.conf, cache.log and access.log. */
  readonly dir: string
  /** Every line squid has written to its access log so far (squid logs a request when it is done). */
  readonly accessLog: Effect.Effect<ReadonlyArray<AccessLogLine>>
  /**
   * Waits (checked whenever a file of squid's directory changes, up to `timeout`, default 5 s)
   * until the access log has at least `n` lines.
   */
  readonly waitForAccessLog: (
    n: number,
    timeout?: Duration.DurationInput
  ) => Effect.Effect<ReadonlyArray<AccessLogLine>>
  /** squid's cache.log so far (for failure messages). */
  readonly cacheLog: Effect.Effect<string>
}

/** The user squid switches to when started as root (it refuses to run as root): proxy, else nobody. */
const effectiveUser = (): { readonly name: string; readonly uid: number; readonly gid: number } | null => {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return null
  let passwd = ""
  try {
    passwd = fs.readFileSync("/etc/passwd", "utf8")
  } catch {
    return null
  }
  for (const wanted of ["proxy", "nobody"]) {
    for (const line of passwd.split("\n")) {
      const [name, , uid, gid] = line.split(":")
      if (name === wanted && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) }
    }
  }
  return null
}

const configuration = (dir: string, port: number, user: string | null): string =>
  [
    `http_port 127.0.0.1:${port}`,
    `pid_filename ${path.join(dir, "squid.pid")}`,
    `cache_log ${path.join(dir, "cache.log")}`,
    // Fields: method, target and status, then X-Proxy-Note as squid received it (URL-escaped, "-" when absent).
    "logformat httpool %>rm %>ru %>Hs %{X-Proxy-Note}>h",
    `access_log stdio:${path.join(dir, "access.log")} httpool`,
    "buffered_logs off",
    "cache_store_log none",
    `coredump_dir ${dir}`,
    ...(user === null ? [] : [`cache_effective_user ${user}`]),
    // No cache at all: every request goes to the origin.
    "cache deny all",
    "cache_mem 0 MB",
    // Nothing listens or resolves beyond loopback.
    "icp_port 0",
    "htcp_port 0",
    "pinger_enable off",
    "netdb_filename none",
    "udp_incoming_address 127.0.0.1",
    "udp_outgoing_address 127.0.0.1",
    "dns_nameservers 127.0.0.1",
    "visible_hostname localhost",
    "shutdown_lifetime 0 seconds",
    // Loopback clients to loopback destinations only; CONNECT to privileged ports refused.
    "acl from_loopback src 127.0.0.1/32 ::1",
    "acl to_loopback dst 127.0.0.1/32 ::1",
    "acl privileged_ports port 1-1023",
    "acl CONNECT method CONNECT",
    "http_access deny !from_loopback",
    "http_access deny !to_loopback",
    "http_access deny CONNECT privileged_ports",
    "http_access allow from_loopback",
    "http_access deny all",
    ""
  ].join("\n")

const readText = (file: string): string => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch {
    return ""
  }
}

const parseAccessLog = (text: string): ReadonlyArray<AccessLogLine> =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [method = "", url = "", status = "0", note = "-"] = line.trim().split(/\s+/)
      return { method, url, status: Number(status), proxyNote: note === "-" ? null : decodeURIComponent(note) }
    })

/**
 * Starts squid for the current Scope, or gives `Option.none()` when squid is not installed.
 * A squid that is installed but does not start (after three ports) is a defect with its
 * cache.log in the message.
 */
export const start: Effect.Effect<Option.Option<Squid>, never, Scope.Scope> = Effect.gen(function* () {
  const squidBinary = binary
  if (squidBinary === undefined) return Option.none()
  const user = effectiveUser()
  const daemon = yield* Daemon.start({
    name: "squid",
    binary: squidBinary,
    owner: user,
    args: ({ dir, port }) => {
      const confPath = path.join(dir, "squid.conf")
      fs.rmSync(path.join(dir, "cache.log"), { force: true })
      fs.writeFileSync(confPath, configuration(dir, port, user?.name ?? null), { mode: 0o644 })
      return ["-N", "-f", confPath]
    },
    logs: ["cache.log"],
    // Its orderly shutdown takes 2 s of its own clock ticks whatever shutdown_lifetime says, and
    // nothing after a test needs it: the access log is unbuffered and read before the Scope ends.
    stopSignal: "SIGKILL",
    // Squid writes this once its socket listens. (A probe connection would show up in the
    // access log as an `error:transaction-end-before-headers` line, so none is made.)
    ready: (output, port) =>
      /FATAL|Cannot open HTTP Port/.test(output)
        ? "fatal"
        : output.includes("Accepting HTTP Socket connections") && output.includes(`local=127.0.0.1:${port} `)
          ? "ready"
          : "waiting"
  })
  const dir = daemon.dir
  const accessLog = Effect.sync(() => parseAccessLog(readText(path.join(dir, "access.log"))))
  const squid: Squid = {
    port: daemon.port,
    url: `http://127.0.0.1:${daemon.port}`,
    dir,
    accessLog,
    waitForAccessLog: (n, timeout = "5 seconds") =>
      Effect.async<ReadonlyArray<AccessLogLine>>((resume) => {
        let done = false
        const check = () => {
          const lines = parseAccessLog(readText(path.join(dir, "access.log")))
          if (done || lines.length < n) return
          done = true
          stop()
          resume(Effect.succeed(lines))
        }
        const stop = Daemon.watchDir(dir, check)
        check()
        return Effect.sync(stop)
      }).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => {
            const lines = parseAccessLog(readText(path.join(dir, "access.log")))
            return `expected ${n} lines in squid's access log, it has ${lines.length}`
          }
        }),
        Effect.orDieWith((message) => new Error(message))
      ),
    cacheLog: Effect.sync(() => readText(path.join(dir, "cache.log")))
  }
  return Option.some(squid)
})
