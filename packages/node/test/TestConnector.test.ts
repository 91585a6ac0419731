/**
 * The kit against the real thing: every fault of `TestConnector` is played once by a real
 * loopback server through `NodeConnector` and once by the kit, and a ConnectionPool must see
 * the same outcome (error tag and message, replays, connections opened). The kit's routes
 * name the real server's 127.0.0.1:port, so even the messages with host and port compare
 * exactly.
 */
import * as ConnectionPool from "@httpool/core/ConnectionPool"
import type * as Connector from "@httpool/core/Connector"
import type * as ContentDecoder from "@httpool/core/ContentDecoder"
import * as Headers from "@httpool/core/Headers"
import * as TestConnector from "@httpool/core/TestConnector"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type * as net from "node:net"
import * as NodeConnector from "../src/NodeConnector.js"
import * as NodeContentDecoder from "../src/NodeContentDecoder.js"
import * as Servers from "./utils/servers.js"

// Real sockets and real timers: every test runs with the live clock (`it.scopedLive`).

type Transport = Layer.Layer<Connector.Connector | ContentDecoder.ContentDecoder>

/** What a pool's caller sees of one request: the body's text, or the error. */
type Outcome = { readonly ok: string } | { readonly error: string; readonly message: string }

const outcomeOf = <E extends { readonly _tag: string; readonly message: string }>(
  effect: Effect.Effect<string, E>
): Effect.Effect<Outcome> =>
  effect.pipe(
    Effect.map((ok): Outcome => ({ ok })),
    Effect.catchAll((error) => Effect.succeed<Outcome>({ error: error._tag, message: error.message }))
  )

/**
 * Runs `requests` on a fresh pool to 127.0.0.1:`port` over `transport`: each streamed and
 * read to its end, no retries. Returns each outcome and the connections the pool opened.
 */
const play = (
  transport: Transport,
  port: number,
  requests: ReadonlyArray<{ readonly method: string; readonly body?: string }>,
  options: Partial<ConnectionPool.UrlopenOptions> = {}
) =>
  Effect.gen(function* () {
    const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port, retries: false })
    const outcomes: Array<Outcome> = []
    for (const request of requests) {
      outcomes.push(
        yield* outcomeOf(
          Effect.scoped(
            Effect.flatMap(
              pool.urlopen(request.method, "/", { ...options, body: request.body ?? null, preloadContent: false }),
              (response) => response.text
            )
          )
        )
      )
    }
    return { outcomes, connections: (yield* pool.stats).numConnections }
  }).pipe(Effect.scoped, Effect.provide(transport))

const kitOn = (port: number, answers: ReadonlyArray<readonly [TestConnector.Answer, { readonly times?: number }?]>) =>
  TestConnector.layer(
    answers.map(([answer, options]) => TestConnector.route("*", `http://127.0.0.1:${port}/`, answer, options ?? {}))
  )

/** Both transports on the same scenario; the outcomes must be equal. */
const same = (
  server: { readonly port: number },
  kit: Transport,
  requests: ReadonlyArray<{ readonly method: string; readonly body?: string }>,
  options: Partial<ConnectionPool.UrlopenOptions> = {}
) =>
  Effect.gen(function* () {
    const real = yield* play(NodeConnector.layer, server.port, requests, options)
    const played = yield* play(kit, server.port, requests, options)
    expect(played).toEqual(real)
    return real
  })

const head100 = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
const chunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
const okResponse = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`

/** A raw server that runs `onRequest` for each request head that arrives on a socket (numbered from 1). */
const rawServer = (onRequest: (socket: net.Socket, nth: number, socketId: number) => void) => {
  let sockets = 0
  return Servers.raw((socket) => {
    const id = ++sockets
    let nth = 0
    socket.on("data", (data: Buffer) => {
      if (!data.toString("latin1").includes("\r\n\r\n")) return
      onRequest(socket, ++nth, id)
    })
  })
}

const get = [{ method: "GET" }]

describe("TestConnector plays faults as NodeConnector meets them", () => {
  it.scopedLive("a reset and a close before the head", () =>
    Effect.gen(function* () {
      const resetting = yield* rawServer((socket) => socket.resetAndDestroy())
      const reset = yield* same(resetting, kitOn(resetting.port, [[TestConnector.reset]]), get)
      expect(reset.outcomes[0]).toMatchObject({ error: "ProtocolError" })
      const closing = yield* rawServer((socket) => socket.end())
      yield* same(closing, kitOn(closing.port, [[TestConnector.close]]), get)
    })
  )

  it.scopedLive("a reset and a close in the middle of a Content-Length body and of a chunked body", () =>
    Effect.gen(function* () {
      const resetMid = yield* rawServer((socket) =>
        socket.write(`${head100}partial`, () => setTimeout(() => socket.resetAndDestroy(), 20))
      )
      yield* same(
        resetMid,
        kitOn(resetMid.port, [
          [TestConnector.chunks(["partial", TestConnector.reset], { headers: { "Content-Length": "100" } })]
        ]),
        get
      )
      const truncated = yield* rawServer((socket) => socket.write(`${head100}partial`, () => socket.end()))
      yield* same(truncated, kitOn(truncated.port, [[TestConnector.truncated("p".repeat(100), 7)]]), get)
      const chunkedReset = yield* rawServer((socket) =>
        socket.write(`${chunkedHead}5\r\nhello\r\n`, () => setTimeout(() => socket.resetAndDestroy(), 20))
      )
      yield* same(chunkedReset, kitOn(chunkedReset.port, [[TestConnector.chunks(["hello", TestConnector.reset])]]), get)
      const chunkedClose = yield* rawServer((socket) =>
        socket.write(`${chunkedHead}5\r\nhello\r\n`, () => socket.end())
      )
      yield* same(chunkedClose, kitOn(chunkedClose.port, [[TestConnector.chunks(["hello", TestConnector.close])]]), get)
    })
  )

  it.scopedLive("a refused connection", () =>
    Effect.gen(function* () {
      const port = yield* Servers.closedPort
      const real = yield* play(NodeConnector.layer, port, get)
      const played = yield* play(kitOn(port, [[TestConnector.refused]]), port, get)
      expect(played).toEqual(real)
      expect(real.outcomes[0]).toMatchObject({ error: "NewConnectionError" })
    })
  )

  it.scopedLive("a stall past the read timeout", () =>
    Effect.gen(function* () {
      const silent = yield* rawServer(() => {})
      const result = yield* same(silent, kitOn(silent.port, [[TestConnector.stall]]), get, { timeout: 0.2 })
      expect(result.outcomes[0]).toMatchObject({ error: "ReadTimeoutError" })
      const stallMid = yield* rawServer((socket) => socket.write(`${head100}partial`))
      yield* same(
        stallMid,
        kitOn(stallMid.port, [
          [TestConnector.chunks(["partial", TestConnector.stall], { headers: { "Content-Length": "100" } })]
        ]),
        get,
        { timeout: 0.2 }
      )
    })
  )

  it.scopedLive("a dead keep-alive socket: a GET is replayed on a new connection, a POST fails", () =>
    Effect.gen(function* () {
      // The second request on a socket finds it closed by the server.
      const server = yield* rawServer((socket, nth) => (nth === 1 ? socket.write(okResponse("ok")) : socket.end()))
      const kit = kitOn(server.port, [[TestConnector.deadKeepAlive], [TestConnector.text("ok")]])
      const gets = yield* same(server, kit, [{ method: "GET" }, { method: "GET" }])
      expect(gets).toEqual({ outcomes: [{ ok: "ok" }, { ok: "ok" }], connections: 2 })
      const posts = yield* same(server, kit, [
        { method: "POST", body: "a" },
        { method: "POST", body: "b" }
      ])
      expect(posts.outcomes[1]).toMatchObject({ error: "ProtocolError" })
    })
  )

  it.scopedLive("a 408 on an idle connection: the request is sent again on a new connection", () =>
    Effect.gen(function* () {
      const server = yield* rawServer((socket, nth) =>
        nth === 1
          ? socket.write(okResponse("ok"))
          : socket.end("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
      )
      const kit = kitOn(server.port, [[TestConnector.idle408], [TestConnector.bytes(new TextEncoder().encode("ok"))]])
      const posts = yield* same(server, kit, [
        { method: "POST", body: "a" },
        { method: "POST", body: "b" }
      ])
      expect(posts).toEqual({ outcomes: [{ ok: "ok" }, { ok: "ok" }], connections: 2 })
    })
  )
})

describe("TestConnector records what a server receives", () => {
  /** Header lines as a server sees them, lower-cased, without undici's own `connection`. */
  const lines = (pairs: Iterable<readonly [string, string]>) =>
    [...pairs]
      .map(([name, value]) => `${name.toLowerCase()}: ${value}`)
      .filter((line) => !line.startsWith("connection:"))
      .sort()

  const pairsOf = (raw: ReadonlyArray<string>) => {
    const out: Array<readonly [string, string]> = []
    for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!])
    return out
  }

  it.scopedLive("the same header lines and body, for a fixed and a streamed body", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.echo)
      const bodies: ReadonlyArray<ConnectionPool.Body> = [
        "a fixed body",
        Stream.make("a ", "streamed ", "body").pipe(Stream.encodeText),
        null
      ]
      for (const body of bodies) {
        const send = Effect.gen(function* () {
          const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: server.port })
          return yield* pool.request("POST", "/path?q=1", { body, headers: { "X-Custom": "v", Accept: "*/*" } })
        }).pipe(Effect.scoped)
        const real = Servers.echoedOf((yield* Effect.provide(send, NodeConnector.layer)).text)
        const recorded = yield* Effect.gen(function* () {
          yield* send
          return (yield* Effect.flatMap(TestConnector.TestConnector, (k) => k.requests))[0]!
        }).pipe(Effect.provide(TestConnector.layer([TestConnector.route("POST", "/path", TestConnector.status(204))])))
        expect(lines(recorded.headers)).toEqual(lines(pairsOf(real.rawHeaders)))
        expect(recorded.text).toBe(real.body)
        expect([recorded.method, recorded.target]).toEqual([real.method, real.url])
      }
    })
  )

  it.scopedLive("with NodeContentDecoder, a gzip body the kit serves is decoded", () =>
    Effect.gen(function* () {
      const zlib = yield* Effect.promise(() => import("node:zlib"))
      const gzipped = zlib.gzipSync("decoded text")
      const response = yield* Effect.gen(function* () {
        const pool = yield* ConnectionPool.make({ host: "files.test" })
        return yield* pool.request("GET", "/a.txt")
      }).pipe(
        Effect.scoped,
        Effect.provide(
          TestConnector.layer(
            [
              TestConnector.route(
                "GET",
                "/a.txt",
                TestConnector.bytes(gzipped, { headers: { "Content-Encoding": "gzip" } })
              )
            ],
            { decoder: NodeContentDecoder.decoder }
          )
        )
      )
      expect(response.text).toBe("decoded text")
      expect(Headers.get(response.headers, "content-encoding")._tag).toBe("Some")
    })
  )
})
