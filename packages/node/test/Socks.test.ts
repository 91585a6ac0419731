/**
 * SOCKS proxies (urllib3's SOCKSProxyManager): a ProxyManager given a `socks4://`,
 * `socks4a://`, `socks5://` or `socks5h://` URL, `SocksProxyManager`, and the environment.
 *
 * Against Debian's dante (installed by scripts/setup-test-deps.sh; the dante cases are
 * skipped with one line when it is not) for SOCKS4 and SOCKS5, with and without RFC 1929
 * authentication, http and https targets, pools and sockets; and against a SOCKS server
 * written in `utils/socksServer.ts` for what dante cannot do: SOCKS4a, the name a socks5h
 * client sends, IPv6 targets, every reply code, and broken answers.
 */
import { Errors, PoolManager, ProxyManager, SocksProxyManager } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as NodeConnector from "../src/NodeConnector.js"
import * as Certs from "./utils/certs.js"
import * as Dante from "./utils/dante.js"
import * as Servers from "./utils/servers.js"
import * as SocksServer from "./utils/socksServer.js"

if (!Dante.available) {
  console.log(
    "Socks.test.ts: danted is not installed (scripts/setup-test-deps.sh installs dante-server); skipping the dante cases"
  )
} else if (!Dante.authAvailable) {
  console.log(
    "Socks.test.ts: libnss_wrapper.so or openssl is missing (scripts/setup-test-deps.sh installs libnss-wrapper); skipping dante's authentication cases"
  )
}

const startDante = (options?: Dante.Options) =>
  Effect.flatMap(Dante.start(options), (dante) =>
    Option.isSome(dante) ? Effect.succeed(dante.value) : Effect.dieMessage("danted is not installed")
  )

const { echoedOf: echoed } = Servers

/** Runs `use` with a ProxyManager for `proxyUrl` over the NodeConnector, closed afterwards. */
const withManager = <A, E>(
  proxyUrl: string,
  options: ProxyManager.Options,
  use: (manager: PoolManager.Service) => Effect.Effect<A, E, Scope.Scope>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const manager = yield* ProxyManager.make(proxyUrl, options)
      return yield* use(manager)
    })
  ).pipe(Effect.provide(NodeConnector.layer))

/** The ProxyError a request through `proxyUrl` fails with, retries off. */
const proxyErrorOf = (proxyUrl: string, target: string) =>
  withManager(proxyUrl, { connectionPoolKw: { retries: false } }, (manager) =>
    Effect.flip(manager.request("GET", target))
  ).pipe(
    Effect.map((error) => {
      expect(error._tag).toBe("ProxyError")
      return error as Errors.ProxyError
    })
  )

describe.skipIf(!Dante.available)("through dante", () => {
  it.scopedLive("socks5 and socks4 send an address, socks5h a name dante resolves; one pool per target", () =>
    Effect.gen(function* () {
      const dante = yield* startDante()
      const a = yield* Servers.http(Servers.echo)
      const b = yield* Servers.http(Servers.echo)
      for (const scheme of ["socks5", "socks5h", "socks4"] as const) {
        yield* withManager(dante.url(scheme), {}, (manager) =>
          Effect.gen(function* () {
            const host = scheme === "socks4" ? "127.0.0.1" : "localhost"
            const first = yield* manager.request("GET", `http://${host}:${a.port}/one?x=1`)
            const second = yield* manager.request("GET", `http://${host}:${a.port}/two`)
            const third = yield* manager.request("GET", `http://${host}:${b.port}/three`)
            expect([first.status, second.status, third.status]).toEqual([200, 200, 200])
            // Origin-form targets and the origin's own Host: nothing of the proxy shows.
            expect(echoed(first.text).url).toBe("/one?x=1")
            expect(Servers.headerOf(echoed(first.text).rawHeaders, "host")).toBe(`${host}:${a.port}`)
            const pools = yield* manager.pools
            expect(pools.keys.map((key) => [key.scheme, key.host, key.port])).toEqual([
              ["http", host, a.port],
              ["http", host, b.port]
            ])
            const pool = yield* manager.connectionFromUrl(`http://${host}:${a.port}/`)
            expect(yield* pool.stats).toMatchObject({ numConnections: 1, numRequests: 2 })
          })
        )
      }
      // One tunnel per manager and origin, reused for both requests, and closed with the manager.
      expect(a.socketsOpened()).toBe(3)
      expect(b.socketsOpened()).toBe(3)
      yield* a.waitForOpenSockets(0)
      yield* b.waitForOpenSockets(0)
      expect(a.requests.map((request) => request.remoteAddress)).toEqual(Array(6).fill("127.0.0.1"))
    })
  )

  it.scopedLive("https targets: TLS to the origin inside the tunnel, the certificate checked for its name", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const dante = yield* startDante()
      const origin = yield* Servers.https(Servers.echo)
      yield* withManager(dante.url("socks5h"), { connectionPoolKw: { caCerts: certs.ca.certPath } }, (manager) =>
        Effect.gen(function* () {
          const first = yield* manager.request("GET", `https://localhost:${origin.port}/secure`)
          const second = yield* manager.request("POST", `https://localhost:${origin.port}/again`, { body: "hi" })
          expect(echoed(first.text).url).toBe("/secure")
          expect(echoed(second.text).body).toBe("hi")
          expect(origin.socketsOpened()).toBe(1)
        })
      )
      yield* origin.waitForOpenSockets(0)
      // Without the test CA the origin's certificate is refused, as on a direct connection.
      const refused = yield* withManager(dante.url("socks5h"), { connectionPoolKw: { retries: false } }, (manager) =>
        Effect.flip(manager.request("GET", `https://localhost:${origin.port}/`))
      )
      expect(refused._tag).toBe("SSLError")
    })
  )

  it.scopedLive("a target dante cannot reach is a ProxyError naming SOCKS5's reply", () =>
    Effect.gen(function* () {
      const dante = yield* startDante()
      const closed = yield* Servers.closedPort
      const error = yield* proxyErrorOf(dante.url("socks5"), `http://127.0.0.1:${closed}/`)
      expect(error.socks).toEqual({ version: 5, reason: "ConnectionRefused", reply: 5 })
      expect(error.message).toBe(
        `Unable to connect to proxy: SOCKS5 proxy 127.0.0.1:${dante.port}: 0x05: Connection refused`
      )
      expect(error.error?._tag).toBe("NewConnectionError")
      const four = yield* proxyErrorOf(dante.url("socks4"), `http://127.0.0.1:${closed}/`)
      expect(four.socks).toEqual({ version: 4, reason: "Rejected", reply: 0x5b })
    })
  )

  it.scopedLive("the environment: ALL_PROXY and HTTPS_PROXY with socks URLs", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const dante = yield* startDante()
      const plain = yield* Servers.http(Servers.echo)
      const secure = yield* Servers.https(Servers.echo)
      yield* Effect.gen(function* () {
        const manager = yield* ProxyManager.fromEnv(
          { HTTPS_PROXY: dante.url("socks5h"), ALL_PROXY: dante.url("socks4") },
          { connectionPoolKw: { caCerts: certs.ca.certPath } }
        )
        expect((yield* manager.request("GET", `https://localhost:${secure.port}/s`)).status).toBe(200)
        expect((yield* manager.request("GET", `${plain.url}/p`)).status).toBe(200)
        const keys = (yield* manager.pools).keys
        expect(keys.map((key) => key.socksOptions === null)).toEqual([false, false])
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(secure.socketsOpened()).toBe(1)
      expect(plain.socketsOpened()).toBe(1)
    })
  )
})

describe.skipIf(!Dante.authAvailable)("through dante with RFC 1929 authentication", () => {
  it.scopedLive("the URL's credentials (percent-decoded) or SocksProxyManager's username and password", () =>
    Effect.gen(function* () {
      const dante = yield* startDante({ users: { alice: "s3cret:/@" } })
      const origin = yield* Servers.http(Servers.echo)
      const target = `http://localhost:${origin.port}/`
      yield* withManager(dante.url("socks5h", "alice:s3cret%3A%2F%40"), {}, (manager) =>
        Effect.gen(function* () {
          expect((yield* manager.request("GET", target)).status).toBe(200)
          // The pool key keeps the password to compare, and never shows it.
          const [key] = (yield* manager.pools).keys
          expect(String(key)).not.toContain("s3cret")
          expect(String(key)).toContain("<redacted>")
        })
      )
      const status = yield* Effect.gen(function* () {
        const manager = yield* SocksProxyManager.make(dante.url("socks5", "ignored:wrong"), {
          username: "alice",
          password: "s3cret:/@"
        })
        return (yield* manager.request("GET", target)).status
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(status).toBe(200)
    })
  )

  it.scopedLive("a wrong password and no credentials are refused before any request", () =>
    Effect.gen(function* () {
      const dante = yield* startDante({ users: { alice: "s3cret" } })
      const origin = yield* Servers.http(Servers.echo)
      const target = `http://localhost:${origin.port}/`
      const wrong = yield* proxyErrorOf(dante.url("socks5h", "alice:nope"), target)
      expect(wrong.socks?.reason).toBe("AuthenticationFailed")
      expect(wrong.message).toBe(
        `Unable to connect to proxy: SOCKS5 proxy 127.0.0.1:${dante.port}: SOCKS5 authentication failed`
      )
      const none = yield* proxyErrorOf(dante.url("socks5h"), target)
      expect(none.socks).toEqual({ version: 5, reason: "NoAcceptableMethods", reply: 0xff })
      expect(origin.socketsOpened()).toBe(0)
    })
  )

  it.scopedLive("with anonymous clients allowed too, both are served", () =>
    Effect.gen(function* () {
      const dante = yield* startDante({ users: { alice: "s3cret" }, allowAnonymous: true })
      const origin = yield* Servers.http(Servers.echo)
      for (const url of [dante.url("socks5", "alice:s3cret"), dante.url("socks5")]) {
        const status = yield* withManager(url, {}, (manager) =>
          Effect.map(manager.request("GET", `http://127.0.0.1:${origin.port}/`), (response) => response.status)
        )
        expect(status).toBe(200)
      }
      expect(origin.socketsOpened()).toBe(2)
    })
  )
})

describe("against the tests' SOCKS server", () => {
  it.scopedLive(
    "socks5h and socks4a send the name, socks5 and socks4 the address resolved here; socks4 the userid",
    () =>
      Effect.gen(function* () {
        const server = yield* SocksServer.start()
        const origin = yield* Servers.http(Servers.echo)
        const target = `http://localhost:${origin.port}/`
        for (const url of [
          server.url("socks5h"),
          server.url("socks5"),
          server.url("socks4a", "me"),
          server.url("socks4", "me")
        ]) {
          const status = yield* withManager(url, {}, (manager) =>
            Effect.map(manager.request("GET", target), (response) => response.status)
          )
          expect(status).toBe(200)
        }
        expect(server.requests.map((r) => [r.version, r.addressType, r.host, r.port, r.username])).toEqual([
          [5, "name", "localhost", origin.port, null],
          [5, "ipv4", "127.0.0.1", origin.port, null],
          [4, "name", "localhost", origin.port, "me"],
          [4, "ipv4", "127.0.0.1", origin.port, "me"]
        ])
        // No credentials: only "no authentication" is offered.
        expect(server.requests[0].methods).toEqual([0])
        // One connection to the proxy per manager, closed with it.
        expect(server.connections()).toBe(4)
        yield* origin.waitForOpenSockets(0)
      })
  )

  it.scopedLive("an IPv6 target goes as an IPv6 address over socks5; socks4 cannot carry it", () =>
    Effect.gen(function* () {
      const server = yield* SocksServer.start()
      const origin = yield* Servers.http(Servers.echo, { host: "::1" })
      const status = yield* withManager(server.url("socks5"), {}, (manager) =>
        Effect.map(manager.request("GET", `http://[::1]:${origin.port}/v6`), (response) => response.status)
      )
      expect(status).toBe(200)
      expect(server.requests.map((r) => [r.addressType, r.host])).toEqual([["ipv6", "0:0:0:0:0:0:0:1"]])
      const four = yield* proxyErrorOf(server.url("socks4"), `http://[::1]:${origin.port}/`)
      expect(four.socks).toEqual({ version: 4, reason: "AddressNotSupported", reply: null })
    })
  )

  it.scopedLive("every SOCKS5 and SOCKS4 reply code is a ProxyError with its reason", () =>
    Effect.gen(function* () {
      const cases5: ReadonlyArray<readonly [number, Errors.SocksReason, string]> = [
        [0x01, "GeneralFailure", "0x01: General SOCKS server failure"],
        [0x02, "NotAllowed", "0x02: Connection not allowed by ruleset"],
        [0x03, "NetworkUnreachable", "0x03: Network unreachable"],
        [0x04, "HostUnreachable", "0x04: Host unreachable"],
        [0x05, "ConnectionRefused", "0x05: Connection refused"],
        [0x06, "TtlExpired", "0x06: TTL expired"],
        [0x07, "CommandNotSupported", "0x07: Command not supported, or protocol error"],
        [0x08, "AddressTypeNotSupported", "0x08: Address type not supported"],
        [0x2a, "UnknownReply", "0x2a: Unknown error"]
      ]
      const cases4: ReadonlyArray<readonly [number, Errors.SocksReason]> = [
        [0x5b, "Rejected"],
        [0x5c, "IdentdUnreachable"],
        [0x5d, "IdentdMismatch"],
        [0x42, "UnknownReply"]
      ]
      for (const [reply, reason, text] of cases5) {
        const server = yield* SocksServer.start({ answer: () => ({ reply }) })
        const error = yield* proxyErrorOf(server.url("socks5h"), "http://localhost:1/")
        expect(error.socks).toEqual({ version: 5, reason, reply })
        expect(error.message).toBe(`Unable to connect to proxy: SOCKS5 proxy 127.0.0.1:${server.port}: ${text}`)
        expect(error.error).toEqual(
          new Errors.NewConnectionError({ message: `Failed to establish a new connection to localhost:1: ${text}` })
        )
      }
      for (const [reply, reason] of cases4) {
        const server = yield* SocksServer.start({ answer: () => ({ reply }) })
        const error = yield* proxyErrorOf(server.url("socks4a"), "http://localhost:1/")
        expect(error.socks).toEqual({ version: 4, reason, reply })
      }
    })
  )

  it.scopedLive("broken answers: truncated, a wrong version, garbage, no acceptable method", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<
        readonly [SocksServer.Options, "socks5h" | "socks4a", Errors.SocksReason, number | null]
      > = [
        [{ answer: () => ({ raw: Uint8Array.from([5, 0, 0, 1, 127]) }) }, "socks5h", "ClosedBeforeReply", null],
        [
          { answer: () => ({ raw: Uint8Array.from([4, 0, 0, 1, 0, 0, 0, 0, 0, 0]) }) },
          "socks5h",
          "MalformedReply",
          null
        ],
        [{ answer: () => ({ raw: Uint8Array.from([5, 0, 0, 9, 0, 0]) }) }, "socks5h", "MalformedReply", null],
        [
          { methodReply: new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n") },
          "socks5h",
          "MalformedReply",
          null
        ],
        [{ methodReply: Uint8Array.from([5]) }, "socks5h", "ClosedBeforeReply", null],
        [{ methodReply: Uint8Array.from([5, 0xff]) }, "socks5h", "NoAcceptableMethods", 0xff],
        [{ methodReply: Uint8Array.from([5, 0x02]) }, "socks5h", "MalformedReply", null],
        [{ users: { alice: "right" } }, "socks5h", "NoAcceptableMethods", 0xff],
        [{ answer: () => ({ raw: Uint8Array.from([4, 0x5a, 0, 0, 0, 0, 0, 0]) }) }, "socks4a", "MalformedReply", null],
        [{ answer: () => ({ raw: Uint8Array.from([0, 0x5a, 0]) }) }, "socks4a", "ClosedBeforeReply", null]
      ]
      for (const [options, scheme, reason, reply] of cases) {
        const server = yield* SocksServer.start(options)
        const error = yield* proxyErrorOf(server.url(scheme), "http://localhost:1/")
        expect(error.socks).toEqual({ version: scheme === "socks5h" ? 5 : 4, reason, reply })
      }
      const rejected = yield* SocksServer.start({ users: { alice: "right" } })
      const auth = yield* proxyErrorOf(rejected.url("socks5h", "alice:wrong"), "http://localhost:1/")
      expect(auth.socks).toEqual({ version: 5, reason: "AuthenticationFailed", reply: 1 })
      expect(rejected.requests).toEqual([])
    })
  )

  it.scopedLive("a proxy that never answers: the connect timeout covers the handshake", () =>
    Effect.gen(function* () {
      const silent = yield* Servers.raw(() => {})
      const error = yield* withManager(
        `socks5h://127.0.0.1:${silent.port}`,
        { connectionPoolKw: { retries: false, timeout: { connect: 0.2 } } },
        (manager) => Effect.flip(manager.request("GET", "http://localhost:1/"))
      )
      expect(error._tag).toBe("ProxyError")
      if (error._tag === "ProxyError") expect(error.error?._tag).toBe("ConnectTimeoutError")
      yield* silent.waitForOpenSockets(0)
    })
  )

  it.scopedLive("a refusal counts as a connect error for retries, as urllib3's NewConnectionError", () =>
    Effect.gen(function* () {
      const server = yield* SocksServer.start({ answer: () => ({ reply: 0x05 }) })
      const error = yield* withManager(
        server.url("socks5h"),
        { connectionPoolKw: { retries: { total: 5, connect: 2 } } },
        (manager) => Effect.flip(manager.request("GET", "http://localhost:1/"))
      )
      expect(error._tag).toBe("MaxRetryError")
      if (error._tag === "MaxRetryError") expect(error.reason?._tag).toBe("ProxyError")
      expect(server.requests.length).toBe(3)
    })
  )

  it.scopedLive("SocksProxyManager refuses a URL that is not SOCKS; the proxy's port defaults to 1080", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(SocksProxyManager.make("http://127.0.0.1:3128"))
      expect(error._tag).toBe("ValueError")
      const manager = yield* ProxyManager.make("socks5h://127.0.0.1")
      yield* manager.connectionFromUrl("http://localhost:1/")
      const [key] = (yield* manager.pools).keys
      expect(key.socksOptions).not.toBeNull()
      expect(String(key)).toContain("1080")
    }).pipe(Effect.provide(NodeConnector.layer))
  )
})
