/**
 * httpool's fetch on real loopback servers: compared with undici's own `fetch` on the same
 * server (status, status text, headers, bodies, URL after redirects), handed to ky as its
 * `fetch`, and checked for what only a pool gives (reused sockets, retries), streaming both
 * ways, and AbortSignal.
 */
import * as HttpoolFetch from "@httpool/core/HttpoolFetch"
import * as ProxyManager from "@httpool/core/ProxyManager"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import ky, { HTTPError, TimeoutError } from "ky"
import * as zlib from "node:zlib"
import { fetch as undiciFetch } from "undici"
import * as NodePoolManager from "../src/NodePoolManager.js"
import * as NodeConnector from "../src/NodeConnector.js"
import * as Proxy from "./utils/proxy.js"
import * as Servers from "./utils/servers.js"

// Real sockets and real timers: every test runs with the live clock (`it.scopedLive`).

const utf8 = new TextDecoder()

/** An httpool fetch over a NodePoolManager that lives as long as the test. */
const withFetch = <A, E>(
  f: (fetch: HttpoolFetch.Fetch) => Effect.Effect<A, E>,
  options?: HttpoolFetch.Options
): Effect.Effect<A, E> => Effect.flatMap(HttpoolFetch.make(options), f).pipe(Effect.provide(NodePoolManager.layer()))

const big = Servers.patternBytes(1024 * 1024 + 17)

/** The routes both clients are compared on. */
const site: Servers.Handler = (req, res, received) => {
  const url = new URL(req.url ?? "/", "http://x")
  const send = (status: number, headers: Record<string, string | Array<string>>, body: string | Uint8Array = "") => {
    res.writeHead(status, headers)
    res.end(body)
  }
  switch (url.pathname) {
    case "/text":
      return send(200, { "Content-Type": "text/plain; charset=utf-8", "X-Custom": "one" }, "hello")
    case "/json":
      return send(200, { "Content-Type": "application/json" }, JSON.stringify({ a: [1, 2] }))
    case "/missing":
      return send(404, { "Content-Type": "text/plain" }, "nope")
    case "/teapot":
      res.statusMessage = "I'm a teapot"
      return send(418, {}, "short and stout")
    case "/redirect":
      return send(302, { Location: "/redirect2" })
    case "/redirect2":
      return send(301, { Location: "/text" })
    case "/see-other":
      return send(303, { Location: "/echo" })
    case "/temporary":
      return send(307, { Location: "/echo" })
    case "/echo":
      return send(
        200,
        { "Content-Type": "application/json" },
        JSON.stringify({
          method: received.method,
          body: utf8.decode(received.body),
          contentType: req.headers["content-type"] ?? null,
          chunked: req.headers["transfer-encoding"] ?? null
        })
      )
    case "/gzip":
      return send(
        200,
        { "Content-Type": "text/plain", "Content-Encoding": "gzip" },
        zlib.gzipSync("zipped ".repeat(100))
      )
    case "/chunked":
      res.writeHead(200, { "Content-Type": "text/plain" })
      res.write("first ")
      setTimeout(() => res.end("second"), 20)
      return
    case "/cookies":
      return send(200, { "Set-Cookie": ["a=1; Path=/", "b=2; Path=/"] }, "")
    case "/empty":
      return send(204, {})
    case "/big":
      return send(200, { "Content-Type": "application/octet-stream" }, big)
    default:
      return send(500, {}, "unknown route")
  }
}

/** What a test compares of a response: everything but the per-connection and per-moment headers. */
const snapshot = async (response: Response) => ({
  status: response.status,
  statusText: response.statusText,
  ok: response.ok,
  url: response.url,
  redirected: response.redirected,
  headers: [...response.headers].filter(([name]) => !["date", "connection", "keep-alive"].includes(name)),
  setCookie: response.headers.getSetCookie(),
  body: Buffer.from(await response.arrayBuffer()).toString("base64")
})

describe("HttpoolFetch against undici's fetch on the same server", () => {
  it.scopedLive("status, status text, headers, bodies, redirects and their URLs are the same", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(site)
      const cases: ReadonlyArray<readonly [string, RequestInit?]> = [
        ["/text"],
        ["/json"],
        ["/missing"],
        ["/teapot"],
        ["/redirect"],
        ["/redirect", { redirect: "manual" }],
        ["/see-other", { method: "POST", body: "gone" }],
        ["/temporary", { method: "PUT", body: "kept", headers: { "Content-Type": "text/x-kept" } }],
        ["/echo", { method: "PATCH", body: new URLSearchParams({ q: "1" }) }],
        ["/gzip", { headers: { "Accept-Encoding": "gzip" } }],
        ["/chunked"],
        ["/cookies"],
        ["/empty", { method: "DELETE" }],
        ["/text", { method: "HEAD" }],
        ["/big"]
      ]
      yield* withFetch((fetch) =>
        Effect.promise(async () => {
          for (const [path, init] of cases) {
            const ours = await snapshot(await fetch(`${server.url}${path}`, init))
            const theirs = await snapshot(
              (await undiciFetch(`${server.url}${path}`, init as never)) as unknown as Response
            )
            expect({ path, ...ours }).toEqual({ path, ...theirs })
          }
        })
      )
    })
  )

  it.scopedLive("a streamed request body goes chunked, as undici's does", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(site)
      const streamOf = () =>
        new ReadableStream<Uint8Array>({
          start: (controller) => {
            controller.enqueue(new TextEncoder().encode("streamed "))
            controller.enqueue(new TextEncoder().encode("body"))
            controller.close()
          }
        })
      yield* withFetch((fetch) =>
        Effect.promise(async () => {
          const init = { method: "POST", duplex: "half" } as RequestInit
          const ours = await (await fetch(`${server.url}/echo`, { ...init, body: streamOf() })).json()
          const theirs = await (await undiciFetch(`${server.url}/echo`, { ...init, body: streamOf() } as never)).json()
          expect(ours).toEqual(theirs)
          expect(ours).toMatchObject({ body: "streamed body", chunked: "chunked" })
        })
      )
    })
  )
})

describe("HttpoolFetch over the pools", () => {
  it.scopedLive("sequential fetches share one keep-alive socket, bodies read or not", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(site)
      yield* withFetch((fetch) =>
        Effect.promise(async () => {
          for (let i = 0; i < 10; i++) expect(await (await fetch(`${server.url}/text`)).text()).toBe("hello")
          await fetch(`${server.url}/empty`, { method: "DELETE" })
          await fetch(`${server.url}/text`, { method: "HEAD" })
        })
      )
      expect(server.socketsOpened()).toBe(1)
      yield* server.waitForOpenSockets(0)
    })
  )

  it.scopedLive(
    "a connection reset before the answer is retried for GET; a POST rejects with the ProtocolError as cause",
    () =>
      Effect.gen(function* () {
        let seen = 0
        const server = yield* Servers.raw((socket) =>
          socket.on("data", () => {
            seen++
            if (seen % 2 === 1) socket.resetAndDestroy()
            else socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
          })
        )
        yield* withFetch((fetch) =>
          Effect.promise(async () => {
            const get = await fetch(`http://127.0.0.1:${server.port}/`)
            expect(await get.text()).toBe("ok")
            const post = await fetch(`http://127.0.0.1:${server.port}/`, { method: "POST", body: "x" }).catch(
              (error: TypeError) => error
            )
            expect(post).toBeInstanceOf(TypeError)
            expect((post as TypeError).message).toBe("fetch failed")
            expect((post as TypeError).cause).toMatchObject({ _tag: "ProtocolError" })
          })
        )
      })
  )

  it.scopedLive("a response body streams: reading part of it and cancelling closes the socket", () =>
    Effect.gen(function* () {
      const streamed = Servers.streamed(16 * 1024 * 1024)
      const server = yield* Servers.http(streamed.handler)
      yield* withFetch((fetch) =>
        Effect.promise(async () => {
          const response = await fetch(`${server.url}/`)
          const reader = response.body!.getReader()
          const first = await reader.read()
          expect(first.done).toBe(false)
          expect(first.value![0]).toBe(Servers.byteAt(0))
          await reader.cancel()
        })
      )
      yield* server.waitForOpenSockets(0)
      expect(streamed.progress().done).toBe(false)
    })
  )

  it.scopedLive("AbortSignal: before the request, while waiting for the head, and while reading the body", () =>
    Effect.gen(function* () {
      const slowHead = yield* Servers.http(Servers.slowHeaders(10_000))
      const slowBody = yield* Servers.http(Servers.slowBody(10_000))
      yield* withFetch((fetch) =>
        Effect.promise(async () => {
          const already = await fetch(slowHead.url, { signal: AbortSignal.abort() }).catch((e: Error) => e)
          expect(already).toMatchObject({ name: "AbortError" })
          expect(slowHead.requests).toHaveLength(0)

          // Aborted once the server has the request, while its head is still to come.
          const controller = new AbortController()
          slowHead.server.once("request", () => controller.abort())
          const waiting = await fetch(slowHead.url, { signal: controller.signal }).catch((e: Error) => e)
          expect(waiting).toMatchObject({ name: "AbortError" })

          const reading = new AbortController()
          const response = await fetch(slowBody.url, { signal: reading.signal })
          const reader = response.body!.getReader()
          expect(utf8.decode((await reader.read()).value)).toBe("first,")
          // Aborted while a read of the body's rest is pending.
          const pending = reader.read()
          reading.abort(new Error("enough"))
          const failed = await pending.catch((e: Error) => e)
          expect(failed).toMatchObject({ message: "enough" })
        })
      )
      yield* slowHead.waitForOpenSockets(0)
      yield* slowBody.waitForOpenSockets(0)
    })
  )
})

describe("HttpoolFetch over a ProxyManager", () => {
  it.scopedLive("proxies from the environment: HTTP_PROXY forwards, NO_PROXY goes direct", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(site)
      const proxy = yield* Proxy.start()
      const env = { HTTP_PROXY: proxy.url, NO_PROXY: "localhost" }
      const layer = ProxyManager.layerFromEnv(env).pipe(Layer.provide(NodeConnector.layer))
      yield* Effect.flatMap(HttpoolFetch.make(), (fetch) =>
        Effect.promise(async () => {
          expect(await (await fetch(`${server.url}/text`)).text()).toBe("hello")
          expect(await (await fetch(`http://localhost:${server.port}/json`)).json()).toEqual({ a: [1, 2] })
        })
      ).pipe(Effect.provide(layer), Effect.orDie)
      expect(proxy.seen).toEqual([`GET ${server.url}/text`])
      expect(server.requests.map((r) => r.url)).toEqual(["/text", "/json"])
    })
  )
})

describe("HttpoolFetch as ky's fetch", () => {
  it.scopedLive("ky reads JSON and text, posts JSON, and raises HTTPError on a 404", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(site)
      yield* withFetch((fetch) =>
        Effect.promise(async () => {
          const api = ky.create({ prefixUrl: server.url, fetch })
          expect(await api.get("json").json()).toEqual({ a: [1, 2] })
          expect(await api.get("redirect").text()).toBe("hello")
          expect(await api.post("echo", { json: { name: "Ada" } }).json()).toEqual({
            method: "POST",
            body: '{"name":"Ada"}',
            contentType: "application/json",
            chunked: null
          })
          expect(await api.get("echo", { searchParams: { q: "1" } }).json()).toMatchObject({ method: "GET" })
          const error = await api.get("missing").catch((e: unknown) => e)
          expect(error).toBeInstanceOf(HTTPError)
          expect((error as HTTPError).response.status).toBe(404)
        })
      )
      expect(server.socketsOpened()).toBe(1)
    })
  )

  it.scopedLive("ky's own retries and its timeout (an AbortSignal) work through httpool", () =>
    Effect.gen(function* () {
      let calls = 0
      const flaky = yield* Servers.http((_req, res) => {
        calls++
        res.writeHead(calls < 3 ? 503 : 200, { "Content-Type": "text/plain" })
        res.end(calls < 3 ? "busy" : "done")
      })
      const slow = yield* Servers.http(Servers.slowHeaders(10_000))
      yield* withFetch((fetch) =>
        Effect.promise(async () => {
          const text = await ky.get(flaky.url, { fetch, retry: { limit: 2, delay: () => 0 } }).text()
          expect([text, calls]).toEqual(["done", 3])
          const timedOut = await ky.get(slow.url, { fetch, timeout: 200, retry: 0 }).catch((e: unknown) => e)
          expect(timedOut).toBeInstanceOf(TimeoutError)
        })
      )
      yield* slow.waitForOpenSockets(0)
    })
  )
})
