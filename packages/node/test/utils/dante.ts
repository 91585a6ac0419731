/**
 * A real SOCKS server: Debian's dante (`danted` 1.4, installed by
 * `scripts/setup-test-deps.sh`) on a free 127.0.0.1 port, started and stopped by
 * `Daemon.start` (its own process group, temp directory). It serves loopback clients only,
 * and only to loopback destinations. SOCKS4 and SOCKS5 (with `socks5h` names resolved by
 * dante: use only `localhost`, any other name would query DNS); dante 1.4 refuses SOCKS4a
 * requests and IPv6 targets, and its reply codes cannot be chosen (see `socksServer.ts` for
 * those).
 *
 * With `users`, dante asks for RFC 1929 user names and passwords (`socksmethod: username`,
 * or `username none` with `allowAnonymous`), checked against a user database of its own: a
 * passwd, group and shadow file in its directory, read through `libnss_wrapper.so` (Debian
 * `libnss-wrapper`), the passwords hashed with SHA-512 crypt by `openssl passwd -6`.
 *
 * When danted is not installed, `available` is false and `start` gives `Option.none()`;
 * `authAvailable` says whether users can be given too.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Daemon from "./daemon.js"

/** The danted executable. */
export const binary: string | undefined = Daemon.findBinary("danted")

/** Whether danted is installed; decide `describe.skipIf(!available)` with it. */
export const available: boolean = binary !== undefined

const findNssWrapper = (): string | undefined => {
  const candidates = ["/usr/lib/libnss_wrapper.so", "/usr/lib64/libnss_wrapper.so"]
  try {
    for (const dir of fs.readdirSync("/usr/lib")) candidates.push(path.join("/usr/lib", dir, "libnss_wrapper.so"))
  } catch {
    // no /usr/lib
  }
  return candidates.find((file) => fs.existsSync(file))
}

/** libnss_wrapper.so, which gives dante users without system accounts. */
export const nssWrapper: string | undefined = findNssWrapper()

/** Whether dante can check passwords here (libnss-wrapper and openssl installed). */
export const authAvailable: boolean =
  available && nssWrapper !== undefined && Daemon.findBinary("openssl") !== undefined

/** Options of `start`. */
export interface Options {
  /** RFC 1929 users dante accepts, name to password. Default none: no authentication. */
  readonly users?: Readonly<Record<string, string>>
  /** With `users`, also serve clients that offer no authentication. Default false. */
  readonly allowAnonymous?: boolean
}

/** A running dante. */
export interface Dante {
  readonly port: number
  /** `socks5://127.0.0.1:port` etc.: the proxy URL for a scheme. */
  readonly url: (scheme: "socks4" | "socks4a" | "socks5" | "socks5h", userinfo?: string) => string
  /** dante's log so far (for failure messages). */
  readonly log: () => string
}

const sha512Crypt = (password: string): string =>
  execFileSync("openssl", ["passwd", "-6", "-stdin"], { input: password, encoding: "utf8" }).trim()

const configuration = (dir: string, port: number, options: Options): string => {
  const users = options.users !== undefined
  return [
    `logoutput: ${path.join(dir, "danted.log")}`,
    `internal: 127.0.0.1 port = ${port}`,
    "external: 127.0.0.1",
    "clientmethod: none",
    `socksmethod: ${users ? (options.allowAnonymous === true ? "username none" : "username") : "none"}`,
    ...(Daemon.isRoot ? ["user.privileged: root", "user.unprivileged: nobody"] : []),
    "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: error }",
    "socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 log: error connect disconnect }",
    ""
  ].join("\n")
}

/** The user database dante reads through nss_wrapper: the system's entries plus the test users. */
const writeUsers = (dir: string, users: Readonly<Record<string, string>>) => {
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, "utf8").trimEnd()
    } catch {
      return ""
    }
  }
  const names = Object.keys(users)
  const passwd = names.map((name, i) => `${name}:x:${42000 + i}:${42000 + i}:${name}:/nonexistent:/usr/sbin/nologin`)
  const group = names.map((name, i) => `${name}:x:${42000 + i}:`)
  const shadow = names.map((name) => `${name}:${sha512Crypt(users[name])}:19000:0:99999:7:::`)
  fs.writeFileSync(path.join(dir, "passwd"), [...passwd, read("/etc/passwd"), ""].join("\n"))
  fs.writeFileSync(path.join(dir, "group"), [...group, read("/etc/group"), ""].join("\n"))
  fs.writeFileSync(path.join(dir, "shadow"), [...shadow, ""].join("\n"), { mode: 0o600 })
}

/** Starts dante for the current Scope, or gives `Option.none()` when it is not installed. */
export const start = (options: Options = {}): Effect.Effect<Option.Option<Dante>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const bin = binary
    if (bin === undefined) return Option.none()
    const users = options.users
    if (users !== undefined && nssWrapper === undefined) {
      return yield* Effect.dieMessage("dante users need libnss_wrapper.so (Debian libnss-wrapper)")
    }
    const daemon = yield* Daemon.start({
      name: "danted",
      binary: bin,
      args: ({ dir, port }) => {
        const conf = path.join(dir, "danted.conf")
        fs.writeFileSync(conf, configuration(dir, port, options), { mode: 0o644 })
        if (users !== undefined) writeUsers(dir, users)
        return ["-f", conf, "-p", path.join(dir, "danted.pid"), "-N", "1"]
      },
      ...(users === undefined || nssWrapper === undefined
        ? {}
        : {
            env: (dir: string) => ({
              LD_PRELOAD: nssWrapper,
              NSS_WRAPPER_PASSWD: path.join(dir, "passwd"),
              NSS_WRAPPER_GROUP: path.join(dir, "group"),
              NSS_WRAPPER_SHADOW: path.join(dir, "shadow")
            })
          }),
      logs: ["danted.log"],
      // dante logs this once it listens (a probe connection would be a failed client in its log).
      ready: (output) => (/Dante\/server\S* v[\d.]+ running/.test(output) ? "ready" : "waiting")
    })
    return Option.some({
      port: daemon.port,
      url: (scheme, userinfo) => `${scheme}://${userinfo === undefined ? "" : `${userinfo}@`}127.0.0.1:${daemon.port}`,
      log: daemon.output
    })
  })
