import * as zlib from "node:zlib"
import { ConnectionPool, Retry } from "@httpool/core"
import type * as Connector from "@httpool/core/Connector"
import type * as ContentDecoder from "@httpool/core/ContentDecoder"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as NodeConnector from "../src/NodeConnector.js"
import * as Certs from "./utils/certs.js"
import * as Fibers from "./utils/fibers.js"
import * as Servers from "./utils/servers.js"

const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, NodeConnector.layer)

const poolFor = (server: Servers.TestServer, options: Partial<ConnectionPool.Options> = {}) =>
  ConnectionPool.make({ scheme: server.scheme, host: server.host, port: server.port, ...options })

const echoed = (response: { readonly text: string }): Servers.Echoed => JSON.parse(response.text) as Servers.Echoed

const headerNames = (raw: ReadonlyArray<string>) => raw.filter((_, i) => i % 2 === 0)
const headerValue = (raw: ReadonlyArray<string>, name: string) => {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1]
  return undefined
}

/** Collects warnings logged while `effect` runs. */
/** Runs `effect`, collecting its log lines at `level` (the pool's routine events are Debug). */
const withLogs = <A, E, R>(effect: Effect.Effect<A, E, R>, level: "Warning" | "Debug" = "Warning") =>
  Effect.gen(function* () {
    const messages: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === level) messages.push(Array.isArray(message) ? message.join(" ") : String(message))
    })
    const result = yield* Effect.provide(effect, Logger.replace(Logger.defaultLogger, logger)).pipe(
      Logger.withMinimumLogLevel(LogLevel.Debug)
    )
    return [result, messages] as const
  })

describe("ConnectionPool", () => {
  describe("reuse", () => {
    it.scopedLive("three sequential GETs use one connection and count three requests", () =>
      provide(
        Effect.gen(function* () {
          for (const maxsize of [1, 16]) {
            const server = yield* Servers.http(Servers.fixed("ok"))
            const pool = yield* poolFor(server, { maxsize })
            for (let i = 0; i < 3; i++) {
              const response = yield* pool.request("GET", "/")
              expect(response.status).toBe(200)
              expect(response.text).toBe("ok")
            }
            const stats = yield* pool.stats
            expect(stats.numConnections).toBe(1)
            expect(stats.numRequests).toBe(3)
            expect(stats.idle).toBe(1)
            expect(stats.inUse).toBe(0)
            expect(server.socketsOpened()).toBe(1)
          }
        })
      )
    )

    it.scopedLive("a preloaded response has given its connection back before it is returned", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.fixed("hello"))
          const pool = yield* poolFor(server)
          const response = yield* pool.urlopen("GET", "/")
          expect(new TextDecoder().decode(response.data)).toBe("hello")
          expect(yield* pool.stats).toMatchObject({ idle: 1, inUse: 0 })
        })
      )
    )

    it.scopedLive("after Connection: close the next request opens a new socket", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.connectionClose("bye"))
          const pool = yield* poolFor(server)
          expect((yield* pool.request("GET", "/")).text).toBe("bye")
          expect((yield* pool.request("GET", "/")).text).toBe("bye")
          expect(server.socketsOpened()).toBe(2)
          expect(server.requests.map((r) => r.socketId)).toEqual([1, 2])
        })
      )
    )

    it.scopedLive("an idle connection the server closed is replaced, even with retries off", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.fixed("ok"), { keepAliveTimeout: 50 })
          const pool = yield* poolFor(server)
          expect((yield* pool.request("GET", "/")).status).toBe(200)
          yield* server.waitForOpenSockets(0)
          const second = yield* pool.request("GET", "/", { retries: false })
          expect(second.status).toBe(200)
          expect(server.socketsOpened()).toBe(2)
        })
      )
    )

    it.scopedLive("a connection older than maxConnectionAge is closed at checkout instead of reused", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.fixed("ok"))
          const pool = yield* poolFor(server, { maxConnectionAge: 0.5 })
          expect((yield* pool.request("GET", "/")).text).toBe("ok")
          expect((yield* pool.request("GET", "/")).text).toBe("ok")
          expect(server.socketsOpened()).toBe(1)
          yield* Effect.sleep("600 millis")
          expect((yield* pool.request("GET", "/")).text).toBe("ok")
          expect(server.socketsOpened()).toBe(2)
          yield* server.waitForOpenSockets(1)
        })
      )
    )

    it.scopedLive("a request that fails on a reused connection before any response byte is replayed once", () =>
      provide(
        Effect.gen(function* () {
          // The first response keeps the socket; the second request on it gets the socket
          // destroyed without an answer, as when the server closes a keep-alive connection
          // at the moment the request arrives.
          let calls = 0
          const server = yield* Servers.http((req, res) => {
            calls++
            if (calls === 2) {
              req.socket.destroy()
              return
            }
            res.end("ok")
          })
          const pool = yield* poolFor(server)
          expect((yield* pool.request("GET", "/")).text).toBe("ok")
          const replayed = yield* pool.request("GET", "/", { retries: false })
          expect(replayed.text).toBe("ok")
          expect(calls).toBe(3)
          expect(server.socketsOpened()).toBe(2)
        })
      )
    )

    it.scopedLive("a POST that reached the server on a reused connection is not replayed", () =>
      provide(
        Effect.gen(function* () {
          let calls = 0
          const server = yield* Servers.http((req, res) => {
            calls++
            if (calls === 2) {
              req.socket.destroy()
              return
            }
            res.end("ok")
          })
          const pool = yield* poolFor(server)
          expect((yield* pool.request("GET", "/")).text).toBe("ok")
          const error = yield* Effect.flip(pool.urlopen("POST", "/", { body: "once", retries: false }))
          expect(error._tag).toBe("ProtocolError")
          expect(calls).toBe(2)
        })
      )
    )

    it.scopedLive("a 408 on a reused connection is sent again on a fresh one, whatever the method", () =>
      provide(
        Effect.gen(function* () {
          // As a server that timed out the idle connection: the next request on it gets a
          // 408 and a close, and was never processed.
          let calls = 0
          const server = yield* Servers.http((_req, res) => {
            calls++
            if (calls % 2 === 0) {
              res.writeHead(408, { Connection: "close" }).end()
              return
            }
            res.end("ok")
          })
          const pool = yield* poolFor(server)
          expect((yield* pool.request("GET", "/")).text).toBe("ok")
          const post = yield* pool.request("POST", "/", { body: "once", retries: false })
          expect(post.status).toBe(200)
          expect(post.connection?.reused).toBe(false)
          expect(calls).toBe(3)
          // Streamed too: the 408's connection is dropped, the replay's response is returned.
          const streamed = yield* Effect.scoped(
            Effect.flatMap(pool.request("GET", "/", { preloadContent: false }), (r) => r.text)
          )
          expect(streamed).toBe("ok")
          expect(calls).toBe(5)
          expect(server.socketsOpened()).toBe(3)
        })
      )
    )

    it.scopedLive("a 408 on a fresh connection is the server's answer and goes to the caller", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http((_req, res) => res.writeHead(408, { Connection: "close" }).end())
          const pool = yield* poolFor(server)
          const response = yield* pool.request("GET", "/")
          expect(response.status).toBe(408)
          expect(server.requests).toHaveLength(1)
        })
      )
    )
  })

  describe("blocking and non-blocking", () => {
    it.scopedLive("block: false opens extra connections under load and discards them on return", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.slowHeaders(100, "slow"))
          const pool = yield* poolFor(server, { maxsize: 1 })
          const [responses, warnings] = yield* withLogs(
            Effect.all(
              Array.from({ length: 3 }, () => pool.request("GET", "/")),
              { concurrency: "unbounded" }
            ),
            "Debug"
          )
          expect(responses.map((r) => r.text)).toEqual(["slow", "slow", "slow"])
          expect(server.socketsOpened()).toBe(3)
          yield* server.waitForOpenSockets(1)
          expect(yield* pool.stats).toMatchObject({ idle: 1, inUse: 0, numConnections: 3 })
          expect(
            warnings.filter((w) => w.startsWith("Connection pool is full, discarding connection: 127.0.0.1"))
          ).toHaveLength(2)
          expect(warnings[0]).toContain("Connection pool size: 1")
        })
      )
    )

    it.scopedLive("block: true waits up to poolTimeout, then EmptyPoolError, without retrying", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.fixed("ok"))
          const pool = yield* poolFor(server, { maxsize: 1, block: true })
          const streaming = yield* pool.urlopen("GET", "/", { preloadContent: false })
          const error = yield* Effect.flip(pool.request("GET", "/", { poolTimeout: 0.05 }))
          expect(error._tag).toBe("EmptyPoolError")
          expect(error.message).toContain("Pool is empty and a new connection can't be opened due to blocking mode.")
          expect(server.requests).toHaveLength(1)
          expect(yield* streaming.text).toBe("ok")
          expect((yield* pool.request("GET", "/", { poolTimeout: 0.05 })).text).toBe("ok")
          expect(server.socketsOpened()).toBe(1)
        })
      )
    )

    it.scopedLive("200 concurrent requests through maxsize 10 with block never open more than 10 sockets", () =>
      provide(
        Effect.gen(function* () {
          let open = 0
          let peak = 0
          const server = yield* Servers.http(Servers.slowHeaders(2, "x"))
          server.server.on("connection", (socket) => {
            open++
            peak = Math.max(peak, open)
            socket.on("close", () => open--)
          })
          const pool = yield* poolFor(server, { maxsize: 10, block: true })
          const responses = yield* Effect.all(
            Array.from({ length: 200 }, () => pool.request("GET", "/")),
            { concurrency: "unbounded" }
          )
          expect(responses.every((r) => r.status === 200)).toBe(true)
          expect(server.socketsOpened()).toBeLessThanOrEqual(10)
          expect(peak).toBeLessThanOrEqual(10)
          expect(server.requests).toHaveLength(200)
          expect((yield* pool.stats).numRequests).toBe(200)
        })
      )
    )
  })

  describe("streaming", () => {
    it.scopedLive("a streamed body holds the connection until it is read, then gives it back", () =>
      provide(
        Effect.gen(function* () {
          const size = 1024 * 1024
          const { handler } = Servers.streamed(size)
          const server = yield* Servers.http(handler)
          const pool = yield* poolFor(server)
          const response = yield* pool.urlopen("GET", "/", { preloadContent: false })
          expect(yield* pool.stats).toMatchObject({ inUse: 1, idle: 0 })
          const chunks = yield* Stream.runCollect(response.stream)
          const total = Chunk.reduce(chunks, 0, (n, c) => n + c.length)
          expect(total).toBe(size)
          const joined = Buffer.concat(Chunk.toReadonlyArray(chunks))
          expect(joined.equals(Buffer.from(Servers.patternBytes(size)))).toBe(true)
          expect(yield* pool.stats).toMatchObject({ inUse: 0, idle: 1 })
          expect((yield* pool.request("GET", "/")).data.length).toBe(size)
          expect(server.socketsOpened()).toBe(1)
        })
      )
    )

    it.scopedLive("a streamed body abandoned when its Scope closes discards the connection", () =>
      provide(
        Effect.gen(function* () {
          const { handler } = Servers.streamed(4 * 1024 * 1024)
          const server = yield* Servers.http(handler)
          const pool = yield* poolFor(server)
          yield* Effect.scoped(
            Effect.gen(function* () {
              const response = yield* pool.urlopen("GET", "/", { preloadContent: false })
              yield* Stream.runDrain(Stream.take(response.stream, 1))
            })
          )
          expect(yield* pool.stats).toMatchObject({ inUse: 0, idle: 0 })
          yield* server.waitForOpenSockets(0)
          expect((yield* pool.request("GET", "/")).data.length).toBe(4 * 1024 * 1024)
          expect(server.socketsOpened()).toBe(2)
        })
      )
    )

    it.scopedLive("a chunked upload from a Stream and a chunked download", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http((req, res, received) => {
            res.writeHead(200, { "Transfer-Encoding": "chunked", "X-Te": String(req.headers["transfer-encoding"]) })
            for (let i = 0; i < 5; i++) res.write(Buffer.from(received.body).toString("latin1").toUpperCase())
            res.end()
          })
          const pool = yield* poolFor(server)
          const body = Stream.make("ab", "", "cd").pipe(Stream.map((s) => new TextEncoder().encode(s)))
          const response = yield* pool.urlopen("POST", "/", { body, preloadContent: false })
          expect(yield* response.text).toBe("ABCD".repeat(5))
          expect(server.requests[0].headers["transfer-encoding"]).toBe("chunked")
          expect(new TextDecoder().decode(server.requests[0].body)).toBe("abcd")
        })
      )
    )
  })

  describe("failures", () => {
    it.scopedLive("a refused connection is MaxRetryError caused by NewConnectionError, unwrapped without retries", () =>
      provide(
        Effect.gen(function* () {
          const port = yield* Servers.closedPort
          const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port })
          const wrapped = yield* Effect.flip(pool.request("GET", "/", { retries: 1 }))
          expect(wrapped._tag).toBe("MaxRetryError")
          if (wrapped._tag === "MaxRetryError") {
            expect(wrapped.reason?._tag).toBe("NewConnectionError")
            expect(wrapped.message).toContain(`Max retries exceeded with url: /`)
          }
          const bare = yield* Effect.flip(pool.request("GET", "/", { retries: false }))
          expect(bare._tag).toBe("NewConnectionError")
          expect(yield* pool.stats).toMatchObject({ inUse: 0 })
        })
      )
    )

    it.scopedLive("a body shorter than its Content-Length is a ProtocolError", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.truncated(100, "short"))
          const pool = yield* poolFor(server)
          const bare = yield* Effect.flip(pool.request("GET", "/", { retries: false }))
          expect(bare._tag).toBe("ProtocolError")
          const wrapped = yield* Effect.flip(pool.request("GET", "/", { retries: 2 }))
          expect(wrapped._tag).toBe("MaxRetryError")
          expect(server.requests).toHaveLength(4)
          expect(yield* pool.stats).toMatchObject({ inUse: 0 })
        })
      )
    )

    it.scopedLive("slow headers and a slow body past the read timeout are ReadTimeoutError", () =>
      provide(
        Effect.gen(function* () {
          const slowHeaders = yield* Servers.http(Servers.slowHeaders(500))
          const pool = yield* poolFor(slowHeaders)
          const headersError = yield* Effect.flip(pool.request("GET", "/", { retries: false, timeout: { read: 0.05 } }))
          expect(headersError._tag).toBe("ReadTimeoutError")
          expect(headersError.message).toContain("HTTPConnectionPool(host='127.0.0.1'")

          const slowBody = yield* Servers.http(Servers.slowBody(500))
          const bodyPool = yield* poolFor(slowBody)
          const bodyError = yield* Effect.flip(bodyPool.request("GET", "/", { retries: false, timeout: 0.05 }))
          expect(bodyError._tag).toBe("ReadTimeoutError")

          const streaming = yield* bodyPool.urlopen("GET", "/", {
            retries: false,
            timeout: 0.05,
            preloadContent: false
          })
          const streamError = yield* Effect.flip(streaming.text)
          expect(streamError._tag).toBe("ReadTimeoutError")
          yield* slowBody.waitForOpenSockets(0)
        })
      )
    )

    it.scopedLive("a request's connect timeout replaces the pool's", () =>
      provide(
        Effect.gen(function* () {
          // The peer accepts TCP and never answers the TLS handshake.
          const silent = yield* Servers.raw()
          const pool = yield* ConnectionPool.make({ scheme: "https", host: "127.0.0.1", port: silent.port })
          const error = yield* Effect.flip(pool.request("GET", "/", { retries: false, timeout: { connect: 0.1 } }))
          expect(error._tag).toBe("ConnectTimeoutError")
          const wrapped = yield* Effect.flip(pool.request("GET", "/", { retries: 1, timeout: 0.1 }))
          expect(wrapped._tag).toBe("MaxRetryError")
          if (wrapped._tag === "MaxRetryError") expect(wrapped.reason?._tag).toBe("ConnectTimeoutError")
          yield* silent.waitForOpenSockets(0)
        })
      )
    )

    it.scopedLive("the read timeout is inactivity between reads, the total is a deadline", () =>
      provide(
        Effect.gen(function* () {
          // A body in 6 pieces 40 ms apart: never silent for 100 ms, but 200 ms in all.
          const server = yield* Servers.http((_req, res) => {
            res.writeHead(200, { "Content-Length": 6 })
            let sent = 0
            const tick = setInterval(() => {
              res.write("x")
              if (++sent === 6) {
                clearInterval(tick)
                res.end()
              }
            }, 40)
            res.on("close", () => clearInterval(tick))
          })
          const pool = yield* poolFor(server)
          const ok = yield* pool.request("GET", "/", { retries: false, timeout: { read: 0.1 } })
          expect(ok.text).toBe("xxxxxx")
          const late = yield* Effect.flip(pool.request("GET", "/", { retries: false, timeout: { total: 0.1 } }))
          expect(late._tag).toBe("ReadTimeoutError")
        })
      )
    )

    it.scopedLive("a bad method or header fails before anything is sent", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.echo)
          const pool = yield* poolFor(server)
          for (const method of ["GET /x HTTP/1.1\r\nX: y", "GE T", "GET\0", ""]) {
            const error = yield* Effect.flip(pool.request(method, "/"))
            expect(error._tag).toBe("ValueError")
          }
          const header = yield* Effect.flip(pool.request("GET", "/", { headers: { "X-Bad": "a\r\nInjected: 1" } }))
          expect(header._tag).toBe("InvalidHeader")
          const name = yield* Effect.flip(pool.request("GET", "/", { headers: { "X Bad": "a" } }))
          expect(name._tag).toBe("InvalidHeader")
          const target = yield* Effect.flip(pool.request("GET", "http://other.example/"))
          expect(target._tag).toBe("HostChangedError")
          expect(server.socketsOpened()).toBe(0)
        })
      )
    )
  })

  describe("requests", () => {
    it.scopedLive("default headers: Host, Accept-Encoding identity, User-Agent, in urllib3's order", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.echo)
          const pool = yield* poolFor(server)
          const seen = echoed(yield* pool.request("GET", "/a?b=c#fragment", { headers: [["X-First", "1"]] }))
          expect(seen.url).toBe("/a?b=c")
          expect(headerValue(seen.rawHeaders, "host")).toBe(`127.0.0.1:${server.port}`)
          expect(headerValue(seen.rawHeaders, "accept-encoding")).toBe("identity")
          expect(headerValue(seen.rawHeaders, "user-agent")).toMatch(/^httpool\//)
          const names = headerNames(seen.rawHeaders)
          expect(names.indexOf("Accept-Encoding")).toBeLessThan(names.indexOf("User-Agent"))
          expect(names.indexOf("User-Agent")).toBeLessThan(names.indexOf("X-First"))

          const custom = echoed(
            yield* pool.request("GET", "/", { headers: { "user-agent": "mine", "Accept-Encoding": "gzip" } })
          )
          expect(headerValue(custom.rawHeaders, "user-agent")).toBe("mine")
          expect(headerValue(custom.rawHeaders, "accept-encoding")).toBe("gzip")
        })
      )
    )

    it.scopedLive("request headers replace the pool's headers", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.echo)
          const pool = yield* poolFor(server, { headers: { "X-Pool": "p" } })
          const withPool = echoed(yield* pool.request("GET", "/"))
          expect(headerValue(withPool.rawHeaders, "x-pool")).toBe("p")
          const replaced = echoed(yield* pool.request("GET", "/", { headers: { "X-Request": "r" } }))
          expect(headerValue(replaced.rawHeaders, "x-pool")).toBeUndefined()
          expect(headerValue(replaced.rawHeaders, "x-request")).toBe("r")
        })
      )
    )

    it.scopedLive("fields go to the query for GET and to a multipart body for POST; json is compact", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.echo)
          const pool = yield* poolFor(server)
          const get = echoed(yield* pool.request("GET", "/search", { fields: { q: "a b", n: "1" } }))
          expect(get.url).toBe("/search?q=a+b&n=1")
          const post = echoed(
            yield* pool.request("POST", "/upload", { fields: { k: "v" }, multipartBoundary: "boundary" })
          )
          expect(headerValue(post.rawHeaders, "content-type")).toBe("multipart/form-data; boundary=boundary")
          expect(post.body).toBe('--boundary\r\nContent-Disposition: form-data; name="k"\r\n\r\nv\r\n--boundary--\r\n')
          const form = echoed(yield* pool.request("POST", "/", { fields: { k: "v w" }, encodeMultipart: false }))
          expect(headerValue(form.rawHeaders, "content-type")).toBe("application/x-www-form-urlencoded")
          expect(form.body).toBe("k=v+w")
          const json = echoed(yield* pool.request("PUT", "/", { json: { a: [1, "é"] } }))
          expect(headerValue(json.rawHeaders, "content-type")).toBe("application/json")
          expect(Buffer.from(json.body, "latin1").toString("utf8")).toBe('{"a":[1,"é"]}')
          const empty = echoed(yield* pool.request("POST", "/"))
          expect(headerValue(empty.rawHeaders, "content-length")).toBe("0")
          const both = yield* Effect.flip(pool.request("POST", "/", { fields: { a: "b" }, body: "x" }))
          expect(both._tag).toBe("ValueError")
        })
      )
    )

    it.scopedLive("HEAD, 204 and 304 have no body", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http((req, res) => {
            const status = req.url === "/204" ? 204 : req.url === "/304" ? 304 : 200
            res.writeHead(status, { "Content-Encoding": "gzip" })
            res.end(status === 200 && req.method !== "HEAD" ? zlib.gzipSync("body") : undefined)
          })
          const pool = yield* poolFor(server)
          expect((yield* pool.request("HEAD", "/")).data.length).toBe(0)
          expect((yield* pool.request("GET", "/204")).status).toBe(204)
          expect((yield* pool.request("GET", "/304")).data.length).toBe(0)
          expect((yield* pool.request("GET", "/")).text).toBe("body")
        })
      )
    )
  })

  describe("decoding", () => {
    const encoded = (encoding: string, body: Uint8Array): Uint8Array => {
      switch (encoding) {
        case "gzip":
        case "x-gzip":
          return zlib.gzipSync(body)
        case "deflate":
          return zlib.deflateSync(body)
        case "br":
          return zlib.brotliCompressSync(body)
        default:
          return body
      }
    }

    it.scopedLive(
      "gzip, x-gzip, deflate and br are decoded, preloaded and streamed; decodeContent false keeps bytes",
      () =>
        provide(
          Effect.gen(function* () {
            const body = Servers.patternBytes(100_000)
            const server = yield* Servers.http((req, res) => {
              const encoding = req.url!.slice(1)
              const data = encoded(encoding, body)
              res.writeHead(200, { "Content-Encoding": encoding.toUpperCase(), "Content-Length": data.length })
              res.end(data)
            })
            const pool = yield* poolFor(server)
            for (const encoding of ["gzip", "x-gzip", "deflate", "br"]) {
              const preloaded = yield* pool.request("GET", `/${encoding}`)
              expect(Buffer.from(preloaded.data).equals(Buffer.from(body))).toBe(true)
              const streamed = yield* pool.urlopen("GET", `/${encoding}`, { preloadContent: false })
              expect(Buffer.from(yield* streamed.data).equals(Buffer.from(body))).toBe(true)
              const raw = yield* pool.request("GET", `/${encoding}`, { decodeContent: false })
              expect(Buffer.from(raw.data).equals(Buffer.from(encoded(encoding, body)))).toBe(true)
            }
            expect(server.socketsOpened()).toBe(1)
          })
        )
    )

    it.scopedLive(
      "zstd is decoded where node:zlib has it (Node 22.15+) and a DecodeError where not; decodeContent false keeps bytes",
      () =>
        provide(
          Effect.gen(function* () {
            // "hello zstd" as one zstd frame, so that the server needs no zstd of its own.
            const frame = Buffer.from("28b52ffd200a51000068656c6c6f207a737464", "hex")
            const server = yield* Servers.http((_req, res) => {
              res.writeHead(200, { "Content-Encoding": "zstd", "Content-Length": frame.length })
              res.end(frame)
            })
            const pool = yield* poolFor(server)
            const hasZstd = typeof Reflect.get(zlib, "zstdDecompressSync") === "function"
            if (hasZstd) {
              expect((yield* pool.request("GET", "/")).text).toBe("hello zstd")
              const streamed = yield* pool.urlopen("GET", "/", { preloadContent: false })
              expect(Buffer.from(yield* streamed.data).toString()).toBe("hello zstd")
            } else {
              const preloaded = yield* Effect.flip(pool.request("GET", "/"))
              expect(preloaded._tag).toBe("DecodeError")
              expect(preloaded.message).toMatch(/cannot decode zstd/)
              const streamed = yield* pool.urlopen("GET", "/", { preloadContent: false })
              const error = yield* Effect.flip(streamed.data)
              expect(error._tag).toBe("DecodeError")
              expect(error.message).toMatch(/cannot decode zstd/)
            }
            const raw = yield* pool.request("GET", "/", { decodeContent: false })
            expect(Buffer.from(raw.data).equals(frame)).toBe(true)
          })
        )
    )

    it.scopedLive("stacked encodings are decoded in reverse order; corrupt data and bombs are DecodeError", () =>
      provide(
        Effect.gen(function* () {
          const stacked = zlib.brotliCompressSync(zlib.gzipSync("layers"))
          const bomb = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024))
          const server = yield* Servers.http((req, res) => {
            if (req.url === "/stacked") {
              res.writeHead(200, { "Content-Encoding": "gzip, br" })
              res.end(stacked)
            } else if (req.url === "/corrupt") {
              res.writeHead(200, { "Content-Encoding": "gzip" })
              res.end(Buffer.from("definitely not gzip"))
            } else {
              res.writeHead(200, { "Content-Encoding": "gzip" })
              res.end(bomb)
            }
          })
          const pool = yield* poolFor(server, { maxDecodedSize: 1024 * 1024 })
          expect((yield* pool.request("GET", "/stacked")).text).toBe("layers")
          expect((yield* Effect.flip(pool.request("GET", "/corrupt")))._tag).toBe("DecodeError")
          expect((yield* Effect.flip(pool.request("GET", "/bomb")))._tag).toBe("DecodeError")
          const streamed = yield* pool.urlopen("GET", "/bomb", { preloadContent: false })
          expect((yield* Effect.flip(streamed.data))._tag).toBe("DecodeError")
        })
      )
    )
  })

  describe("redirects and retries", () => {
    it.scopedLive("same-host redirects are followed, 303 becomes GET, the history is recorded", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http((req, res, received) => {
            const hops: Record<string, readonly [number, string]> = {
              "/start": [303, "/second"],
              "/second": [302, "third"],
              "/third": [301, "/final"]
            }
            const hop = hops[req.url ?? ""]
            if (hop !== undefined) {
              res.writeHead(hop[0], { Location: hop[1], "Content-Length": 4 })
              res.end("move")
              return
            }
            Servers.echo(req, res, received)
          })
          const pool = yield* poolFor(server, { maxsize: 2, block: true })
          const response = yield* pool.request("POST", "/start", { body: "payload" })
          const seen = echoed(response)
          expect(seen.method).toBe("GET")
          expect(seen.url).toBe("/final")
          expect(seen.bodyLength).toBe(0)
          expect(response.url).toBe(`${server.url}/final`)
          expect(response.retries?.history.map((h) => [h.status, h.redirectLocation])).toEqual([
            [303, "/second"],
            [302, "third"],
            [301, "/final"]
          ])
          expect(server.socketsOpened()).toBe(1)
          const unfollowed = yield* pool.request("GET", "/start", { redirect: false })
          expect(unfollowed.status).toBe(303)
          expect(unfollowed.redirectLocation).toBe("/second")
        })
      )
    )

    it.scopedLive("307 keeps the method and re-sends the body; too many redirects is MaxRetryError", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http((req, res, received) => {
            if (req.url === "/loop") {
              res.writeHead(302, { Location: "/loop" })
              res.end()
            } else if (req.url === "/temp") {
              res.writeHead(307, { Location: "/echo" })
              res.end()
            } else Servers.echo(req, res, received)
          })
          const pool = yield* poolFor(server)
          const body = Servers.patternBytes(65 * 1024)
          const seen = echoed(yield* pool.request("PUT", "/temp", { body }))
          expect(seen.method).toBe("PUT")
          expect(seen.bodyLength).toBe(body.length)
          expect(Buffer.from(seen.body, "latin1").equals(Buffer.from(body))).toBe(true)
          const error = yield* Effect.flip(pool.request("GET", "/loop", { retries: 3 }))
          expect(error._tag).toBe("MaxRetryError")
          if (error._tag === "MaxRetryError") expect(error.reason?.message).toBe("too many redirects")
          const last = yield* pool.request("GET", "/loop", {
            retries: Retry.make({ total: 2, raiseOnRedirect: false })
          })
          expect(last.status).toBe(302)
          expect(server.socketsOpened()).toBe(1)
        })
      )
    )

    it.scopedLive("a redirect that cannot replay its body is UnrewindableBodyError", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http((req, res, received) => {
            if (req.url === "/temp") {
              res.writeHead(307, { Location: "/echo" })
              res.end()
            } else Servers.echo(req, res, received)
          })
          const pool = yield* poolFor(server)
          async function* once() {
            yield new TextEncoder().encode("one shot")
          }
          const error = yield* Effect.flip(pool.urlopen("POST", "/temp", { body: once() }))
          expect(error._tag).toBe("UnrewindableBodyError")
        })
      )
    )

    it.scopedLive(
      "status retries follow statusForcelist and Retry-After; exhausted is MaxRetryError or the response",
      () =>
        provide(
          Effect.gen(function* () {
            let calls = 0
            const server = yield* Servers.http((req, res) => {
              calls++
              if (req.url === "/busy" || calls % 3 !== 0) {
                res.writeHead(503, { "Retry-After": "0" })
                res.end("busy")
              } else res.end("done")
            })
            const pool = yield* poolFor(server)
            const response = yield* pool.request("GET", "/")
            expect(response.text).toBe("done")
            expect(response.retries?.history.map((h) => h.status)).toEqual([503, 503])
            const exhausted = yield* Effect.flip(
              pool.request("GET", "/busy", { retries: Retry.make({ total: 1, statusForcelist: [503] }) })
            )
            expect(exhausted._tag).toBe("MaxRetryError")
            if (exhausted._tag === "MaxRetryError")
              expect(exhausted.reason?.message).toBe("too many 503 error responses")
            const returned = yield* pool.request("GET", "/busy", {
              retries: Retry.make({ total: 0, statusForcelist: [503], raiseOnStatus: false })
            })
            expect(returned.status).toBe(503)
          })
        )
    )
  })

  describe("TLS", () => {
    it.scopedLive("verifies against the given CA and rejects an unknown one", () =>
      provide(
        Effect.gen(function* () {
          const certs = yield* Certs.certs
          const server = yield* Servers.https(Servers.fixed("secure"))
          const trusted = yield* poolFor(server, { caCerts: certs.ca.certPath })
          expect((yield* trusted.request("GET", "/")).text).toBe("secure")
          const untrusted = yield* poolFor(server, { caCerts: certs.selfSigned.certPath })
          const error = yield* Effect.flip(untrusted.request("GET", "/", { retries: false }))
          expect(error._tag).toBe("SSLError")
          const wrapped = yield* Effect.flip(untrusted.request("GET", "/", { retries: 1 }))
          expect(wrapped._tag).toBe("MaxRetryError")
          if (wrapped._tag === "MaxRetryError") expect(wrapped.reason?._tag).toBe("SSLError")
          const pinned = yield* poolFor(server, {
            certReqs: "CERT_NONE",
            assertFingerprint: certs.server.fingerprints.sha256
          })
          expect((yield* pinned.request("GET", "/")).text).toBe("secure")
        })
      )
    )
  })

  describe("connection info", () => {
    it.scopedLive("a response names its pool, its connection, whether it was reused and the peer address", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.fixed("ok"))
          const pool = yield* poolFor(server, { maxsize: 2 })
          const first = yield* pool.request("GET", "/")
          const second = yield* pool.request("GET", "/")
          expect(first.connection).toEqual({
            pool: `http://127.0.0.1:${server.port}`,
            id: first.connection?.id,
            reused: false,
            waitedMillis: 0,
            remoteAddress: "127.0.0.1"
          })
          expect(second.connection?.id).toBe(first.connection?.id)
          expect(second.connection?.reused).toBe(true)
          const streamed = yield* pool.request("GET", "/", { preloadContent: false })
          expect(streamed.connection?.reused).toBe(true)
          expect(yield* streamed.text).toBe("ok")
        })
      )
    )

    it.scopedLive("over TLS the peer address is the server's", () =>
      provide(
        Effect.gen(function* () {
          const certs = yield* Certs.certs
          const server = yield* Servers.https(Servers.fixed("secure"))
          const pool = yield* poolFor(server, { caCerts: certs.ca.certPath })
          const response = yield* pool.request("GET", "/")
          expect(response.connection?.pool).toBe(`https://127.0.0.1:${server.port}`)
          expect(response.connection?.remoteAddress).toBe("127.0.0.1")
        })
      )
    )

    it.scopedLive("a request that waited for a blocking pool's only connection says how long", () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.slowHeaders(150, "late"))
          const pool = yield* poolFor(server, { maxsize: 1, block: true })
          const [a, b] = yield* Effect.all([pool.request("GET", "/"), pool.request("GET", "/")], {
            concurrency: 2
          })
          const waits = [a.connection?.waitedMillis ?? -1, b.connection?.waitedMillis ?? -1].sort((x, y) => x - y)
          expect(waits[0]).toBe(0)
          // The second waited for the first response (a delay of 150 ms on the server's side).
          expect(waits[1]).toBeGreaterThan(0)
          expect(b.connection?.id).toBe(a.connection?.id)
        })
      )
    )
  })

  describe("interruption and closing", () => {
    it.scopedLive(
      "interrupting while waiting for a slot, for headers or while streaming leaves no lease and no extra socket",
      () =>
        provide(
          Effect.gen(function* () {
            const release = yield* Deferred.make<void>()
            const hung = yield* Deferred.make<void>()
            const server = yield* Servers.http((req, res) => {
              if (req.url === "/hang") return Deferred.unsafeDone(hung, Exit.void)
              if (req.url === "/stream") {
                res.writeHead(200, { "Content-Length": 10_000_000 })
                res.write(Buffer.alloc(65536))
                return
              }
              res.end("ok")
            })
            const pool = yield* poolFor(server, { maxsize: 1, block: true })
            // Waiting for headers.
            const hanging = yield* Effect.fork(pool.request("GET", "/hang"))
            yield* Deferred.await(hung)
            // Waiting for a slot.
            const waiting = yield* Effect.fork(pool.request("GET", "/"))
            yield* Fibers.untilBlocked(waiting)
            yield* Fiber.interrupt(waiting)
            yield* Fiber.interrupt(hanging)
            yield* server.waitForOpenSockets(0)
            expect(yield* pool.stats).toMatchObject({ inUse: 0, idle: 0 })
            // Streaming: interrupted once the body is being read.
            const reading = yield* Deferred.make<void>()
            const streaming = yield* Effect.fork(
              Effect.scoped(
                Effect.flatMap(pool.urlopen("GET", "/stream", { preloadContent: false }), (r) =>
                  Effect.zipRight(
                    Stream.runForEach(r.stream, () => Deferred.succeed(reading, undefined)),
                    Deferred.await(release)
                  )
                )
              )
            )
            yield* Deferred.await(reading)
            yield* Fiber.interrupt(streaming)
            yield* server.waitForOpenSockets(0)
            expect(yield* pool.stats).toMatchObject({ inUse: 0, idle: 0 })
            expect((yield* pool.request("GET", "/")).text).toBe("ok")
            expect(yield* pool.stats).toMatchObject({ inUse: 0, idle: 1 })
          })
        )
    )

    it.scopedLive("interrupting while connecting or while sending the body leaves no lease and no socket", () =>
      provide(
        Effect.gen(function* () {
          // An https target whose peer accepts TCP and never answers the TLS handshake.
          const silent = yield* Servers.raw()
          const tlsPool = yield* ConnectionPool.make({ scheme: "https", host: "127.0.0.1", port: silent.port })
          const connecting = yield* Effect.fork(tlsPool.request("GET", "/"))
          yield* silent.waitForOpenSockets(1)
          yield* Fiber.interrupt(connecting)
          yield* silent.waitForOpenSockets(0)
          expect(yield* tlsPool.stats).toMatchObject({ inUse: 0, idle: 0 })

          // A body that sends one chunk and then never ends.
          const server = yield* Servers.http(Servers.fixed("ok"))
          // Completed when the head and the first chunk have arrived.
          const firstBytes = yield* Deferred.make<void>()
          server.server.once("connection", (socket) =>
            socket.once("data", () => Deferred.unsafeDone(firstBytes, Exit.void))
          )
          const pool = yield* poolFor(server)
          const endless = Stream.concat(Stream.make(new TextEncoder().encode("first")), Stream.never)
          const sending = yield* Effect.fork(pool.urlopen("POST", "/", { body: endless }))
          yield* Deferred.await(firstBytes)
          yield* Fiber.interrupt(sending)
          yield* server.waitForOpenSockets(0)
          expect(yield* pool.stats).toMatchObject({ inUse: 0, idle: 0 })
          expect(server.requests).toHaveLength(0)
        })
      )
    )

    it.live("closing the pool's Scope closes every socket; a closed pool fails with ClosedPoolError", () =>
      provide(
        Effect.gen(function* () {
          const serverScope = yield* Scope.make()
          const server = yield* Scope.extend(Servers.http(Servers.fixed("ok")), serverScope)
          const poolScope = yield* Scope.make()
          const pool = yield* Scope.extend(poolFor(server, { maxsize: 4 }), poolScope)
          yield* Effect.all(
            Array.from({ length: 4 }, () => pool.request("GET", "/")),
            { concurrency: "unbounded" }
          )
          expect(server.openSockets()).toBeGreaterThan(0)
          yield* Scope.close(poolScope, Exit.void)
          yield* server.waitForOpenSockets(0)
          const error = yield* Effect.flip(pool.request("GET", "/"))
          expect(error._tag).toBe("ClosedPoolError")
          yield* pool.close
          yield* Scope.close(serverScope, Exit.void)
        })
      )
    )
  })

  it.live("make rejects bad options with typed errors", () =>
    provide(
      Effect.gen(function* () {
        const scoped = <A, E>(
          effect: Effect.Effect<A, E, Scope.Scope | Connector.Connector | ContentDecoder.ContentDecoder>
        ) => Effect.scoped(effect)
        expect((yield* Effect.flip(scoped(ConnectionPool.make({ host: "" }))))._tag).toBe("LocationValueError")
        expect((yield* Effect.flip(scoped(ConnectionPool.make({ host: "h", maxsize: 0 }))))._tag).toBe("ValueError")
        expect((yield* Effect.flip(scoped(ConnectionPool.make({ host: "h", timeout: -1 }))))._tag).toBe("ValueError")
        expect((yield* Effect.flip(scoped(ConnectionPool.make({ host: "h", port: 70000 }))))._tag).toBe("ValueError")
      })
    )
  )
})
