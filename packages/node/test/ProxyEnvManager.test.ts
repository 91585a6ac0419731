import { PoolManager, ProxyManager } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeConnector from "../src/NodeConnector.js"
import * as NodeProxyManager from "../src/NodeProxyManager.js"
import * as Certs from "./utils/certs.js"
import * as Proxy from "./utils/proxy.js"
import * as Servers from "./utils/servers.js"

const fromEnv = (env: Record<string, string>, options: ProxyManager.Options = {}) =>
  ProxyManager.fromEnv(env, options).pipe(Effect.provide(NodeConnector.layer))

describe("ProxyManager.fromEnv", () => {
  it.scopedLive("HTTP_PROXY carries http targets; NO_PROXY hosts and unproxied schemes go direct", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start()
      const origin = yield* Servers.http(Servers.fixed("ok"))
      const secure = yield* Servers.https(Servers.fixed("secure"))
      const manager = yield* fromEnv(
        { HTTP_PROXY: proxy.url, NO_PROXY: "localhost, .example.invalid" },
        { connectionPoolKw: { caCerts: certs.ca.certPath } }
      )
      expect((yield* manager.request("GET", `http://127.0.0.1:${origin.port}/via`)).text).toBe("ok")
      expect(proxy.seen).toEqual([`GET http://127.0.0.1:${origin.port}/via`])
      expect((yield* manager.request("GET", `http://localhost:${origin.port}/direct`)).text).toBe("ok")
      expect((yield* manager.request("GET", `https://localhost:${secure.port}/`)).text).toBe("secure")
      expect(proxy.seen).toHaveLength(1)
      expect(origin.requests.map((r) => r.url)).toEqual(["/via", "/direct"])
    })
  )

  it.scopedLive("lower-case variables win; https targets tunnel through HTTPS_PROXY or ALL_PROXY", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const proxy = yield* Proxy.start()
      const closed = yield* Servers.closedPort
      const secure = yield* Servers.https(Servers.fixed("secure"))
      const kw = { connectionPoolKw: { caCerts: certs.ca.certPath } }
      const lower = yield* fromEnv({ https_proxy: proxy.url, HTTPS_PROXY: `http://127.0.0.1:${closed}` }, kw)
      expect((yield* lower.request("GET", `https://localhost:${secure.port}/`)).text).toBe("secure")
      expect(proxy.connects()).toBe(1)
      const all = yield* fromEnv({ ALL_PROXY: proxy.url }, kw)
      expect((yield* all.request("GET", `https://localhost:${secure.port}/`)).text).toBe("secure")
      expect(proxy.connects()).toBe(2)
      const everything = yield* fromEnv({ ALL_PROXY: proxy.url, NO_PROXY: "*" }, kw)
      expect((yield* everything.request("GET", `https://localhost:${secure.port}/`)).text).toBe("secure")
      expect(proxy.connects()).toBe(2)
    })
  )

  it.effect("a bad proxy variable is a typed error", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.scoped(fromEnv({ HTTP_PROXY: "ftp://127.0.0.1:21" })))
      expect(error._tag).toBe("ProxySchemeUnknown")
    })
  )

  it.scopedLive("NodeProxyManager.layerFromEnv reads process.env when the layer is built", () =>
    Effect.gen(function* () {
      const proxy = yield* Proxy.start()
      const origin = yield* Servers.http(Servers.fixed("ok"))
      const saved = { http_proxy: process.env.http_proxy, no_proxy: process.env.no_proxy }
      process.env.http_proxy = proxy.url
      delete process.env.no_proxy
      const layer = NodeProxyManager.layerFromEnv()
      const text = yield* Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        return (yield* manager.request("GET", `${origin.url}/env`)).text
      }).pipe(
        Effect.provide(layer),
        Effect.ensuring(
          Effect.sync(() => {
            for (const [name, value] of Object.entries(saved)) {
              if (value === undefined) delete process.env[name]
              else process.env[name] = value
            }
          })
        )
      )
      expect(text).toBe("ok")
      expect(proxy.seen).toEqual([`GET ${origin.url}/env`])
    })
  )
})
