import { describe, expect, it } from "@effect/vitest"
import { ProxyEnv } from "@httpool/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { fetchAll, layerFor, localParts, main, route } from "../src/proxyFromEnv.js"

/** Sets proxy variables of process.env for the Scope, restoring the previous values after. */
const withProcessEnv = (vars: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const names = [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy"
      ]
      const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]))
      for (const name of names) delete process.env[name]
      Object.assign(process.env, vars)
      return saved
    }),
    (saved) =>
      Effect.sync(() => {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
      })
  )

describe("the proxies-from-the-environment example", () => {
  it.scopedLive("goes through HTTP_PROXY, and straight to the hosts NO_PROXY lists", () =>
    Effect.gen(function* () {
      const parts = yield* localParts
      const proxied = `http://127.0.0.1:${parts.originPort}/a`
      const direct = `http://localhost:${parts.originPort}/b`
      const results = yield* fetchAll([proxied, direct]).pipe(
        Effect.provide(layerFor({ HTTP_PROXY: parts.proxyUrl, NO_PROXY: "localhost" }))
      )
      expect(results.map((r) => r.status)).toEqual([200, 200])
      expect(parts.proxySeen).toEqual([`GET ${proxied}`]) // absolute form: a forwarded request
      expect(parts.originSeen).toEqual(["GET /a", "GET /b"])
    })
  )

  it("prints the route of a URL, with the proxy's credentials hidden", () => {
    const env = Either.getOrThrow(
      ProxyEnv.fromEnv({ https_proxy: "user:secret@proxy.internal:3128", no_proxy: ".corp.example" })
    )
    expect(route(env, "https://example.com/")).toBe("via http://***@proxy.internal:3128")
    expect(route(env, "https://git.corp.example/")).toBe("direct")
    expect(route(env, "http://example.com/")).toBe("direct")
  })

  it.scopedLive("main reads process.env through NodeHttpClient.layerFromEnv", () =>
    Effect.gen(function* () {
      const parts = yield* localParts
      yield* withProcessEnv({ http_proxy: parts.proxyUrl, no_proxy: "localhost" })
      const lines: Array<string> = []
      const urls = [`http://127.0.0.1:${parts.originPort}/x`, `http://localhost:${parts.originPort}/y`]
      const results = yield* main(urls, (line) => lines.push(line))
      expect(results.map((r) => r.status)).toEqual([200, 200])
      expect(lines.slice(1)).toEqual([`${urls[0]}: via ${parts.proxyUrl} -> 200`, `${urls[1]}: direct -> 200`])
      expect(parts.proxySeen).toEqual([`GET ${urls[0]}`])
    })
  )
})
