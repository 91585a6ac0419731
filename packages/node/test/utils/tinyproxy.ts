/**
 * A real tinyproxy (Debian's package, installed by `scripts/setup-test-deps.sh`) as a scoped
 * resource: a minimal configuration in a temp directory, one `tinyproxy -d` process on a free
 * 127.0.0.1 port serving loopback clients only, started and stopped by `Daemon.start` (its
 * own process group, SIGTERM then SIGKILL, its directory removed).
 *
 * tinyproxy 1.11 answers a forwarded request and closes the connection without
 * `Connection: close` (see /work/shared/TEST-PEERS.md): the peer of choice for "a connection
 * the server closed after answering is never reused".
 *
 * When tinyproxy is not installed, `available` is false and `start` gives `Option.none()`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Daemon from "./daemon.js"

/** The tinyproxy executable, found when this module loads. */
export const binary: string | undefined = Daemon.findBinary("tinyproxy")

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

const configuration = (port: number): string =>
  [
    // As root, tinyproxy switches to this user.
    ...(Daemon.isRoot ? ["User nobody", "Group nogroup"] : []),
    `Port ${port}`,
    "Listen 127.0.0.1",
    "Timeout 30",
    "MaxClients 50",
    "Allow 127.0.0.1",
    "LogLevel Info",
    "DisableViaHeader Yes",
    ""
  ].join("\n")

/** Starts tinyproxy for the current Scope, or gives `Option.none()` when it is not installed. */
export const start: Effect.Effect<Option.Option<Tinyproxy>, never, Scope.Scope> = Effect.gen(function* () {
  const bin = binary
  if (bin === undefined) return Option.none()
  const daemon = yield* Daemon.start({
    name: "tinyproxy",
    binary: bin,
    args: ({ dir, port }) => {
      const conf = path.join(dir, "tinyproxy.conf")
      fs.writeFileSync(conf, configuration(port), { mode: 0o644 })
      return ["-d", "-c", conf]
    },
    // It says so once it listens (no probe connection in its log).
    ready: (output) => (output.includes("Accepting connections") ? "ready" : "waiting")
  })
  return Option.some({ port: daemon.port, url: `http://127.0.0.1:${daemon.port}`, log: daemon.output })
})
