/**
 * The routes a SOCKS proxy URL makes: which `Connector.SocksHop` each pool's connections are
 * opened with, the pool keys, the credentials and the options refused before anything is
 * sent. A Connector that records what it is asked to open stands in for the platform (the
 * node suite, test/Socks.test.ts, sends the bytes to real SOCKS servers).
 */
import { ConnectionPool, Connector, ContentDecoder, Errors, ProxyManager, SocksProxyManager } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** A Connector recording each target it opens a connection for; every send fails to connect. */
const recording = () => {
  const opened: Array<Connector.ConnectionTarget> = []
  let next = 0
  const service: Connector.Service = {
    open: (target) => {
      opened.push(target)
      return {
        id: ++next,
        send: () =>
          Effect.fail(
            new Connector.SendFailure({
              error: new Errors.NewConnectionError({ message: "recorded, not connected" }),
              requestSent: false,
              responseStarted: false
            })
          ),
        isConnected: () => false,
        close: Effect.void
      }
    }
  }
  const layer = Layer.mergeAll(
    Layer.succeed(Connector.Connector, service),
    Layer.succeed(ContentDecoder.ContentDecoder, ContentDecoder.identity)
  )
  return { opened, layer }
}

describe("SOCKS routes", () => {
  it.scoped("each scheme makes its hop; every target its own pool, dialled through the proxy", () => {
    const { opened, layer } = recording()
    return Effect.gen(function* () {
      const cases = [
        ["socks5h://127.0.0.1:1081", 5, true],
        ["socks5://127.0.0.1:1081", 5, false],
        ["socks4a://127.0.0.1:1081", 4, true],
        ["socks4://127.0.0.1:1081", 4, false]
      ] as const
      for (const [url, version, remoteDns] of cases) {
        const manager = yield* ProxyManager.make(url, { connectionPoolKw: { retries: false } })
        yield* Effect.flip(manager.request("GET", "http://a.example/"))
        yield* Effect.flip(manager.request("GET", "https://b.example:8443/"))
        expect((yield* manager.pools).keys.map((key) => [key.scheme, key.host, key.port, key.proxy])).toEqual([
          ["http", "a.example", 80, null],
          ["https", "b.example", 8443, null]
        ])
        const [http, https] = opened.splice(0)
        const hop: Connector.SocksHop = {
          _tag: "Socks",
          version,
          remoteDns,
          host: "127.0.0.1",
          port: 1081,
          username: null,
          password: null
        }
        expect([http.scheme, http.host, http.port, http.route]).toEqual(["http", "a.example", 80, [hop]])
        expect([https.scheme, https.host, https.port, https.route]).toEqual(["https", "b.example", 8443, [hop]])
        expect(https.tls).not.toBeNull()
      }
    }).pipe(Effect.provide(layer))
  })

  it.scoped(
    "credentials: the URL's userinfo percent-decoded, or SocksProxyManager's arguments; the key never shows them",
    () => {
      const { opened, layer } = recording()
      return Effect.gen(function* () {
        const fromUrl = yield* ProxyManager.make("socks5h://us%40er:p%3Ass@[::1]", {
          connectionPoolKw: { retries: false }
        })
        yield* Effect.flip(fromUrl.request("GET", "http://a.example/"))
        const given = yield* SocksProxyManager.make("socks5://ignored:ignored@proxy.example:1082", {
          username: "alice",
          password: "secret",
          connectionPoolKw: { retries: false }
        })
        yield* Effect.flip(given.request("GET", "http://a.example/"))
        const userid = yield* ProxyManager.make("socks4a://me@proxy.example", { connectionPoolKw: { retries: false } })
        yield* Effect.flip(userid.request("GET", "http://a.example/"))
        expect(opened.map((target) => target.route)).toEqual([
          [
            { _tag: "Socks", version: 5, remoteDns: true, host: "::1", port: 1080, username: "us@er", password: "p:ss" }
          ],
          [
            {
              _tag: "Socks",
              version: 5,
              remoteDns: false,
              host: "proxy.example",
              port: 1082,
              username: "alice",
              password: "secret"
            }
          ],
          [
            {
              _tag: "Socks",
              version: 4,
              remoteDns: true,
              host: "proxy.example",
              port: 1080,
              username: "me",
              password: null
            }
          ]
        ])
        const [key] = (yield* given.pools).keys
        expect(String(key)).not.toContain("secret")
        expect(JSON.stringify(key)).not.toContain("secret")
      }).pipe(Effect.provide(layer))
    }
  )

  it.scoped("the environment's ALL_PROXY and HTTPS_PROXY may be SOCKS; NO_PROXY still goes direct", () => {
    const { opened, layer } = recording()
    return Effect.gen(function* () {
      const manager = yield* ProxyManager.fromEnv(
        { HTTPS_PROXY: "socks5h://127.0.0.1:1081", ALL_PROXY: "socks4://127.0.0.1:1082", NO_PROXY: "direct.example" },
        { connectionPoolKw: { retries: false } }
      )
      yield* Effect.flip(manager.request("GET", "https://a.example/"))
      yield* Effect.flip(manager.request("GET", "http://a.example/"))
      yield* Effect.flip(manager.request("GET", "http://direct.example/"))
      expect(
        opened.map((target) => target.route.map((hop) => (hop._tag === "Socks" ? [hop.version, hop.port] : hop._tag)))
      ).toEqual([[[5, 1081]], [[4, 1082]], []])
    }).pipe(Effect.provide(layer))
  })

  it.effect("options that cannot be used fail before anything is sent", () =>
    Effect.gen(function* () {
      const pool = (socksOptions: ConnectionPool.SocksOptions, proxy: string | null = null) =>
        Effect.flip(Effect.scoped(ConnectionPool.make({ host: "a.example", socksOptions, proxy })))
      const base = { socksVersion: 5, proxyHost: "127.0.0.1", proxyPort: 1080 } as const
      expect((yield* pool(base, "http://127.0.0.1:3128"))._tag).toBe("ValueError")
      expect((yield* pool({ ...base, socksVersion: 6 as 5 }))._tag).toBe("ValueError")
      expect((yield* pool({ ...base, proxyPort: 0 }))._tag).toBe("ValueError")
      expect((yield* pool({ ...base, proxyHost: " " }))._tag).toBe("LocationValueError")
      expect((yield* pool({ ...base, username: "u".repeat(256), password: "p" }))._tag).toBe("ValueError")
      expect((yield* pool({ ...base, username: "u\0" }))._tag).toBe("ValueError")
      const notSocks = yield* Effect.flip(Effect.scoped(SocksProxyManager.make("http://127.0.0.1:3128")))
      expect(notSocks._tag).toBe("ValueError")
      expect(notSocks.message).toContain("Unable to determine SOCKS version")
      const unknown = yield* Effect.flip(Effect.scoped(ProxyManager.make("socks6://127.0.0.1")))
      expect(unknown._tag).toBe("ProxySchemeUnknown")
    }).pipe(Effect.provide(recording().layer))
  )
})
