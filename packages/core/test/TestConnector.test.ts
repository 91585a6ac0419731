import * as PlatformHttpClient from "@effect/platform/HttpClient"
import * as ConnectionPool from "@httpool/core/ConnectionPool"
import * as Headers from "@httpool/core/Headers"
import * as HttpClient from "@httpool/core/HttpClient"
import * as PoolManager from "@httpool/core/PoolManager"
import * as ProxyManager from "@httpool/core/ProxyManager"
import * as TestConnector from "@httpool/core/TestConnector"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"

// Every test here runs on the TestClock (`it.effect` / `it.scoped`): pauses, stalls and
// timeouts take no real time, and a test moves the clock with `TestClock.adjust`.

const { route } = TestConnector

/** A PoolManager over the kit; the kit's service stays available beside it. */
const managerOver = (routes: ReadonlyArray<TestConnector.Route>, options?: TestConnector.Options) =>
  PoolManager.layer().pipe(Layer.provideMerge(TestConnector.layer(routes, options)))

const kit = TestConnector.TestConnector

const utf8 = new TextDecoder()

/** A pool on one origin of the kit, without retries: faults come out as they are. */
const poolOn = (url: string) =>
  Effect.gen(function* () {
    const parsed = new URL(url)
    return yield* ConnectionPool.make({
      scheme: parsed.protocol === "https:" ? "https" : "http",
      host: parsed.hostname,
      port: parsed.port === "" ? null : Number(parsed.port),
      retries: false
    })
  })

describe("TestConnector", () => {
  describe("routes and replies", () => {
    it.effect("answers JSON and text, and records each request with its headers and body", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        const user = yield* manager.request("GET", "https://api.test/users/1", { headers: { "X-Trace": "t1" } })
        expect(user.status).toBe(200)
        expect(user.reason).toBe("OK")
        expect(Headers.get(user.headers, "content-type")).toEqual(Option.some("application/json"))
        expect(Headers.get(user.headers, "content-length")).toEqual(Option.some("21"))
        expect(yield* user.json).toEqual({ id: 1, name: "Ada" })
        const created = yield* manager.request("POST", "https://api.test/users", { json: { name: "Grace" } })
        expect(created.status).toBe(201)
        expect(created.reason).toBe("Created")
        const requests = yield* Effect.flatMap(kit, (k) => k.requests)
        expect(requests.map((r) => [r.method, r.url, r.socket, r.reused])).toEqual([
          ["GET", "https://api.test/users/1", 1, false],
          ["POST", "https://api.test/users", 1, true]
        ])
        expect(requests[0]!.target).toBe("/users/1")
        expect([requests[0]!.scheme, requests[0]!.host, requests[0]!.port]).toEqual(["https", "api.test", 443])
        expect(Headers.get(requests[0]!.headers, "x-trace")).toEqual(Option.some("t1"))
        expect(Headers.get(requests[0]!.headers, "host")).toEqual(Option.some("api.test"))
        expect(JSON.parse(requests[1]!.text)).toEqual({ name: "Grace" })
        expect(Headers.get(requests[1]!.headers, "content-length")).toEqual(
          Option.some(String(requests[1]!.body.length))
        )
      }).pipe(
        Effect.provide(
          managerOver([
            route("GET", "https://api.test/users/1", TestConnector.json({ id: 1, name: "Ada" })),
            route("POST", "https://api.test/users", TestConnector.json({ id: 2 }, { status: 201 }))
          ])
        )
      )
    )

    it.effect("matches by method, scheme, host, port, path, prefix, query and RegExp, first route first", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        const body = (method: string, url: string) => Effect.map(manager.request(method, url), (r) => r.text)
        expect(yield* body("GET", "http://a.test/x")).toBe("a-get")
        expect(yield* body("DELETE", "http://a.test/x")).toBe("any-method")
        expect(yield* body("GET", "http://a.test:8080/x")).toBe("port-8080")
        expect(yield* body("GET", "https://a.test/x")).toBe("any-host")
        expect(yield* body("GET", "http://b.test/files/deep/f.txt")).toBe("prefix")
        expect(yield* body("GET", "http://b.test/search?q=1")).toBe("query-1")
        expect(yield* body("GET", "http://b.test/search?q=2")).toBe("no-query")
        expect(yield* body("GET", "http://c.test/v2/things")).toBe("regexp")
      }).pipe(
        Effect.provide(
          managerOver([
            route("GET", "http://a.test/x", TestConnector.text("a-get")),
            route("*", "http://a.test/x", TestConnector.text("any-method")),
            route("GET", "http://a.test:8080/x", TestConnector.text("port-8080")),
            route("GET", "/x", TestConnector.text("any-host")),
            route("GET", "/files/*", TestConnector.text("prefix")),
            route("GET", "/search?q=1", TestConnector.text("query-1")),
            route("GET", "/search", TestConnector.text("no-query")),
            route("GET", /^http:\/\/c\.test\/v\d+\//, TestConnector.text("regexp"))
          ])
        )
      )
    )

    it.effect("a route with times answers that many requests, then the next route answers", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        const statuses: Array<number> = []
        for (let i = 0; i < 4; i++)
          statuses.push((yield* manager.request("GET", "http://a.test/", { retries: false })).status)
        expect(statuses).toEqual([503, 503, 200, 200])
      }).pipe(
        Effect.provide(
          managerOver([
            route("GET", "/", TestConnector.status(503), { times: 2 }),
            route("GET", "/", TestConnector.text("up"))
          ])
        )
      )
    )

    it.effect(
      "a request no route matches is a NoRouteError defect naming it and the routes; a fallback answers instead",
      () =>
        Effect.gen(function* () {
          const manager = yield* PoolManager.PoolManager
          const exit = yield* Effect.exit(manager.request("GET", "http://a.test/missing"))
          expect(Exit.isFailure(exit)).toBe(true)
          const defect = Exit.isFailure(exit) ? Cause.dieOption(exit.cause) : Option.none()
          expect(Option.isSome(defect)).toBe(true)
          const error = Option.getOrThrow(defect) as TestConnector.NoRouteError
          expect(error._tag).toBe("NoRouteError")
          expect(error.url).toBe("http://a.test/missing")
          expect(error.message).toContain("GET /known")
          const fallback = yield* Effect.provide(
            Effect.flatMap(PoolManager.PoolManager, (m) => m.request("GET", "http://a.test/missing")),
            managerOver([], { fallback: TestConnector.text("nothing here", { status: 404 }) })
          )
          expect([fallback.status, fallback.text]).toEqual([404, "nothing here"])
        }).pipe(Effect.provide(managerOver([route("GET", "/known", TestConnector.text("k"))])))
    )

    it.effect("a handler answers from the request; HEAD and 204 get no body; redirects are followed", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        const echoed = yield* manager.request("PUT", "http://a.test/echo", { body: "hello" })
        expect(yield* echoed.json).toEqual({ method: "PUT", body: "hello", length: "5" })
        const head = yield* manager.request("HEAD", "http://a.test/echo")
        expect(head.data.length).toBe(0)
        expect(Headers.get(head.headers, "content-length")).toEqual(Option.some("12"))
        expect((yield* manager.request("GET", "http://a.test/empty")).status).toBe(204)
        const moved = yield* manager.request("GET", "http://a.test/old")
        expect([moved.status, moved.text, moved.url]).toEqual([200, "new place", "http://b.test/new"])
      }).pipe(
        Effect.provide(
          managerOver([
            route("HEAD", "/echo", TestConnector.text("twelve bytes")),
            route(
              "*",
              "/echo",
              TestConnector.handle((request) =>
                TestConnector.json({
                  method: request.method,
                  body: request.text,
                  length: Option.getOrNull(Headers.get(request.headers, "content-length"))
                })
              )
            ),
            route("GET", "/empty", TestConnector.status(204)),
            route("GET", "http://a.test/old", TestConnector.redirect("http://b.test/new", { status: 301 })),
            route("GET", "http://b.test/new", TestConnector.text("new place"))
          ])
        )
      )
    )

    it.effect("a streamed request body is recorded whole, with Transfer-Encoding: chunked", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        yield* manager.request("POST", "http://a.test/upload", {
          body: Stream.make("ab", "cd", "ef").pipe(Stream.encodeText)
        })
        const [request] = yield* Effect.flatMap(kit, (k) => k.requests)
        expect(request!.text).toBe("abcdef")
        expect(Headers.get(request!.headers, "transfer-encoding")).toEqual(Option.some("chunked"))
      }).pipe(Effect.provide(managerOver([route("POST", "/upload", TestConnector.status(204))])))
    )

    it.effect("a forward proxy sees absolute-form targets; routes match the URL they name", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        const response = yield* manager.request("GET", "http://origin.test/page")
        expect(response.text).toBe("proxied page")
        const [request] = yield* Effect.flatMap(kit, (k) => k.requests)
        expect([request!.host, request!.port, request!.target, request!.url]).toEqual([
          "proxy.test",
          3128,
          "http://origin.test/page",
          "http://origin.test/page"
        ])
        expect(Headers.get(request!.headers, "proxy-authorization")).toEqual(Option.some("Basic dTpw"))
      }).pipe(
        Effect.provide(
          ProxyManager.layer("http://proxy.test:3128", { proxyHeaders: { "Proxy-Authorization": "Basic dTpw" } }).pipe(
            Layer.provideMerge(
              TestConnector.layer([route("GET", "http://origin.test/page", TestConnector.text("proxied page"))])
            )
          )
        )
      )
    )
  })

  describe("SKIP_HEADER in default headers", () => {
    it.effect(
      "a manager whose default headers skip a header that cannot be skipped fails the calls that use them",
      () =>
        Effect.gen(function* () {
          const layer = PoolManager.layer({ headers: { "X-Custom": Headers.SKIP_HEADER } }).pipe(
            Layer.provideMerge(TestConnector.layer([route("GET", "http://a.test/x", TestConnector.text("ok"))]))
          )
          const [own, defaults] = yield* Effect.gen(function* () {
            const manager = yield* PoolManager.PoolManager
            const own = yield* manager.request("GET", "http://a.test/x", { headers: { Accept: "*/*" } })
            const defaults = yield* Effect.flip(manager.request("GET", "http://a.test/x"))
            return [own, defaults] as const
          }).pipe(Effect.provide(layer))
          expect(own.text).toBe("ok")
          expect(defaults._tag).toBe("ValueError")
        })
    )
  })

  describe("sockets", () => {
    it.effect("closing the manager's Scope closes every socket it opened, streamed responses included", () =>
      Effect.gen(function* () {
        const k = yield* kit
        yield* Effect.scoped(
          Effect.gen(function* () {
            const manager = yield* PoolManager.make()
            yield* manager.request("GET", "http://a.test/")
            yield* manager.request("GET", "http://b.test/")
            // Streamed and never read: its connection is held until the Scope closes.
            yield* manager.request("GET", "http://c.test/", { preloadContent: false })
            expect(yield* k.stats).toEqual({ opened: 3, closed: 0, open: 3, failedConnects: 0 })
          })
        )
        expect(yield* k.stats).toEqual({ opened: 3, closed: 3, open: 0, failedConnects: 0 })
      }).pipe(Effect.provide(TestConnector.layer([route("GET", "/", TestConnector.text("ok"))])))
    )

    it.effect("keep-alive: one socket for sequential requests; Connection: close ends it", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        for (let i = 0; i < 3; i++) yield* manager.request("GET", "http://a.test/")
        expect(yield* Effect.flatMap(kit, (k) => k.stats)).toMatchObject({ opened: 1, open: 1 })
        yield* manager.request("GET", "http://a.test/bye")
        expect(yield* Effect.flatMap(kit, (k) => k.stats)).toMatchObject({ opened: 1, closed: 1, open: 0 })
        yield* manager.request("GET", "http://a.test/")
        const requests = yield* Effect.flatMap(kit, (k) => k.requests)
        expect(requests.map((r) => r.socket)).toEqual([1, 1, 1, 1, 2])
      }).pipe(
        Effect.provide(
          managerOver([
            route("GET", "/bye", TestConnector.text("bye", { headers: { Connection: "close" } })),
            route("GET", "/", TestConnector.text("ok"))
          ])
        )
      )
    )

    it.effect("keepAliveTimeout: a day idle on the TestClock, and the origin has closed the socket", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        const first = yield* manager.request("GET", "http://a.test/")
        expect(Headers.get(first.headers, "keep-alive")).toEqual(Option.some("timeout=5"))
        yield* TestClock.adjust("4 seconds")
        yield* manager.request("GET", "http://a.test/")
        expect(yield* Effect.flatMap(kit, (k) => k.stats)).toMatchObject({ opened: 1, closed: 0 })
        yield* TestClock.adjust("1 day")
        expect(yield* Effect.flatMap(kit, (k) => k.stats)).toMatchObject({ opened: 1, closed: 1, open: 0 })
        const third = yield* manager.request("GET", "http://a.test/")
        expect(third.connection?.reused).toBe(false)
        expect(yield* Effect.flatMap(kit, (k) => k.stats)).toMatchObject({ opened: 2, closed: 1, open: 1 })
      }).pipe(
        Effect.provide(managerOver([route("GET", "/", TestConnector.text("ok"))], { keepAliveTimeout: "5 seconds" }))
      )
    )

    it.effect("times follow httpool's rule: a number is seconds (keepAliveTimeout, delay, pause)", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        const fiber = yield* Effect.fork(manager.request("GET", "http://a.test/", { retries: false }))
        yield* TestClock.adjust("1999 millis")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("1 millis")
        const response = yield* Fiber.join(fiber)
        expect(Headers.get(response.headers, "keep-alive")).toEqual(Option.some("timeout=5"))
        expect(TestConnector.pause(3)).toEqual(TestConnector.pause("3 seconds"))
      }).pipe(
        Effect.provide(
          managerOver([route("GET", "/", TestConnector.text("ok", { delay: 2 }))], { keepAliveTimeout: 5 })
        )
      )
    )

    it.effect("interrupting a request closes its socket", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        const fiber = yield* Effect.fork(manager.request("GET", "http://a.test/"))
        yield* TestClock.adjust("1 second")
        expect(yield* Effect.flatMap(kit, (k) => k.stats)).toMatchObject({ opened: 1, open: 1 })
        yield* Fiber.interrupt(fiber)
        expect(yield* Effect.flatMap(kit, (k) => k.stats)).toMatchObject({ opened: 1, closed: 1, open: 0 })
      }).pipe(Effect.provide(managerOver([route("GET", "/", TestConnector.stall)])))
    )
  })

  describe("bodies and time", () => {
    it.scoped("chunks with pauses arrive as the TestClock moves", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        const response = yield* manager.request("GET", "http://a.test/slow", { preloadContent: false })
        const received: Array<string> = []
        const reader = yield* response.stream.pipe(
          Stream.runForEach((chunk) => Effect.sync(() => received.push(utf8.decode(chunk)))),
          Effect.fork
        )
        yield* TestClock.adjust("500 millis")
        expect(received).toEqual(["a"])
        yield* TestClock.adjust("1 second")
        expect(received).toEqual(["a", "b"])
        yield* TestClock.adjust("10 seconds")
        yield* Fiber.join(reader)
        expect(received).toEqual(["a", "b", "c"])
        expect(Headers.get(response.headers, "transfer-encoding")).toEqual(Option.some("chunked"))
      }).pipe(
        Effect.provide(
          managerOver([
            route(
              "GET",
              "/slow",
              TestConnector.chunks(["a", TestConnector.pause("1 second"), "b", TestConnector.pause("10 seconds"), "c"])
            )
          ])
        )
      )
    )

    it.effect("a Stream body with its own schedule, and a head delay, follow the same clock", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        const fiber = yield* Effect.fork(manager.request("GET", "http://a.test/ticks"))
        yield* TestClock.adjust("2 seconds")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("1 minute")
        const response = yield* Fiber.join(fiber)
        expect(response.text).toBe("0,1,2,")
      }).pipe(
        Effect.provide(
          managerOver([
            route(
              "GET",
              "/ticks",
              TestConnector.stream(
                Stream.range(0, 2).pipe(
                  Stream.schedule(Schedule.spaced("10 seconds")),
                  Stream.map((n) => `${n},`)
                ),
                { delay: "5 seconds" }
              )
            )
          ])
        )
      )
    )

    it.effect("a 30-second read timeout against a stall takes no time", () =>
      Effect.gen(function* () {
        const pool = yield* poolOn("http://a.test")
        const fiber = yield* Effect.fork(Effect.flip(pool.request("GET", "/stall", { timeout: 30 })))
        yield* TestClock.adjust("29 seconds")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("1 second")
        const error = yield* Fiber.join(fiber)
        expect(error._tag).toBe("ReadTimeoutError")
        expect(error.message).toBe("HTTPConnectionPool(host='a.test', port=80): Read timed out. (read timeout=30)")
        expect(yield* Effect.flatMap(kit, (k) => k.stats)).toMatchObject({ open: 0 })
      }).pipe(Effect.scoped, Effect.provide(TestConnector.layer([route("GET", "/stall", TestConnector.stall)])))
    )

    it.effect("a pause in a body longer than the read timeout is a ReadTimeoutError; a shorter one is not", () =>
      Effect.gen(function* () {
        const pool = yield* poolOn("http://a.test")
        const ok = yield* Effect.fork(pool.request("GET", "/body", { timeout: 3 }))
        yield* TestClock.adjust("2 seconds")
        expect((yield* Fiber.join(ok)).text).toBe("ab")
        const slow = yield* Effect.fork(Effect.flip(pool.request("GET", "/body", { timeout: 1 })))
        yield* TestClock.adjust("1 second")
        expect((yield* Fiber.join(slow))._tag).toBe("ReadTimeoutError")
      }).pipe(
        Effect.scoped,
        Effect.provide(
          TestConnector.layer([
            route("GET", "/body", TestConnector.chunks(["a", TestConnector.pause("2 seconds"), "b"]))
          ])
        )
      )
    )

    it.effect("the total timeout ends a stalled body under the TestClock", () =>
      Effect.gen(function* () {
        const pool = yield* poolOn("http://a.test")
        const fiber = yield* Effect.fork(Effect.flip(pool.request("GET", "/", { timeout: { total: "1 minute" } })))
        yield* TestClock.adjust("59 seconds")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("1 second")
        const error = yield* Fiber.join(fiber)
        expect(error._tag).toBe("ReadTimeoutError")
        // Whichever fires first of the total and the read timeout bounded by what is left of it.
        expect(error.message).toMatch(
          /^HTTPConnectionPool\(host='a\.test', port=80\): Read timed out\. \((read timeout=60|total timeout=1m)\)$/
        )
      }).pipe(
        Effect.scoped,
        Effect.provide(TestConnector.layer([route("GET", "/", TestConnector.chunks(["part", TestConnector.stall]))]))
      )
    )

    it.effect("the HttpClient layer over a PoolManager over the kit", () =>
      Effect.gen(function* () {
        const response = yield* PlatformHttpClient.get("http://api.test/greeting")
        expect(response.status).toBe(200)
        expect(yield* response.json).toEqual({ hello: "world" })
        const streamed = yield* PlatformHttpClient.get("http://api.test/stream")
        const parts = yield* Stream.runCollect(streamed.stream)
        expect(Chunk.toReadonlyArray(parts).map((p) => utf8.decode(p))).toEqual(["x", "y"])
        const requests = yield* Effect.flatMap(kit, (k) => k.requests)
        expect(requests.map((r) => r.url)).toEqual(["http://api.test/greeting", "http://api.test/stream"])
      }).pipe(
        Effect.scoped,
        Effect.provide(
          HttpClient.layer().pipe(
            Layer.provide(PoolManager.layer()),
            Layer.provideMerge(
              TestConnector.layer([
                route("GET", "/greeting", TestConnector.json({ hello: "world" })),
                route("GET", "/stream", TestConnector.chunks(["x", "y"]))
              ])
            )
          )
        )
      )
    )
  })

  describe("faults map to NodeConnector's errors", () => {
    const failureOf = (answer: TestConnector.Answer, options: ConnectionPool.UrlopenOptions = {}) =>
      Effect.gen(function* () {
        const pool = yield* poolOn("http://a.test:8080")
        const data = pool
          .urlopen("GET", "/", { ...options, preloadContent: false })
          .pipe(Effect.flatMap((response) => response.data))
        return yield* Effect.flip(data)
      }).pipe(Effect.scoped, Effect.provide(TestConnector.layer([route("GET", "/", answer)])))

    it.effect("refused, unresolvable", () =>
      Effect.gen(function* () {
        const refused = yield* failureOf(TestConnector.refused)
        expect([refused._tag, refused.message]).toEqual([
          "NewConnectionError",
          "Failed to establish a new connection to a.test:8080: [Errno 111] Connection refused (ECONNREFUSED)"
        ])
        const unresolvable = yield* failureOf(TestConnector.unresolvable)
        expect([unresolvable._tag, unresolvable.message]).toEqual([
          "NameResolutionError",
          "Failed to resolve 'a.test' (ENOTFOUND: Unknown node or service)"
        ])
      })
    )

    it.effect("blackhole: ConnectTimeoutError after the connect timeout on the TestClock", () =>
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(failureOf(TestConnector.blackhole, { timeout: { connect: 10 } }))
        yield* TestClock.adjust("10 seconds")
        const error = yield* Fiber.join(fiber)
        expect([error._tag, error.message]).toEqual([
          "ConnectTimeoutError",
          "Connection to a.test timed out. (connect timeout=10)"
        ])
      })
    )

    it.effect("reset and close, before the head and in the body; truncated", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [TestConnector.Answer, string]> = [
          [TestConnector.reset, "Connection aborted. ([Errno 104] Connection reset by peer (ECONNRESET))"],
          [TestConnector.close, "Connection aborted. (Remote end closed connection without response)"],
          [
            TestConnector.chunks(["part", TestConnector.reset]),
            "Connection broken: [Errno 104] Connection reset by peer (ECONNRESET)"
          ],
          [TestConnector.chunks(["part", TestConnector.close]), "Connection broken: Response ended prematurely"],
          [TestConnector.truncated("0123456789", 4), "Connection broken: Response ended prematurely"],
          [
            TestConnector.stream(Stream.concat(Stream.make("part"), Stream.fail("boom"))),
            "Connection broken: [Errno 104] Connection reset by peer (ECONNRESET)"
          ]
        ]
        for (const [answer, message] of cases) {
          const error = yield* failureOf(answer)
          expect([error._tag, error.message]).toEqual(["ProtocolError", message])
        }
      })
    )

    it.effect("a dead keep-alive socket: an idempotent request is sent again on a fresh connection", () =>
      Effect.gen(function* () {
        const pool = yield* poolOn("http://a.test")
        expect((yield* pool.request("GET", "/")).text).toBe("ok")
        expect((yield* pool.request("GET", "/")).text).toBe("ok")
        expect((yield* pool.stats).numConnections).toBe(2)
        const requests = yield* Effect.flatMap(kit, (k) => k.requests)
        // The request sent on the dead socket never reached the origin.
        expect(requests.map((r) => [r.socket, r.reused])).toEqual([
          [1, false],
          [2, false]
        ])
        // A POST already written is not replayed.
        const post = yield* Effect.flip(pool.request("POST", "/", { body: "x" }))
        expect([post._tag, post.message]).toEqual([
          "ProtocolError",
          "Connection aborted. (Remote end closed connection without response)"
        ])
      }).pipe(
        Effect.scoped,
        Effect.provide(
          TestConnector.layer([
            route("*", "/", TestConnector.deadKeepAlive, { times: 1 }),
            route("GET", "/", TestConnector.text("ok")),
            route("POST", "/", TestConnector.deadKeepAlive)
          ])
        )
      )
    )

    it.effect("a 408 on an idle connection: the request is sent again on a fresh connection", () =>
      Effect.gen(function* () {
        const pool = yield* poolOn("http://a.test")
        yield* pool.request("POST", "/", { body: "one" })
        const second = yield* pool.request("POST", "/", { body: "two" })
        expect(second.status).toBe(200)
        const requests = yield* Effect.flatMap(kit, (k) => k.requests)
        expect(requests.map((r) => [r.text, r.socket, r.reused])).toEqual([
          ["one", 1, false],
          ["two", 1, true],
          ["two", 2, false]
        ])
        expect(yield* Effect.flatMap(kit, (k) => k.stats)).toMatchObject({ opened: 2, closed: 1 })
      }).pipe(
        Effect.scoped,
        Effect.provide(
          TestConnector.layer([
            route("POST", "/", TestConnector.idle408, { times: 1 }),
            route("POST", "/", TestConnector.text("done"))
          ])
        )
      )
    )

    it.effect("connect errors are retried with backoff on the TestClock", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.PoolManager
        const fiber = yield* Effect.fork(
          manager.request("GET", "http://a.test/", { retries: { connect: 3, backoffFactor: 10 } })
        )
        yield* TestClock.adjust("10 minutes")
        const response = yield* Fiber.join(fiber)
        expect(response.text).toBe("finally")
        expect(response.retries?.history.map((h) => h.error?._tag)).toEqual([
          "NewConnectionError",
          "NewConnectionError"
        ])
        expect(yield* Effect.flatMap(kit, (k) => k.stats)).toMatchObject({ opened: 1, failedConnects: 2 })
      }).pipe(
        Effect.provide(
          managerOver([
            route("GET", "/", TestConnector.refused, { times: 2 }),
            route("GET", "/", TestConnector.text("finally"))
          ])
        )
      )
    )
  })
})
