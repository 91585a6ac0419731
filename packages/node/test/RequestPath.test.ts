/**
 * The rules of a request are written once (the request loop) and hold through every entry:
 * a ConnectionPool's urlopen, a PoolManager's, a ProxyManager's (and the pools it hands out),
 * and the HttpClient adapter. Each case below was wrong through at least one entry before the
 * loop was shared.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { ConnectionPool, Errors, PoolManager, ProxyManager, Retry } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import * as NodeConnector from "../src/NodeConnector.js"
import * as NodeHttpClient from "../src/NodeHttpClient.js"
import * as Proxy from "./utils/proxy.js"
import * as Servers from "./utils/servers.js"

const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, NodeConnector.layer)

const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.either(effect), (result) =>
    Either.isLeft(result) ? Effect.succeed(result.left) : Effect.dieMessage("expected a failure, got a success")
  )

/** Answers the paths in `routes` with `[status, location]`, everything else with `Servers.echo`. */
const redirector =
  (routes: Map<string, readonly [number, string]>): Servers.Handler =>
  (req, res, received) => {
    const route = routes.get(received.url)
    if (route === undefined) return Servers.echo(req, res, received)
    res.writeHead(route[0], { Location: route[1], "Content-Length": "0" })
    res.end()
  }

const header = (request: Servers.ReceivedRequest, name: string) => Servers.headerOf(request.rawHeaders, name)

/** Runs an @effect/platform program against httpool's HttpClient layer. */
const viaClient = <A, E>(
  layer: ReturnType<typeof NodeHttpClient.layer>,
  use: (client: HttpClient.HttpClient) => Effect.Effect<A, E>
) => Effect.flatMap(HttpClient.HttpClient, use).pipe(Effect.provide(layer))

const secretHeaders = { Authorization: "Bearer secret", Cookie: "session=secret", "X-Kept": "kept" }

const noSecrets = (request: Servers.ReceivedRequest) => {
  expect(header(request, "authorization")).toBeUndefined()
  expect(header(request, "cookie")).toBeUndefined()
  expect(header(request, "x-kept")).toBe("kept")
}

describe("one request path", () => {
  describe("a target is built once and sent as given", () => {
    it.scopedLive("a pool sends a path as given: dot segments and // stay, nothing is parsed as a host", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: server.port }).pipe(provide)
        for (const target of ["/a/../b", "//host/path", "//v:h", "//v:h?key=val", "/./x//y/"]) {
          const response = yield* pool.urlopen("GET", target)
          expect(response.status).toBe(200)
        }
        // Only what must be is percent-encoded; the fragment never goes out.
        yield* pool.urlopen("GET", "/sp ace/[x]?q=é#frag")
        expect(server.requests.map((r) => r.url)).toEqual([
          "/a/../b",
          "//host/path",
          "//v:h",
          "//v:h?key=val",
          "/./x//y/",
          "/sp%20ace/%5Bx%5D?q=%C3%A9"
        ])
      })
    )

    it.scopedLive("a manager removes dot segments from an absolute URL once, and keeps // in its path", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const manager = yield* PoolManager.make().pipe(provide)
        yield* manager.request("GET", `${server.url}//host/path`)
        yield* manager.request("GET", `${server.url}//a//b`)
        yield* manager.request("GET", `${server.url}/x/../y`)
        yield* manager.request("GET", `${server.url}//v:h?key=val`)
        expect(server.requests.map((r) => r.url)).toEqual(["//host/path", "//a//b", "/y", "//v:h?key=val"])
      })
    )

    it.scopedLive("a ProxyManager forwards the same target in absolute form", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const proxy = yield* Proxy.start()
        yield* Proxy.withManager(proxy.url, {}, (manager) =>
          Effect.gen(function* () {
            yield* manager.request("GET", `${server.url}//a//b`)
            yield* manager.request("GET", `${server.url}/x/../y`)
          })
        )
        expect(proxy.seen).toEqual([`GET ${server.url}//a//b`, `GET ${server.url}/y`])
      })
    )

    it.scopedLive("the HttpClient adapter sends the URL's path as the manager does", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        yield* viaClient(NodeHttpClient.layer(), (client) =>
          Effect.scoped(client.execute(HttpClientRequest.get(`${server.url}//a//b?k=v`)))
        )
        expect(server.requests.map((r) => r.url)).toEqual(["//a//b?k=v"])
      })
    )
  })

  describe("credentials stay on their origin, and Host names the origin asked", () => {
    it.scopedLive("a forwarding proxy's pool following a 303 to another origin strips them", () =>
      Effect.gen(function* () {
        const other = yield* Servers.http(Servers.echo)
        const origin = yield* Servers.http(redirector(new Map([["/start", [303, `${other.url}/landed`]]])))
        const proxy = yield* Proxy.start()
        const response = yield* Proxy.withManager(proxy.url, {}, (manager) =>
          Effect.gen(function* () {
            const pool = yield* manager.connectionFromUrl(`${origin.url}/`)
            return yield* pool.urlopen("POST", `${origin.url}/start`, {
              redirect: true,
              assertSameHost: false,
              headers: secretHeaders,
              body: "payload"
            })
          })
        )
        expect(response.status).toBe(200)
        expect(response.method).toBe("GET")
        expect(header(origin.requests[0], "authorization")).toBe("Bearer secret")
        expect(header(origin.requests[0], "host")).toBe(`127.0.0.1:${origin.port}`)
        noSecrets(other.requests[0])
        expect(header(other.requests[0], "host")).toBe(`127.0.0.1:${other.port}`)
        expect(proxy.seen).toEqual([`POST ${origin.url}/start`, `GET ${other.url}/landed`])
      })
    )

    it.scopedLive("a ProxyManager's request strips them across origins", () =>
      Effect.gen(function* () {
        const other = yield* Servers.http(Servers.echo)
        const origin = yield* Servers.http(redirector(new Map([["/start", [302, `${other.url}/landed`]]])))
        const proxy = yield* Proxy.start()
        yield* Proxy.withManager(proxy.url, {}, (manager) =>
          manager.request("GET", `${origin.url}/start`, { headers: secretHeaders })
        )
        noSecrets(other.requests[0])
        expect(header(other.requests[0], "host")).toBe(`127.0.0.1:${other.port}`)
      })
    )

    it.scopedLive("a pool without assertSameHost strips them, and its Host names the new origin", () =>
      Effect.gen(function* () {
        const origin = yield* Servers.http(redirector(new Map([["/start", [307, "http://127.0.0.2:1/landed"]]])))
        const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: origin.port }).pipe(provide)
        yield* pool.urlopen("GET", "/start", { assertSameHost: false, headers: secretHeaders })
        // The pool sends every hop to its own host, asking for the other origin.
        expect(origin.requests.map((r) => r.url)).toEqual(["/start", "/landed"])
        noSecrets(origin.requests[1])
        expect(header(origin.requests[1], "host")).toBe("127.0.0.2:1")
      })
    )

    it.scopedLive("a PoolManager and the HttpClient adapter strip them across origins", () =>
      Effect.gen(function* () {
        const other = yield* Servers.http(Servers.echo)
        const origin = yield* Servers.http(redirector(new Map([["/start", [301, `${other.url}/landed`]]])))
        const manager = yield* PoolManager.make().pipe(provide)
        yield* manager.request("GET", `${origin.url}/start`, { headers: secretHeaders })
        yield* viaClient(NodeHttpClient.layer(), (client) =>
          Effect.scoped(client.execute(HttpClientRequest.get(`${origin.url}/start`, { headers: secretHeaders })))
        )
        expect(other.requests.length).toBe(2)
        for (const request of other.requests) noSecrets(request)
      })
    )
  })

  describe("a 303 makes every method a GET without a body, in one place", () => {
    const seeOther = () => new Map<string, readonly [number, string]>([["/see", [303, "/other"]]])

    it.scopedLive("HEAD and POST answered by 303 go on as GET through a pool and a manager", () =>
      Effect.gen(function* () {
        const routes = new Map<string, readonly [number, string]>()
        const server = yield* Servers.http(redirector(routes))
        for (const [path, route] of seeOther()) routes.set(path, route)
        const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: server.port }).pipe(provide)
        const manager = yield* PoolManager.make().pipe(provide)
        const responses = [
          yield* pool.urlopen("HEAD", "/see"),
          yield* manager.urlopen("HEAD", `${server.url}/see`),
          yield* pool.urlopen("POST", "/see", { body: "data", headers: { "Content-Type": "text/plain" } }),
          yield* manager.urlopen("POST", `${server.url}/see`, { body: "data" })
        ]
        for (const response of responses) {
          expect(response.method).toBe("GET")
          expect(response.url).toBe(`${server.url}/other`)
        }
        const others = server.requests.filter((r) => r.url === "/other")
        expect(others.map((r) => r.method)).toEqual(["GET", "GET", "GET", "GET"])
        for (const request of others) {
          expect(request.body.length).toBe(0)
          expect(header(request, "content-type")).toBeUndefined()
        }
      })
    )

    it.scopedLive("through a ProxyManager and the HttpClient adapter, whose response.request says GET", () =>
      Effect.gen(function* () {
        const routes = new Map<string, readonly [number, string]>()
        const server = yield* Servers.http(redirector(routes))
        for (const [path, route] of seeOther()) routes.set(path, route)
        const proxy = yield* Proxy.start()
        const proxied = yield* Proxy.withManager(proxy.url, {}, (manager) =>
          manager.urlopen("HEAD", `${server.url}/see`)
        )
        expect(proxied.method).toBe("GET")
        const request = yield* viaClient(NodeHttpClient.layer(), (client) =>
          Effect.scoped(Effect.map(client.execute(HttpClientRequest.head(`${server.url}/see`)), (r) => r.request))
        )
        expect(request.method).toBe("GET")
        expect(request.url).toBe(`${server.url}/other`)
        expect(server.requests.filter((r) => r.url === "/other").map((r) => r.method)).toEqual(["GET", "GET"])
      })
    )
  })

  describe("no password in any error's fields, message or printed form", () => {
    const password = "hunter2-s3cret"
    const clean = (value: unknown) => {
      const printed = [JSON.stringify(value), String(value), (value as { message?: unknown }).message]
      for (const text of printed) expect(String(text)).not.toContain(password)
    }

    it.scopedLive("MaxRetryError after a manager's redirect loop, and the retry history", () =>
      Effect.gen(function* () {
        const routes = new Map<string, readonly [number, string]>()
        const server = yield* Servers.http(redirector(routes))
        const withAuth = `http://alice:${password}@127.0.0.1:${server.port}`
        routes.set("/loop", [302, `${withAuth}/loop`])
        routes.set("/once", [302, "/landed"])
        const manager = yield* PoolManager.make().pipe(provide)
        const error = yield* failure(
          manager.request("GET", `${withAuth}/loop`, { retries: Retry.make({ redirect: 2 }) })
        )
        expect(error._tag).toBe("MaxRetryError")
        clean(error)
        expect((error as Errors.MaxRetryError).url).toBe(`http://127.0.0.1:${server.port}/loop`)
        const response = yield* manager.request("GET", `${withAuth}/once`)
        expect(response.retries?.history.length).toBe(1)
        clean(response.retries?.history)
        for (const entry of response.retries?.history ?? []) expect(entry.url).not.toContain("alice")
      })
    )

    it.scopedLive("HostChangedError and LocationParseError, whitespace and '@' in the password included", () =>
      Effect.gen(function* () {
        const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: 1 }).pipe(provide)
        const changed = yield* failure(pool.urlopen("GET", `http://bob:${password}@elsewhere.test/x`))
        expect(changed._tag).toBe("HostChangedError")
        clean(changed)
        const manager = yield* PoolManager.make().pipe(provide)
        for (const url of [
          `  http://bob:${password}@127.0.0.1:99999/`,
          `http://bob:a@${password}@127.0.0.1:99999/`,
          `\thttp://bob:${password}@[::1/`
        ]) {
          const error = yield* failure(manager.request("GET", url))
          expect(error._tag).toBe("LocationParseError")
          clean(error)
        }
        expect(Errors.redactUrl(`http://u:p@ss@h/p?q=a@b`)).toBe("http://h/p?q=a@b")
        expect(Errors.redactUrl(`  https://u:${password}@h`)).toBe("  https://h")
        expect(Errors.redactUrl(`//u:${password}@h/x`)).toBe("//h/x")
      })
    )

    it.scopedLive("the HttpClient adapter's errors print no password", () =>
      Effect.gen(function* () {
        const port = yield* Servers.closedPort
        const error = yield* viaClient(NodeHttpClient.layer({ retries: 0 }), (client) =>
          failure(Effect.scoped(client.execute(HttpClientRequest.get(`http://alice:${password}@127.0.0.1:${port}/x`))))
        )
        expect(error._tag).toBe("RequestError")
        clean(error)
      })
    )

    it.scopedLive("a ProxyManager's errors print neither the target's nor the proxy's password", () =>
      Effect.gen(function* () {
        const port = yield* Servers.closedPort
        const error = yield* failure(
          Proxy.withManager(`http://carol:${password}@127.0.0.1:${port}`, { connectionPoolKw: { retries: 0 } }, (m) =>
            m.request("GET", `http://alice:${password}@127.0.0.1:${port}/x`)
          )
        )
        clean(error)
      })
    )
  })

  describe("chunked: true with an empty body sends the last chunk", () => {
    it.scopedLive("through a pool, a manager and a ProxyManager, with no body or an empty one", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: server.port }).pipe(provide)
        const manager = yield* PoolManager.make().pipe(provide)
        yield* pool.urlopen("POST", "/a", { chunked: true })
        yield* pool.urlopen("GET", "/b", { chunked: true })
        yield* pool.urlopen("PUT", "/c", { chunked: true, body: "" })
        yield* manager.urlopen("POST", `${server.url}/d`, { chunked: true, body: new Uint8Array(0) })
        const proxy = yield* Proxy.start()
        yield* Proxy.withManager(proxy.url, {}, (m) => m.urlopen("POST", `${server.url}/e`, { chunked: true }))
        expect(server.requests.map((r) => r.url)).toEqual(["/a", "/b", "/c", "/d", "/e"])
        for (const request of server.requests.slice(0, 4)) {
          expect(header(request, "transfer-encoding")).toBe("chunked")
          expect(header(request, "content-length")).toBeUndefined()
          expect(request.body.length).toBe(0)
        }
        // The proxy re-frames what it forwards; what it received was chunked.
        expect(proxy.headers[0]["transfer-encoding"]).toBe("chunked")
        expect(proxy.headers[0]["content-length"]).toBeUndefined()
      })
    )

    it.scopedLive("chunked bytes go in chunks ending with the last chunk", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: server.port }).pipe(provide)
        const response = yield* pool.urlopen("POST", "/a", { chunked: true, body: "hello" })
        const echoed = Servers.echoedOf(response.text)
        expect(echoed.body).toBe("hello")
        expect(header(server.requests[0], "transfer-encoding")).toBe("chunked")
      })
    )

    it.scopedLive("the HttpClient adapter sends an empty stream body as chunked", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        yield* viaClient(NodeHttpClient.layer(), (client) =>
          Effect.scoped(
            client.execute(HttpClientRequest.post(`${server.url}/s`).pipe(HttpClientRequest.bodyStream(Stream.empty)))
          )
        )
        expect(header(server.requests[0], "transfer-encoding")).toBe("chunked")
        expect(server.requests[0].body.length).toBe(0)
      })
    )
  })

  it.scopedLive("ProxyManager.make's errors are one named union", () =>
    Effect.gen(function* () {
      const error: ProxyManager.ProxyConfigError = yield* failure(ProxyManager.make("socks9://x").pipe(provide))
      expect(error._tag).toBe("ProxySchemeUnknown")
    })
  )
})
