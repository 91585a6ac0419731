/**
 * Peers that close what they answered on, unsolicited 1xx answers, and managers closed under
 * requests in flight (issue 14, items 2, 3 and 6).
 */
import { ConnectionPool, PoolManager, ProxyManager } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as NodeConnector from "../src/NodeConnector.js"
import * as Fibers from "./utils/fibers.js"
import * as Servers from "./utils/servers.js"
import * as Tinyproxy from "./utils/tinyproxy.js"

const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, NodeConnector.layer)

const { within } = Fibers

/** Sends `send(i)` for each i below `count`, one after another, each within 5 s; gives the answers. */
const inTurn = <A, E, R>(count: number, send: (i: number) => Effect.Effect<A, E, R>) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => i),
    (i) => within(5, send(i))
  )

/** `count` times `value`, to compare the answers of `inTurn` with. */
const times = <A>(count: number, value: A): Array<A> => Array.from({ length: count }, () => value)

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

/**
 * A server that answers the first request on each socket, ignores what comes after it, and
 * closes the socket `ms` after answering, without `Connection: close`; `answered` counts answers.
 */
const closingAfter = (ms: number) => {
  let answered = 0
  return Effect.map(
    Servers.rawHttp((socket, _head, index) => {
      if (index > 0) return
      answered++
      socket.write(OK)
      setTimeout(() => socket.end(), ms)
    }),
    (server) => ({ server, answered: () => answered })
  )
}

/** A pool of one connection on `server`. */
const poolOn = (server: { readonly port: number }) =>
  ConnectionPool.make({ host: "127.0.0.1", port: server.port, maxsize: 1 })

describe("a connection the server closed after answering is not reused", () => {
  it.scopedLive("30 POSTs to a server that closes each connection after its answer all succeed", () =>
    provide(
      Effect.gen(function* () {
        // Answers and closes, without Connection: close (as tinyproxy 1.11 does).
        const server = yield* Servers.rawHttp((socket) => socket.end(OK))
        const pool = yield* poolOn(server)
        const responses = yield* inTurn(30, (i) => pool.request("POST", "/", { body: `post ${i}`, retries: false }))
        expect(responses.map((r) => [r.status, r.text])).toEqual(times(30, [200, "ok"]))
        expect(server.requestsRead()).toBe(30)
        expect(server.socketsOpened()).toBe(30)
      })
    )
  )

  it.scopedLive(
    "30 GETs to a server that closes each connection after its answer all succeed, each processed once",
    () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.rawHttp((socket) => socket.end(OK))
          const pool = yield* poolOn(server)
          const responses = yield* inTurn(30, (i) => pool.request("GET", `/${i}`, { retries: false }))
          expect(responses.map((r) => [r.status, r.text])).toEqual(times(30, [200, "ok"]))
          expect(server.requestsRead()).toBe(30)
          expect(server.socketsOpened()).toBe(30)
        })
      )
  )

  it.scopedLive("30 streamed GETs through a manager to that server all succeed", () =>
    provide(
      Effect.gen(function* () {
        const server = yield* Servers.rawHttp((socket) => socket.end(OK))
        const manager = yield* PoolManager.make({ connectionPoolKw: { maxsize: 1 } })
        const texts = yield* inTurn(30, (i) =>
          Effect.scoped(
            Effect.flatMap(
              manager.request("GET", `http://127.0.0.1:${server.port}/${i}`, { preloadContent: false, retries: false }),
              (response) => response.text
            )
          )
        )
        expect(texts).toEqual(times(30, "ok"))
        expect(server.requestsRead()).toBe(30)
      })
    )
  )

  it.scopedLive("GETs on a socket reused before go out at once and are replayed when the server closed it", () =>
    provide(
      Effect.gen(function* () {
        // Keeps each connection for three answers, then closes it right after the third.
        const server = yield* Servers.rawHttp((socket, _head, index) => {
          if (index < 2) socket.write(OK)
          else socket.end(OK, () => socket.destroy())
        })
        const pool = yield* poolOn(server)
        const responses = yield* inTurn(30, (i) => pool.request("GET", `/${i}`, { retries: false }))
        expect(responses.map((r) => r.status)).toEqual(times(30, 200))
        expect(server.requestsRead()).toBe(30)
        expect(server.socketsOpened()).toBe(10)
        // Each closed socket took one GET that went out before its end of stream was read.
        const stats = yield* pool.stats
        expect(stats.numRequests).toBe(39)
      })
    )
  )

  it.scopedLive("30 POSTs to a server that only half-closes after its answer all succeed, each processed once", () =>
    provide(
      Effect.gen(function* () {
        // Ends its side after the answer and goes on reading (and counting) what arrives.
        const server = yield* Servers.rawHttp((socket) => {
          if (!socket.writableEnded) socket.end(OK)
        })
        const pool = yield* poolOn(server)
        const responses = yield* inTurn(30, (i) => pool.request("POST", "/", { body: `post ${i}`, retries: false }))
        expect(responses.map((r) => r.status)).toEqual(times(30, 200))
        expect(server.requestsRead()).toBe(30)
        expect(server.socketsOpened()).toBe(30)
      })
    )
  )

  it.scopedLive(
    "a GET then 20 POSTs to a server that closes a moment after answering all succeed, each processed once",
    () =>
      provide(
        Effect.gen(function* () {
          // Closes 3 ms after answering (tinyproxy does so while its own answer is still being
          // relayed).
          const { server, answered } = yield* closingAfter(3)
          const pool = yield* poolOn(server)
          const get = yield* within(5, pool.request("GET", "/", { retries: false }))
          expect(get.status).toBe(200)
          const responses = yield* inTurn(20, (i) => pool.request("POST", "/", { body: `post ${i}`, retries: false }))
          expect(responses.map((r) => [r.status, r.text])).toEqual(times(20, [200, "ok"]))
          expect(answered()).toBe(21)
          expect(server.socketsOpened()).toBe(21)
        })
      )
  )

  it.scopedLive("a POST cut off by a server that closes late teaches the pool: the next POSTs take new sockets", () =>
    provide(
      Effect.gen(function* () {
        // Closing 200 ms after answering: the socket has looked kept long enough, and the first
        // POST on it is lost (no client can tell). The next ones never go out on a socket that
        // has answered.
        const { server, answered } = yield* closingAfter(200)
        const pool = yield* poolOn(server)
        yield* within(5, pool.request("GET", "/", { retries: false }))
        const cut = yield* Effect.flip(within(5, pool.request("POST", "/", { body: "lost", retries: false })))
        expect(cut).toMatchObject({ _tag: "ProtocolError" })
        const responses = yield* inTurn(10, (i) => pool.request("POST", "/", { body: `post ${i}`, retries: false }))
        expect(responses.map((r) => [r.status, r.text])).toEqual(times(10, [200, "ok"]))
        expect(answered()).toBe(11)
        expect(server.socketsOpened()).toBe(11)
      })
    )
  )

  it.scopedLive(
    "a pool that learnt its server closes after answering reuses again once a kept socket answers twice",
    () =>
      provide(
        Effect.gen(function* () {
          // Closes its first socket right after the first answer; keeps every later one.
          const server = yield* Servers.rawHttp((socket, _head, index) => {
            if (server.socketsOpened() === 1 && index === 0) socket.end(OK)
            else socket.write(OK)
          })
          const pool = yield* poolOn(server)
          const send = (method: "GET" | "POST") =>
            within(5, pool.request(method, "/", { body: method === "POST" ? "post" : null, retries: false }))
          // The first socket closes: the POSTs then each take a new socket.
          yield* send("GET")
          yield* send("POST")
          yield* send("POST")
          expect(server.socketsOpened()).toBe(3)
          // GETs may still reuse (they are sent again if the socket proves closed): the third
          // socket answers two of them, and POSTs reuse it again.
          yield* send("GET")
          yield* send("GET")
          yield* send("POST")
          yield* send("POST")
          expect(server.socketsOpened()).toBe(3)
          expect(server.requestsRead()).toBe(7)
        })
      )
  )

  it.scopedLive("a keep-alive server's connection is still reused", () =>
    provide(
      Effect.gen(function* () {
        const server = yield* Servers.rawHttp((socket) => socket.write(OK))
        const pool = yield* poolOn(server)
        const responses = yield* inTurn(30, (i) => pool.request("POST", "/", { body: `post ${i}`, retries: false }))
        expect(responses.map((r) => r.status)).toEqual(times(30, 200))
        expect(server.socketsOpened()).toBe(1)
      })
    )
  )
})

describe.skipIf(!Tinyproxy.available)("through tinyproxy, which closes after each answer", () => {
  it.scopedLive("a GET then 30 POSTs through tinyproxy all succeed, each POST processed once", () =>
    provide(
      Effect.gen(function* () {
        const origin = yield* Servers.http(Servers.echo)
        const tinyproxy = Option.getOrThrow(yield* Tinyproxy.start)
        const manager = yield* ProxyManager.make(tinyproxy.url, { connectionPoolKw: { timeout: 5 } })
        const get = yield* within(5, manager.request("GET", `${origin.url}/first`, { retries: false }))
        expect(get.status).toBe(200)
        const responses = yield* inTurn(30, (i) =>
          manager.request("POST", `${origin.url}/post`, { body: `post ${i}`, retries: false })
        )
        expect(responses.map((r) => [r.status, Servers.echoedOf(r.text).body])).toEqual(
          responses.map((_, i) => [200, `post ${i}`])
        )
        expect(origin.requests.filter((request) => request.method === "POST").map((r) => r.body.length)).toHaveLength(
          30
        )
      })
    )
  )
})

describe("an unsolicited 1xx answer is skipped", () => {
  it.scopedLive("a 100 Continue nobody asked for before the answer: GET and POST get the final answer", () =>
    provide(
      Effect.gen(function* () {
        const server = yield* Servers.rawHttp((socket) => {
          socket.write("HTTP/1.1 100 Continue\r\n\r\n")
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal")
        })
        const pool = yield* poolOn(server)
        const get = yield* within(5, pool.request("GET", "/", { retries: false }))
        expect(get.status).toBe(200)
        expect(get.text).toBe("final")
        const post = yield* within(5, pool.request("POST", "/", { body: "x", retries: false }))
        expect(post.status).toBe(200)
        expect(post.text).toBe("final")
        const streamed = yield* within(5, pool.request("GET", "/", { retries: false, preloadContent: false }))
        expect(streamed.status).toBe(200)
        expect(server.requestsRead()).toBe(3)
      })
    )
  )

  it.scopedLive("a 100 Continue and a 103 in one packet with the answer", () =>
    provide(
      Effect.gen(function* () {
        const server = yield* Servers.rawHttp((socket) =>
          socket.write(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" +
              "HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone"
          )
        )
        const pool = yield* poolOn(server)
        const responses = yield* inTurn(3, () => pool.request("POST", "/", { body: "x", retries: false }))
        expect(responses.map((r) => [r.status, r.text])).toEqual(times(3, [201, "done"]))
        expect(server.socketsOpened()).toBe(1)
      })
    )
  )
})

describe("closing a pool or manager ends its in-flight requests", () => {
  it.scopedLive("a request waiting for its answer fails with ClosedPoolError when its manager closes", () =>
    provide(
      Effect.gen(function* () {
        // Reads requests and never answers; `sent` is completed once the request has arrived.
        const sent = yield* Deferred.make<void>()
        const silent = yield* Servers.raw((socket) => socket.once("data", () => Deferred.unsafeDone(sent, Exit.void)))
        const scope = yield* Scope.make()
        const manager = yield* Scope.extend(PoolManager.make({ connectionPoolKw: { timeout: null } }), scope)
        const fiber = yield* Effect.fork(manager.request("GET", `http://127.0.0.1:${silent.port}/`, { retries: false }))
        yield* Deferred.await(sent)
        yield* within(5, Scope.close(scope, Exit.void))
        const exit = yield* within(5, Fiber.await(fiber))
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          const error = yield* Effect.flip(exit)
          expect(error._tag).toBe("ClosedPoolError")
        }
        yield* silent.waitForOpenSockets(0, "2 seconds")
      })
    )
  )

  it.scopedLive("a streamed body being read fails with a ProtocolError when its pool closes", () =>
    provide(
      Effect.gen(function* () {
        // Sends a head and part of the body, then nothing.
        const stalling = yield* Servers.rawHttp((socket) =>
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart")
        )
        const scope = yield* Scope.make()
        const pool = yield* Scope.extend(
          ConnectionPool.make({ host: "127.0.0.1", port: stalling.port, timeout: null }),
          scope
        )
        // Completed once the head has arrived: the body is being read from then on.
        const head = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(
          Effect.scoped(
            Effect.flatMap(pool.request("GET", "/", { retries: false, preloadContent: false }), (response) =>
              Effect.zipRight(Deferred.succeed(head, undefined), response.data)
            )
          )
        )
        yield* Deferred.await(head)
        yield* within(5, pool.close)
        const exit = yield* within(5, Fiber.await(fiber))
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          const error = yield* Effect.flip(exit)
          expect(error._tag).toBe("ProtocolError")
          expect(error.message).toContain("Pool is closed")
        }
        yield* stalling.waitForOpenSockets(0, "2 seconds")
        yield* Scope.close(scope, Exit.void)
      })
    )
  )
})
