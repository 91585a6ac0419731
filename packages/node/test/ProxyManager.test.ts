import { inspect } from "node:util"
import { Errors, PoolManager, ProxyManager } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as NodeConnector from "../src/NodeConnector.js"
import * as NodeProxyManager from "../src/NodeProxyManager.js"
import * as Certs from "./utils/certs.js"
import * as Proxy from "./utils/proxy.js"
import * as Servers from "./utils/servers.js"

const { headerOf, echoedOf: echoed } = Servers

const proxySecret = "s3cr3t-pw"

/** A proxy URL on 127.0.0.1 with the test credentials `user:s3cr3t-pw`. */
const credentialed = (scheme: "http" | "https", port: number) => `${scheme}://user:${proxySecret}@127.0.0.1:${port}`

/** Whether a text shows the test credentials, plainly or base64-encoded as in Proxy-Authorization. */
const leaksCredentials = (text: string) =>
  text.includes(proxySecret) ||
  text.includes(Buffer.from(`user:${proxySecret}`).toString("base64")) ||
  text.includes("user:")

/** The ways a value gets printed: String, JSON and node's inspect. */
const printed = (value: unknown) => [String(value), JSON.stringify(value), inspect(value, { depth: 10 })]

const { withManager } = Proxy

describe("ProxyManager", () => {
  it.effect("the proxy URL must be http or https; its port defaults by its scheme", () =>
    Effect.gen(function* () {
      const bad = (url: string) =>
        Effect.flip(Effect.scoped(ProxyManager.make(url).pipe(Effect.provide(NodeConnector.layer))))
      const ftp = yield* bad("ftp://127.0.0.1:21")
      expect(ftp._tag).toBe("ProxySchemeUnknown")
      expect(ftp.message).toBe("Proxy URL had unsupported scheme ftp, should use http:// or https://")
      const none = yield* bad("127.0.0.1:3128")
      expect(none._tag).toBe("ProxySchemeUnknown")
      expect(none.message).toBe("Proxy URL had no scheme, should start with http:// or https://")
      expect(Errors.isURLSchemeUnknown(none)).toBe(true)
    })
  )

  it.scopedLive("http targets share one pool on the proxy, in absolute form with Host and Accept", () =>
    Effect.gen(function* () {
      const proxy = yield* Proxy.start()
      const a = yield* Servers.http(Servers.echo)
      const b = yield* Servers.http(Servers.echo)
      yield* withManager(proxy.url, { proxyHeaders: { "X-Proxy-Note": "for the proxy" } }, (manager) =>
        Effect.gen(function* () {
          const first = echoed((yield* manager.request("GET", `${a.url}/one?x=1#frag`)).text)
          const second = echoed((yield* manager.request("GET", `${b.url}/two`)).text)
          expect((yield* manager.pools).size).toBe(1)
          expect(proxy.seen).toEqual([`GET ${a.url}/one?x=1`, `GET ${b.url}/two`])
          expect(proxy.headers[0].host).toBe(`127.0.0.1:${a.port}`)
          expect(proxy.headers[0].accept).toBe("*/*")
          expect(proxy.headers[0]["x-proxy-note"]).toBe("for the proxy")
          expect(first.url).toBe("/one?x=1")
          expect(headerOf(first.rawHeaders, "host")).toBe(`127.0.0.1:${a.port}`)
          expect(second.url).toBe("/two")
        })
      )
    })
  )

  it.scopedLive("https targets get one tunnel pool each; proxy headers go only in the CONNECT", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start()
      const plain = yield* Servers.http(Servers.echo)
      const secureA = yield* Servers.https(Servers.echo)
      const secureB = yield* Servers.https(Servers.echo)
      yield* withManager(
        proxy.url,
        { proxyHeaders: { "X-Proxy-Secret": "s3cret" }, connectionPoolKw: { caCerts: certs.ca.certPath } },
        (manager) =>
          Effect.gen(function* () {
            yield* manager.request("GET", `${plain.url}/`)
            yield* manager.request("GET", `${plain.url}/again`)
            expect((yield* manager.pools).size).toBe(1)
            const tunnelled = echoed((yield* manager.request("GET", `https://localhost:${secureA.port}/a?q=1`)).text)
            yield* manager.request("GET", `https://localhost:${secureA.port}/b`)
            yield* manager.request("GET", `https://localhost:${secureA.port}/c`)
            yield* manager.request("GET", `https://localhost:${secureB.port}/`)
            expect((yield* manager.pools).size).toBe(3)
            // One CONNECT per tunnel, kept alive across requests.
            expect(proxy.connects()).toBe(2)
            expect(proxy.seen.filter((line) => line.startsWith("CONNECT"))).toEqual([
              `CONNECT localhost:${secureA.port}`,
              `CONNECT localhost:${secureB.port}`
            ])
            const connect = proxy.headers[proxy.seen.indexOf(`CONNECT localhost:${secureA.port}`)]
            expect(connect["x-proxy-secret"]).toBe("s3cret")
            expect(tunnelled.url).toBe("/a?q=1")
            expect(headerOf(tunnelled.rawHeaders, "host")).toBe(`localhost:${secureA.port}`)
            for (const request of [...secureA.requests, ...secureB.requests]) {
              expect(request.headers["x-proxy-secret"]).toBeUndefined()
              expect(request.headers["proxy-authorization"]).toBeUndefined()
            }
            expect(secureA.socketsOpened()).toBe(1)
          })
      )
    })
  )

  it.scopedLive("credentials in the proxy URL become Proxy-Authorization; a refused CONNECT is ProxyError 407", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start({ credentials: "user:pa ss" })
      const plain = yield* Servers.http(Servers.fixed("through"))
      const secure = yield* Servers.https(Servers.fixed("tunnelled"))
      const kw = { connectionPoolKw: { caCerts: certs.ca.certPath } }
      const authed = `http://user:pa%20ss@127.0.0.1:${proxy.port}`
      yield* withManager(authed, kw, (manager) =>
        Effect.gen(function* () {
          expect((yield* manager.request("GET", `${plain.url}/`)).text).toBe("through")
          expect((yield* manager.request("GET", `https://localhost:${secure.port}/`)).text).toBe("tunnelled")
        })
      )
      yield* withManager(proxy.url, kw, (manager) =>
        Effect.gen(function* () {
          const forwarded = yield* manager.request("GET", `${plain.url}/`)
          expect(forwarded.status).toBe(407)
          const refused = yield* Effect.flip(
            manager.request("GET", `https://localhost:${secure.port}/`, { retries: false })
          )
          expect(refused._tag).toBe("ProxyError")
          if (refused._tag === "ProxyError") {
            expect(refused.status).toBe(407)
            expect(refused.message).toBe("Tunnel connection failed: 407 Proxy Authentication Required")
            expect(refused.proxyAuthenticate).toContain("Basic")
          }
          const wrapped = yield* Effect.flip(
            manager.request("GET", `https://localhost:${secure.port}/`, { retries: 1 })
          )
          expect(wrapped._tag).toBe("MaxRetryError")
          if (wrapped._tag === "MaxRetryError") expect(wrapped.reason?._tag).toBe("ProxyError")
          expect(wrapped.message).not.toContain("pa ss")
        })
      )
    })
  )

  it.scopedLive("an unreachable proxy is ProxyError wrapping NewConnectionError, a connect error for Retry", () =>
    Effect.gen(function* () {
      const port = yield* Servers.closedPort
      yield* withManager(`http://127.0.0.1:${port}`, {}, (manager) =>
        Effect.gen(function* () {
          for (const target of ["http://127.0.0.1:9/", "https://localhost:9/"]) {
            const bare = yield* Effect.flip(manager.request("GET", target, { retries: false }))
            expect(bare._tag).toBe("ProxyError")
            if (bare._tag === "ProxyError") expect(bare.error?._tag).toBe("NewConnectionError")
            const wrapped = yield* Effect.flip(manager.request("GET", target, { retries: { total: 5, connect: 1 } }))
            expect(wrapped._tag).toBe("MaxRetryError")
            if (wrapped._tag === "MaxRetryError") expect(wrapped.reason?._tag).toBe("ProxyError")
          }
        })
      )
    })
  )

  it.scopedLive("a read timeout from the target through the proxy stays ReadTimeoutError", () =>
    Effect.gen(function* () {
      const proxy = yield* Proxy.start()
      const slow = yield* Servers.http(Servers.slowHeaders(1000))
      yield* withManager(proxy.url, {}, (manager) =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(manager.request("GET", `${slow.url}/`, { retries: false, timeout: 0.1 }))
          expect(error._tag).toBe("ReadTimeoutError")
        })
      )
    })
  )

  it.scopedLive("cross-host redirects through the proxy strip credentials; same-target redirects keep them", () =>
    Effect.gen(function* () {
      const proxy = yield* Proxy.start()
      const other = yield* Servers.http(Servers.echo)
      const origin = yield* Servers.http((req, res, received) => {
        if (req.url === "/away") {
          res.writeHead(302, { Location: `${other.url}/landed` })
          res.end()
        } else if (req.url === "/near") {
          res.writeHead(302, { Location: "/landed" })
          res.end()
        } else Servers.echo(req, res, received)
      })
      yield* withManager(proxy.url, {}, (manager) =>
        Effect.gen(function* () {
          const secret = { Authorization: "Bearer t", Cookie: "c=1", "X-Keep": "k" }
          const away = echoed((yield* manager.request("GET", `${origin.url}/away`, { headers: secret })).text)
          expect(headerOf(away.rawHeaders, "authorization")).toBeUndefined()
          expect(headerOf(away.rawHeaders, "cookie")).toBeUndefined()
          expect(headerOf(away.rawHeaders, "x-keep")).toBe("k")
          const near = echoed((yield* manager.request("GET", `${origin.url}/near`, { headers: secret })).text)
          expect(headerOf(near.rawHeaders, "authorization")).toBe("Bearer t")
          expect(headerOf(near.rawHeaders, "cookie")).toBe("c=1")
        })
      )
    })
  )

  it.scopedLive("an https proxy: TLS to the proxy, TLS inside TLS to https targets, or forwarding https", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.startHttps
      const plain = yield* Servers.http(Servers.echo)
      const secure = yield* Servers.https(Servers.echo)
      const options = { proxyCaCerts: certs.ca.certPath, connectionPoolKw: { caCerts: certs.ca.certPath } }
      yield* withManager(proxy.url, options, (manager) =>
        Effect.gen(function* () {
          const forwarded = echoed((yield* manager.request("GET", `${plain.url}/plain`)).text)
          expect(forwarded.url).toBe("/plain")
          const tunnelled = echoed((yield* manager.request("GET", `https://localhost:${secure.port}/inner`)).text)
          expect(tunnelled.url).toBe("/inner")
          expect(proxy.seen).toEqual([`GET ${plain.url}/plain`, `CONNECT localhost:${secure.port}`])
        })
      )
      yield* withManager(proxy.url, { ...options, useForwardingForHttps: true }, (manager) =>
        Effect.gen(function* () {
          const direct = echoed((yield* manager.request("GET", `https://localhost:${secure.port}/forwarded`)).text)
          expect(direct.url).toBe("/forwarded")
          expect(proxy.seen.at(-1)).toBe(`GET https://localhost:${secure.port}/forwarded`)
          expect(proxy.connects()).toBe(1)
        })
      )
    })
  )

  it.scopedLive("an https:// proxy URL pointing at a plain-HTTP proxy says so in its error", () =>
    Effect.gen(function* () {
      const proxy = yield* Proxy.start()
      yield* withManager(`https://127.0.0.1:${proxy.port}`, {}, (manager) =>
        Effect.gen(function* () {
          for (const target of ["http://127.0.0.1:9/", "https://localhost:9/"]) {
            const error = yield* Effect.flip(manager.request("GET", target, { retries: false }))
            expect(error._tag).toBe("ProxyError")
            if (error._tag === "ProxyError") expect(error.error?._tag).toBe("SSLError")
            expect(error.message).toContain("Your proxy appears to only use HTTP and not HTTPS")
          }
        })
      )
    })
  )

  it.scopedLive("a TLS failure talking to the proxy is ProxyError caused by SSLError", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.startHttps
      yield* withManager(proxy.url, { proxyCaCerts: certs.selfSigned.certPath }, (manager) =>
        Effect.gen(function* () {
          for (const target of ["http://127.0.0.1:9/", "https://localhost:9/"]) {
            const error = yield* Effect.flip(manager.request("GET", target, { retries: false }))
            expect(error._tag).toBe("ProxyError")
            if (error._tag === "ProxyError") expect(error.error?._tag).toBe("SSLError")
          }
        })
      )
    })
  )

  it.live("NodeProxyManager.layer provides it under the PoolManager tag; its Scope closes every socket", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const proxy = yield* Scope.extend(Proxy.start(), scope)
      const origin = yield* Scope.extend(Servers.http(Servers.fixed("ok")), scope)
      const status = yield* Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        return (yield* manager.request("GET", `${origin.url}/`)).status
      }).pipe(Effect.provide(NodeProxyManager.layer(proxy.url)))
      expect(status).toBe(200)
      yield* origin.waitForOpenSockets(0)
      yield* Scope.close(scope, Exit.void)
    })
  )

  it.scopedLive("a tunnel is kept alive across requests; when it closes, the next request sends a new CONNECT", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start()
      const steady = yield* Servers.https(Servers.echo)
      // This origin closes each keep-alive socket 50 ms after its response, which ends the tunnel.
      const closing = yield* Servers.https((req, res, received) => {
        res.once("finish", () => setTimeout(() => req.socket.destroy(), 50))
        Servers.echo(req, res, received)
      })
      // This one announces `Keep-Alive: timeout=0` (node:http's hint for a 50 ms keepAliveTimeout).
      const brief = yield* Servers.https(Servers.echo, { keepAliveTimeout: 50 })
      const connects = () => proxy.seen.filter((line) => line.startsWith("CONNECT"))
      yield* withManager(proxy.url, { connectionPoolKw: { caCerts: certs.ca.certPath } }, (manager) =>
        Effect.gen(function* () {
          for (const path of ["/1", "/2", "/3"]) {
            const answer = echoed((yield* manager.request("GET", `https://localhost:${steady.port}${path}`)).text)
            expect(answer.url).toBe(path)
            expect(answer.socketId).toBe(1)
          }
          expect(connects()).toEqual([`CONNECT localhost:${steady.port}`])

          // The origin closes the tunnel's socket.
          expect((yield* manager.request("GET", `https://localhost:${closing.port}/before`)).status).toBe(200)
          // Whether the client has seen the close yet or not, the next request gets a new
          // tunnel: a connection found closed at checkout is replaced, and a GET that fails on
          // it before any byte of an answer is replayed on a fresh one.
          yield* closing.waitForOpenSockets(0)
          const after = echoed(
            (yield* manager.request("GET", `https://localhost:${closing.port}/after`, { retries: false })).text
          )
          expect(after.url).toBe("/after")
          expect(after.socketId).toBe(2)
          expect(connects().slice(1)).toEqual([
            `CONNECT localhost:${closing.port}`,
            `CONNECT localhost:${closing.port}`
          ])

          // The origin's keep-alive timeout of 50 ms.
          expect((yield* manager.request("GET", `https://localhost:${brief.port}/before`)).status).toBe(200)
          yield* brief.waitForOpenSockets(0)
          const late = echoed(
            (yield* manager.request("GET", `https://localhost:${brief.port}/after`, { retries: false })).text
          )
          expect(late.url).toBe("/after")
          expect(late.socketId).toBe(2)
          expect(connects().slice(3)).toEqual([`CONNECT localhost:${brief.port}`, `CONNECT localhost:${brief.port}`])

          // The proxy drops the tunnel.
          proxy.dropTunnels()
          const again = echoed(
            (yield* manager.request("GET", `https://localhost:${steady.port}/again`, { retries: false })).text
          )
          expect(again.url).toBe("/again")
          expect(again.socketId).toBe(2)
          expect(connects().slice(5)).toEqual([`CONNECT localhost:${steady.port}`])
          expect((yield* manager.pools).size).toBe(3)
        })
      )
    })
  )

  it.scopedLive(
    "a CONNECT the proxy cannot complete is ProxyError with its status, in MaxRetryError with retries",
    () =>
      Effect.gen(function* () {
        const proxy = yield* Proxy.start()
        const closed = yield* Servers.closedPort
        const target = `https://127.0.0.1:${closed}/`
        yield* withManager(proxy.url, {}, (manager) =>
          Effect.gen(function* () {
            // The `proxy` package answers 500 when it cannot reach the target.
            const bare = yield* Effect.flip(manager.request("GET", target, { retries: false }))
            expect(bare._tag).toBe("ProxyError")
            if (bare._tag === "ProxyError") {
              expect(bare.status).toBe(500)
              expect(bare.message).toBe("Tunnel connection failed: 500 Internal Server Error")
              expect(bare.proxyAuthenticate).toBeUndefined()
            }
            expect(proxy.connects()).toBe(1)
            const wrapped = yield* Effect.flip(manager.request("GET", target, { retries: 1 }))
            expect(wrapped._tag).toBe("MaxRetryError")
            if (wrapped._tag === "MaxRetryError") {
              expect(wrapped.reason?._tag).toBe("ProxyError")
              expect(wrapped.reason?.message).toBe("Tunnel connection failed: 500 Internal Server Error")
            }
            expect(wrapped.message).toContain("Tunnel connection failed: 500 Internal Server Error")
            // Tried, then retried once.
            expect(proxy.connects()).toBe(3)
            // A refused tunnel is no connect error: it counts as "other" for Retry, as in urllib3.
            const other = yield* Effect.flip(manager.request("GET", target, { retries: { total: 5, other: 0 } }))
            expect(other._tag).toBe("MaxRetryError")
            expect(proxy.connects()).toBe(4)
          })
        )
      })
  )

  it.scopedLive("any non-2xx CONNECT answer fails the tunnel: 501 Not Implemented", () =>
    Effect.gen(function* () {
      const refusing = yield* Servers.raw((socket) => {
        socket.once("data", () => socket.end("HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n"))
      })
      yield* withManager(`http://127.0.0.1:${refusing.port}`, {}, (manager) =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(manager.request("GET", "https://localhost:9/", { retries: false }))
          expect(error._tag).toBe("ProxyError")
          if (error._tag === "ProxyError") {
            expect(error.status).toBe(501)
            expect(error.error).toBeNull()
          }
          expect(error.message).toBe("Tunnel connection failed: 501 Not Implemented")
        })
      )
    })
  )

  it.scopedLive("IPv6 targets: CONNECT [::1]:port is bracketed, http://[::1]:port/ is forwarded", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start()
      const secure = yield* Servers.https(Servers.echo, { host: "::1" })
      const plain = yield* Servers.http(Servers.echo, { host: "::1" })
      yield* withManager(proxy.url, { connectionPoolKw: { caCerts: certs.ca.certPath } }, (manager) =>
        Effect.gen(function* () {
          const tunnelled = echoed((yield* manager.request("GET", `https://[::1]:${secure.port}/six?x=1`)).text)
          expect(tunnelled.url).toBe("/six?x=1")
          expect(headerOf(tunnelled.rawHeaders, "host")).toBe(`[::1]:${secure.port}`)
          expect(proxy.seen).toEqual([`CONNECT [::1]:${secure.port}`])
          expect(proxy.headers[0].host).toBe(`[::1]:${secure.port}`)
          const forwarded = echoed((yield* manager.request("GET", `${plain.url}/plain`)).text)
          expect(forwarded.url).toBe("/plain")
          expect(proxy.seen.at(-1)).toBe(`GET http://[::1]:${plain.port}/plain`)
          expect(proxy.headers.at(-1)?.host).toBe(`[::1]:${plain.port}`)
          expect(headerOf(forwarded.rawHeaders, "host")).toBe(`[::1]:${plain.port}`)
          const pools = yield* manager.pools
          expect(pools.keys.map((key) => [key.scheme, key.host, key.port])).toEqual(
            expect.arrayContaining([
              ["http", "127.0.0.1", proxy.port],
              // Pool keys keep IPv6 literals in brackets, as urllib3's do.
              ["https", "[::1]", secure.port]
            ])
          )
        })
      )
    })
  )

  it.scopedLive("a proxy on ::1 is reached at [::1] for forwarding and tunnelling", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start({ host: "::1" })
      expect(proxy.url).toBe(`http://[::1]:${proxy.port}`)
      const plain = yield* Servers.http(Servers.fixed("plain"))
      const secure = yield* Servers.https(Servers.fixed("secure"))
      yield* withManager(proxy.url, { connectionPoolKw: { caCerts: certs.ca.certPath } }, (manager) =>
        Effect.gen(function* () {
          expect((yield* manager.request("GET", `${plain.url}/`)).text).toBe("plain")
          expect((yield* manager.request("GET", `https://localhost:${secure.port}/`)).text).toBe("secure")
          expect(proxy.seen).toEqual([`GET ${plain.url}/`, `CONNECT localhost:${secure.port}`])
        })
      )
    })
  )

  it.scopedLive("scheme and host are case-insensitive in the proxy URL and in targets", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start()
      const plain = yield* Servers.http(Servers.echo)
      const secure = yield* Servers.https(Servers.echo)
      const upper = `HTTP://127.0.0.1:${proxy.port}`
      yield* withManager(upper, { connectionPoolKw: { caCerts: certs.ca.certPath } }, (manager) =>
        Effect.gen(function* () {
          const loud = echoed((yield* manager.request("GET", `HTTP://LOCALHOST:${plain.port}/a`)).text)
          yield* manager.request("GET", `http://localhost:${plain.port}/b`)
          expect(loud.url).toBe("/a")
          expect(proxy.seen).toEqual([`GET http://localhost:${plain.port}/a`, `GET http://localhost:${plain.port}/b`])
          expect(proxy.headers[0].host).toBe(`localhost:${plain.port}`)
          expect((yield* manager.pools).size).toBe(1)
          const loudPool = yield* manager.connectionFromUrl(`HTTP://LOCALHOST:${plain.port}/`)
          const quietPool = yield* manager.connectionFromUrl(`http://localhost:${plain.port}/`)
          expect(loudPool).toBe(quietPool)
          expect([loudPool.scheme, loudPool.host, loudPool.port]).toEqual(["http", "127.0.0.1", proxy.port])

          yield* manager.request("GET", `HTTPS://LOCALHOST:${secure.port}/c`)
          yield* manager.request("GET", `https://localhost:${secure.port}/d`)
          expect((yield* manager.pools).size).toBe(2)
          expect(proxy.connects()).toBe(1)
          expect(proxy.seen.at(-1)).toBe(`CONNECT localhost:${secure.port}`)
          expect(secure.requests.map((request) => request.url)).toEqual(["/c", "/d"])
          const tunnelPool = yield* manager.connectionFromHost("LOCALHOST", secure.port, "HTTPS")
          expect(tunnelPool).toBe(yield* manager.connectionFromUrl(`https://localhost:${secure.port}/`))
          expect((yield* manager.pools).size).toBe(2)
        })
      )
    })
  )

  it.scopedLive("the proxy's credentials appear in no error message and no printed error", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const port = yield* Servers.closedPort
      for (const proxyUrl of [credentialed("http", port), credentialed("https", port)]) {
        yield* withManager(proxyUrl, { connectionPoolKw: { caCerts: certs.ca.certPath } }, (manager) =>
          Effect.gen(function* () {
            for (const target of ["http://127.0.0.1:9/x", "https://localhost:9/y"]) {
              for (const retries of [false, 1] as const) {
                const error = yield* Effect.flip(manager.request("GET", target, { retries }))
                expect(error._tag).toBe(retries === false ? "ProxyError" : "MaxRetryError")
                const texts = [error.message, ...printed(error), Cause.pretty(Cause.fail(error))]
                if (error._tag === "MaxRetryError" && error.reason !== null) texts.push(...printed(error.reason))
                for (const text of texts) expect(leaksCredentials(text), text).toBe(false)
              }
            }
          })
        )
      }
      const bad = yield* Effect.flip(
        Effect.scoped(
          ProxyManager.make(`ftp://user:${proxySecret}@127.0.0.1:21`).pipe(Effect.provide(NodeConnector.layer))
        )
      )
      expect(bad._tag).toBe("ProxySchemeUnknown")
      for (const text of [bad.message, ...printed(bad)]) expect(leaksCredentials(text), text).toBe(false)
    })
  )

  // A pool key prints its header pairs with credentials redacted, as Headers does.
  it.scopedLive("the proxy's credentials appear in no printed pool key", () =>
    Effect.gen(function* () {
      const proxy = yield* Proxy.start({ credentials: `user:${proxySecret}` })
      const origin = yield* Servers.http(Servers.fixed("ok"))
      yield* withManager(credentialed("http", proxy.port), {}, (manager) =>
        Effect.gen(function* () {
          expect((yield* manager.request("GET", `${origin.url}/`)).status).toBe(200)
          const pools = yield* manager.pools
          expect(pools.size).toBe(1)
          for (const key of pools.keys) {
            for (const text of printed(key)) expect(leaksCredentials(text), text).toBe(false)
          }
        })
      )
    })
  )

  it.scopedLive("connectionFromUrl and connectionFromHost give the pools urlopen uses: the proxy's for http", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start()
      const a = yield* Servers.http(Servers.fixed("a"))
      const b = yield* Servers.http(Servers.fixed("b"))
      const secureA = yield* Servers.https(Servers.fixed("sa"))
      const secureB = yield* Servers.https(Servers.fixed("sb"))
      yield* withManager(proxy.url, { connectionPoolKw: { caCerts: certs.ca.certPath } }, (manager) =>
        Effect.gen(function* () {
          const fromA = yield* manager.connectionFromUrl(`${a.url}/path`)
          const fromB = yield* manager.connectionFromHost("127.0.0.1", b.port, "http")
          expect(fromA).toBe(fromB)
          expect([fromA.scheme, fromA.host, fromA.port]).toEqual(["http", "127.0.0.1", proxy.port])
          expect((yield* manager.pools).size).toBe(1)
          const tunnelA = yield* manager.connectionFromUrl(`https://localhost:${secureA.port}/`)
          const tunnelB = yield* manager.connectionFromHost("localhost", secureB.port, "https")
          expect(tunnelA).not.toBe(tunnelB)
          expect([tunnelA.scheme, tunnelA.host, tunnelA.port]).toEqual(["https", "localhost", secureA.port])
          expect([tunnelB.scheme, tunnelB.host, tunnelB.port]).toEqual(["https", "localhost", secureB.port])
          expect((yield* manager.pools).size).toBe(3)

          expect((yield* manager.request("GET", `${a.url}/`)).text).toBe("a")
          expect((yield* manager.request("GET", `${b.url}/`)).text).toBe("b")
          expect((yield* manager.request("GET", `https://localhost:${secureA.port}/`)).text).toBe("sa")
          expect((yield* manager.request("GET", `https://localhost:${secureB.port}/`)).text).toBe("sb")
          expect((yield* manager.request("GET", `https://localhost:${secureB.port}/`)).text).toBe("sb")
          expect((yield* manager.pools).size).toBe(3)
          // The requests went through the very pools handed out above.
          expect((yield* fromA.stats).numRequests).toBe(2)
          expect((yield* tunnelA.stats).numRequests).toBe(1)
          expect((yield* tunnelB.stats).numRequests).toBe(2)
          expect((yield* tunnelB.stats).numConnections).toBe(1)
          // A connection pool's own urlopen on the proxy pool forwards too.
          const direct = yield* fromA.urlopen("GET", `${a.url}/direct`, {
            headers: { Host: `127.0.0.1:${a.port}` },
            assertSameHost: false
          })
          expect(direct.text).toBe("a")
          expect(proxy.seen.at(-1)).toBe(`GET ${a.url}/direct`)
        })
      )
    })
  )

  it.scopedLive("proxy headers are merged into forwarded requests; the caller's Accept and Host are kept", () =>
    Effect.gen(function* () {
      const proxy = yield* Proxy.start()
      const origin = yield* Servers.http(Servers.echo)
      yield* withManager(
        proxy.url,
        { proxyHeaders: { "X-Proxy-Note": "for the proxy" }, headers: { "X-Default": "d" } },
        (manager) =>
          Effect.gen(function* () {
            const custom = echoed(
              (yield* manager.request("GET", `${origin.url}/custom`, {
                headers: { Accept: "application/json", "X-User": "u", "X-Proxy-Note": "from the caller" }
              })).text
            )
            const sent = proxy.headers[0]
            expect(sent.accept).toBe("application/json")
            expect(sent["x-user"]).toBe("u")
            // A proxy header replaces a request header of the same name.
            expect(sent["x-proxy-note"]).toBe("for the proxy")
            expect(sent.host).toBe(`127.0.0.1:${origin.port}`)
            // Request headers replace the manager's defaults, as without a proxy.
            expect(sent["x-default"]).toBeUndefined()
            expect(headerOf(custom.rawHeaders, "accept")).toBe("application/json")

            yield* manager.request("GET", `${origin.url}/defaults`)
            const defaults = proxy.headers[1]
            expect(defaults.accept).toBe("*/*")
            expect(defaults["x-default"]).toBe("d")
            expect(defaults["x-proxy-note"]).toBe("for the proxy")

            yield* manager.request("GET", `${origin.url}/host`, { headers: { Host: "named.example" } })
            expect(proxy.headers[2].host).toBe("named.example")
            expect(proxy.seen[2]).toBe(`GET ${origin.url}/host`)
          })
      )
    })
  )

  it.scopedLive("a streamed response through a tunnel, then the tunnel serves the next request", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start()
      const size = 1024 * 1024
      const big = Servers.streamed(size)
      const secure = yield* Servers.https(big.handler)
      yield* withManager(proxy.url, { connectionPoolKw: { caCerts: certs.ca.certPath } }, (manager) =>
        Effect.gen(function* () {
          const url = `https://localhost:${secure.port}/big`
          const { chunks, bytes } = yield* Effect.scoped(
            Effect.gen(function* () {
              const response = yield* manager.request("GET", url, { preloadContent: false })
              expect(response.status).toBe(200)
              const collected = yield* Stream.runCollect(response.stream)
              return { chunks: collected.length, bytes: Buffer.concat(Array.from(collected)) }
            })
          )
          expect(chunks).toBeGreaterThan(1)
          expect(bytes.length).toBe(size)
          expect(Buffer.compare(bytes, Buffer.from(Servers.patternBytes(size)))).toBe(0)
          const again = yield* manager.request("GET", url)
          expect(again.data.length).toBe(size)
          expect(proxy.connects()).toBe(1)
          expect(secure.socketsOpened()).toBe(1)
        })
      )
    })
  )

  it.scopedLive("a POST body goes through a forwarded request and through a tunnel", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start()
      const plain = yield* Servers.http(Servers.echo)
      const secure = yield* Servers.https(Servers.echo)
      yield* withManager(proxy.url, { connectionPoolKw: { caCerts: certs.ca.certPath } }, (manager) =>
        Effect.gen(function* () {
          const forwarded = echoed(
            (yield* manager.request("POST", `${plain.url}/submit`, {
              body: "name=wheat&qty=3",
              headers: { "Content-Type": "application/x-www-form-urlencoded" }
            })).text
          )
          expect(proxy.seen[0]).toBe(`POST ${plain.url}/submit`)
          expect(proxy.headers[0]["content-length"]).toBe("16")
          expect(forwarded.method).toBe("POST")
          expect(forwarded.body).toBe("name=wheat&qty=3")
          expect(headerOf(forwarded.rawHeaders, "content-type")).toBe("application/x-www-form-urlencoded")

          const json = echoed(
            (yield* manager.request("PUT", `https://localhost:${secure.port}/put`, { json: { grain: "wheat" } })).text
          )
          expect(json.method).toBe("PUT")
          expect(json.body).toBe('{"grain":"wheat"}')
          expect(headerOf(json.rawHeaders, "content-type")).toBe("application/json")
          const streamed = echoed(
            (yield* manager.request("POST", `https://localhost:${secure.port}/stream`, {
              body: Stream.make("ab", "cd").pipe(Stream.map((s) => new TextEncoder().encode(s)))
            })).text
          )
          expect(streamed.body).toBe("abcd")
          expect(headerOf(streamed.rawHeaders, "transfer-encoding")).toBe("chunked")
          expect(proxy.connects()).toBe(1)
        })
      )
    })
  )

  it.scopedLive(
    "once the tunnel is up, TLS to the target fails as it would directly: SSLError, ConnectTimeoutError",
    () =>
      Effect.gen(function* () {
        const certs = yield* Certs.certs
        const proxy = yield* Proxy.start()
        const wrongName = yield* Servers.https(Servers.fixed("x"), {
          tls: { key: certs.otherHost.key, cert: certs.otherHost.cert }
        })
        // Accepts the tunnelled TCP connection and never answers the TLS handshake.
        const silent = yield* Servers.raw()
        // Accepts the CONNECT's TCP connection and never answers it.
        const mute = yield* Servers.raw()
        const timeout = { connect: 0.2, read: 5 }
        yield* withManager(proxy.url, { connectionPoolKw: { caCerts: certs.ca.certPath } }, (manager) =>
          Effect.gen(function* () {
            const mismatch = yield* Effect.flip(
              manager.request("GET", `https://localhost:${wrongName.port}/`, { retries: false })
            )
            expect(mismatch._tag).toBe("SSLError")
            const stalled = yield* Effect.flip(
              manager.request("GET", `https://localhost:${silent.port}/`, { retries: false, timeout })
            )
            expect(stalled._tag).toBe("ConnectTimeoutError")
            expect(stalled.message).toBe("Connection to localhost timed out. (connect timeout=0.2)")
            expect(proxy.connects()).toBe(2)
          })
        )
        yield* withManager(`http://127.0.0.1:${mute.port}`, {}, (manager) =>
          Effect.gen(function* () {
            const unanswered = yield* Effect.flip(
              manager.request("GET", `https://localhost:${silent.port}/`, { retries: false, timeout })
            )
            expect(unanswered._tag).toBe("ProxyError")
            if (unanswered._tag === "ProxyError") {
              expect(unanswered.error?._tag).toBe("ConnectTimeoutError")
              expect(unanswered.error?.message).toBe("Connection to 127.0.0.1 timed out. (connect timeout=0.2)")
            }
            expect(unanswered.message).toBe("Unable to connect to proxy: no tunnel within 200 ms")
            const counted = yield* Effect.flip(
              manager.request("GET", `https://localhost:${silent.port}/`, {
                retries: { total: 5, connect: 1 },
                timeout
              })
            )
            expect(counted._tag).toBe("MaxRetryError")
            expect(mute.socketsOpened()).toBe(3)
          })
        )
      })
  )

  it.scopedLive("proxy URL credentials: parts percent-decoded, a user alone is `user:`, proxyHeaders win", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const secure = yield* Servers.https(Servers.fixed("tunnelled"))
      const plain = yield* Servers.http(Servers.fixed("forwarded"))
      const kw = { connectionPoolKw: { caCerts: certs.ca.certPath } }
      const both = (manager: PoolManager.Service) =>
        Effect.gen(function* () {
          expect((yield* manager.request("GET", `${plain.url}/`)).text).toBe("forwarded")
          expect((yield* manager.request("GET", `https://localhost:${secure.port}/`)).text).toBe("tunnelled")
        })
      const userOnly = yield* Proxy.start({ credentials: "user:" })
      yield* withManager(`http://user@127.0.0.1:${userOnly.port}`, kw, both)
      expect(userOnly.headers.map((headers) => headers["proxy-authorization"])).toEqual([
        `Basic ${Buffer.from("user:").toString("base64")}`,
        `Basic ${Buffer.from("user:").toString("base64")}`
      ])
      const encoded = yield* Proxy.start({ credentials: "us@er:p:w é" })
      yield* withManager(`http://us%40er:p%3Aw%20%C3%A9@127.0.0.1:${encoded.port}`, kw, both)
      const explicit = yield* Proxy.start({ credentials: "right:one" })
      const header = `Basic ${Buffer.from("right:one").toString("base64")}`
      yield* withManager(
        `http://wrong:one@127.0.0.1:${explicit.port}`,
        { ...kw, proxyHeaders: { "Proxy-Authorization": header } },
        both
      )
      expect(explicit.headers.map((headers) => headers["proxy-authorization"])).toEqual([header, header])
    })
  )

  it.scopedLive("a forwarded response's url is the target's URL", () =>
    Effect.gen(function* () {
      const proxy = yield* Proxy.start()
      const plain = yield* Servers.http(Servers.fixed("ok"))
      yield* withManager(proxy.url, {}, (manager) =>
        Effect.gen(function* () {
          const response = yield* manager.request("GET", `${plain.url}/p?q=1`)
          expect(response.text).toBe("ok")
          expect(response.url).toBe(`${plain.url}/p?q=1`)
        })
      )
    })
  )

  it.scopedLive("the proxy port defaults by the proxy's scheme; pool keys name the proxy without credentials", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const kw = { connectionPoolKw: { caCerts: certs.ca.certPath } }
      yield* withManager("HTTP://user:pw@127.0.0.1", kw, (manager) =>
        Effect.gen(function* () {
          const forwarding = yield* manager.connectionFromUrl("http://example.com/")
          expect([forwarding.scheme, forwarding.host, forwarding.port]).toEqual(["http", "127.0.0.1", 80])
          yield* manager.connectionFromUrl("https://example.com/")
          const keys = (yield* manager.pools).keys
          expect(keys.map((key) => key.proxy)).toEqual(["http://127.0.0.1:80", "http://127.0.0.1:80"])
          expect(keys.map((key) => [key.scheme, key.host, key.port])).toEqual([
            ["http", "127.0.0.1", 80],
            ["https", "example.com", 443]
          ])
        })
      )
      yield* withManager("https://127.0.0.1", kw, (manager) =>
        Effect.gen(function* () {
          const forwarding = yield* manager.connectionFromHost("example.com", 8080, "http")
          expect([forwarding.scheme, forwarding.host, forwarding.port]).toEqual(["https", "127.0.0.1", 443])
          const [key] = (yield* manager.pools).keys
          expect(key.proxy).toBe("https://127.0.0.1:443")
        })
      )
    })
  )

  it.scopedLive("a redirect from an http target to an https one moves from the proxy's pool into a tunnel", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start({ credentials: "user:pw" })
      const secure = yield* Servers.https(Servers.echo)
      const origin = yield* Servers.http((_req, res) => {
        res.writeHead(302, { Location: `https://localhost:${secure.port}/landed`, "Content-Length": 0 })
        res.end()
      })
      yield* withManager(
        `http://user:pw@127.0.0.1:${proxy.port}`,
        { connectionPoolKw: { caCerts: certs.ca.certPath } },
        (manager) =>
          Effect.gen(function* () {
            const response = yield* manager.request("GET", `${origin.url}/start`, {
              headers: { Authorization: "Bearer t", "X-Keep": "k" }
            })
            expect(response.status).toBe(200)
            expect(response.url).toBe(`https://localhost:${secure.port}/landed`)
            expect(response.retries?.history.map((entry) => entry.status)).toEqual([302])
            const landed = echoed(response.text)
            expect(landed.url).toBe("/landed")
            expect(headerOf(landed.rawHeaders, "authorization")).toBeUndefined()
            expect(headerOf(landed.rawHeaders, "x-keep")).toBe("k")
            expect(headerOf(landed.rawHeaders, "proxy-authorization")).toBeUndefined()
            expect(proxy.seen).toEqual([`GET ${origin.url}/start`, `CONNECT localhost:${secure.port}`])
            // The proxy's own credentials are not request headers: the CONNECT still has them.
            const basic = `Basic ${Buffer.from("user:pw").toString("base64")}`
            expect(proxy.headers.map((headers) => headers["proxy-authorization"])).toEqual([basic, basic])
            expect((yield* manager.pools).size).toBe(2)
          })
      )
    })
  )

  it.scopedLive("with useForwardingForHttps, https targets share the https proxy's one pool with http targets", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.startHttps
      const plain = yield* Servers.http(Servers.echo)
      const secureA = yield* Servers.https(Servers.echo)
      const secureB = yield* Servers.https(Servers.echo)
      const options = {
        proxyCaCerts: certs.ca.certPath,
        proxyHeaders: { "X-Proxy-Note": "n" },
        useForwardingForHttps: true
      }
      yield* withManager(proxy.url, options, (manager) =>
        Effect.gen(function* () {
          yield* manager.request("GET", `${plain.url}/p`)
          yield* manager.request("GET", `https://localhost:${secureA.port}/a`)
          yield* manager.request("GET", `https://localhost:${secureB.port}/b`)
          const pools = yield* manager.pools
          expect(pools.keys.map((key) => [key.scheme, key.host, key.port])).toEqual([
            ["https", "localhost", proxy.port]
          ])
          expect(proxy.seen).toEqual([
            `GET ${plain.url}/p`,
            `GET https://localhost:${secureA.port}/a`,
            `GET https://localhost:${secureB.port}/b`
          ])
          expect(proxy.headers.map((headers) => headers["x-proxy-note"])).toEqual(["n", "n", "n"])
          expect(proxy.headers[1].host).toBe(`localhost:${secureA.port}`)
          expect(proxy.connects()).toBe(0)
        })
      )
      // With an http proxy the option changes nothing: https targets are tunnelled.
      const plainProxy = yield* Proxy.start()
      yield* withManager(
        plainProxy.url,
        { useForwardingForHttps: true, connectionPoolKw: { caCerts: certs.ca.certPath } },
        (manager) =>
          Effect.gen(function* () {
            yield* manager.request("GET", `https://localhost:${secureA.port}/t`)
            expect(plainProxy.seen).toEqual([`CONNECT localhost:${secureA.port}`])
          })
      )
    })
  )
})
