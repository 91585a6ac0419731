// Every error named in ConnectionPool.UrlopenError, PoolManager.UrlopenError and
// PoolManager.ConnectionFromError happens, against real loopback peers; the type of each
// failure is the method's declared error channel (ErrorChannels.types.test.ts in core pins
// the channels themselves).
import { ConnectionPool, type Errors, PoolManager, type Response } from "@httpool/core"
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import * as NodeConnector from "../src/NodeConnector.js"
import * as Servers from "./utils/servers.js"

// Retries are logged at Warning; these tests count on the failures, not the lines.
const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, NodeConnector.layer).pipe(Logger.withMinimumLogLevel(LogLevel.Error))

const poolFor = (server: { readonly port: number }, options: Partial<ConnectionPool.Options> = {}) =>
  ConnectionPool.make({ host: "127.0.0.1", port: server.port, ...options })

/** The tag a failing request fails with, its type the method's error channel. */
const tagOf = <E extends { readonly _tag: string }, R>(effect: Effect.Effect<unknown, E, R>) =>
  Effect.map(Effect.flip(effect), (error) => error._tag)

/** 307 to `/done` for `/`; `/done` answers "done". */
const redirectOnce: Servers.Handler = (req, res) => {
  if (req.url === "/") {
    res.writeHead(307, { Location: "/done" })
    res.end()
  } else {
    res.end("done")
  }
}

const gzipGarbage: Servers.Handler = (_req, res) => {
  res.writeHead(200, { "Content-Encoding": "gzip" })
  res.end("this is not gzip")
}

describe("ConnectionPool.UrlopenError: each error a pool's request methods name happens", () => {
  it.scopedLive("before anything is sent: ValueError, InvalidHeader, HostChangedError, LocationParseError", () =>
    provide(
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed("ok"))
        const pool = yield* poolFor(server)
        const both = pool.request("POST", "/", { fields: { a: "1" }, body: "x" })
        expectTypeOf(both).toEqualTypeOf<Effect.Effect<Response.Response, ConnectionPool.UrlopenError>>()
        expect(yield* tagOf(both)).toBe("ValueError")
        expect(yield* tagOf(pool.request("GET", "/", { headers: { "X-Bad": "a\r\nb" } }))).toBe("InvalidHeader")
        expect(yield* tagOf(pool.urlopen("GET", "http://localhost.invalid:1/"))).toBe("HostChangedError")
        expect(yield* tagOf(pool.urlopen("GET", "http://127.0.0.1:99999/", { assertSameHost: false }))).toBe(
          "LocationParseError"
        )
        // nothing reached the server
        expect(server.requests.length).toBe(0)
      })
    )
  )

  it.scopedLive("a redirect's Location that cannot be used is LocationValueError, off-origin HostChangedError", () =>
    provide(
      Effect.gen(function* () {
        const server = yield* Servers.http((req, res) => {
          res.writeHead(302, { Location: req.url === "/empty-host" ? "http://:80/x" : "http://localhost.invalid/" })
          res.end()
        })
        const pool = yield* poolFor(server)
        expect(yield* tagOf(pool.request("GET", "/empty-host"))).toBe("LocationValueError")
        expect(yield* tagOf(pool.request("GET", "/elsewhere"))).toBe("HostChangedError")
      })
    )
  )

  it.scopedLive("taking a connection: EmptyPoolError and ClosedPoolError, neither retried", () =>
    provide(
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed("ok"))
        const pool = yield* poolFor(server, { maxsize: 1, block: true, poolTimeout: 0.05 })
        const held = yield* Scope.make()
        yield* Scope.extend(pool.urlopen("GET", "/", { preloadContent: false }), held)
        expect(yield* tagOf(pool.request("GET", "/"))).toBe("EmptyPoolError")
        yield* Scope.close(held, Exit.void)
        yield* pool.close
        expect(yield* tagOf(pool.request("GET", "/"))).toBe("ClosedPoolError")
        expect(server.requests.length).toBe(1)
      })
    )
  )

  it.scopedLive("connection errors bare with retries off, in MaxRetryError with them on", () =>
    provide(
      Effect.gen(function* () {
        const refused = { port: yield* Servers.closedPort }
        const pool = yield* poolFor(refused)
        expect(yield* tagOf(pool.request("GET", "/", { retries: false }))).toBe("NewConnectionError")
        const exhausted = yield* Effect.flip(pool.request("GET", "/", { retries: 1 }))
        expect(exhausted._tag).toBe("MaxRetryError")
        expect(exhausted._tag === "MaxRetryError" && exhausted.reason?._tag).toBe("NewConnectionError")

        const unresolved = yield* ConnectionPool.make({ host: "httpool-test.invalid", port: 80 })
        expect(yield* tagOf(unresolved.request("GET", "/", { retries: false }))).toBe("NameResolutionError")

        // Accepts TCP and never answers the TLS handshake.
        const silent = yield* Servers.raw()
        const tlsPool = yield* poolFor(silent, { scheme: "https" })
        expect(yield* tagOf(tlsPool.request("GET", "/", { retries: false, timeout: { connect: 0.05 } }))).toBe(
          "ConnectTimeoutError"
        )

        // A certificate no trusted CA signed.
        const untrusted = yield* Servers.https(Servers.fixed("ok"))
        const verifying = yield* poolFor(untrusted, { scheme: "https" })
        expect(yield* tagOf(verifying.request("GET", "/", { retries: false }))).toBe("SSLError")

        const viaProxy = yield* poolFor(untrusted, { proxy: `http://127.0.0.1:${refused.port}` })
        expect(yield* tagOf(viaProxy.request("GET", "/", { retries: false }))).toBe("ProxyError")
      })
    )
  )

  it.scopedLive("read errors: ProtocolError and ReadTimeoutError, bare for a POST even with the default retries", () =>
    provide(
      Effect.gen(function* () {
        const truncated = yield* Servers.http(Servers.truncated(100))
        const truncatedPool = yield* poolFor(truncated)
        expect(yield* tagOf(truncatedPool.request("POST", "/"))).toBe("ProtocolError")
        expect(yield* tagOf(truncatedPool.request("GET", "/"))).toBe("MaxRetryError")

        // The peer reads the request and never answers: the read timeout is the subject.
        const silent = yield* Servers.http(Servers.silent)
        const silentPool = yield* poolFor(silent)
        expect(yield* tagOf(silentPool.request("POST", "/", { timeout: { read: 0.05 } }))).toBe("ReadTimeoutError")
      })
    )
  )

  it.scopedLive(
    "UnrewindableBodyError for a body sent once that a redirect needs again, DecodeError for a corrupt body",
    () =>
      provide(
        Effect.gen(function* () {
          const redirecting = yield* Servers.http(redirectOnce)
          const pool = yield* poolFor(redirecting)
          async function* once() {
            yield new TextEncoder().encode("payload")
          }
          expect(yield* tagOf(pool.request("POST", "/", { body: once() }))).toBe("UnrewindableBodyError")

          const corrupt = yield* Servers.http(gzipGarbage)
          const corruptPool = yield* poolFor(corrupt)
          expect(yield* tagOf(corruptPool.request("GET", "/"))).toBe("DecodeError")
          // the same body undecoded is a response
          const raw = yield* corruptPool.request("GET", "/", { decodeContent: false })
          expect(raw.text).toBe("this is not gzip")
        })
      )
  )
})

describe("PoolManager.UrlopenError: a manager's request methods", () => {
  it.scopedLive("URLSchemeUnknown and ProxySchemeUnknown happen; a redirect to another origin is followed", () =>
    provide(
      Effect.gen(function* () {
        const target = yield* Servers.http(Servers.fixed("there"))
        const origin = yield* Servers.http((req, res) => {
          res.writeHead(302, { Location: req.url === "/ftp" ? "ftp://127.0.0.1/" : `${target.url}/` })
          res.end()
        })
        const manager = yield* PoolManager.make()
        const request = manager.request("GET", "ftp://127.0.0.1/")
        expectTypeOf(request).toEqualTypeOf<Effect.Effect<Response.Response, PoolManager.UrlopenError>>()
        expect(yield* tagOf(request)).toBe("URLSchemeUnknown")
        const response = yield* manager.request("GET", `${origin.url}/`)
        expect(response.text).toBe("there")
        expect(yield* tagOf(manager.request("GET", `${origin.url}/ftp`))).toBe("URLSchemeUnknown")

        const badProxy = yield* PoolManager.make({ connectionPoolKw: { proxy: "ftp://127.0.0.1:1" } })
        expect(yield* tagOf(badProxy.request("GET", `${target.url}/`))).toBe("ProxySchemeUnknown")
        const badOption = yield* PoolManager.make({ connectionPoolKw: { maxsize: 0 } })
        expect(yield* tagOf(badOption.request("GET", `${target.url}/`))).toBe("ValueError")
        expect(target.requests.length).toBe(1)
      })
    )
  )
})

describe("retries: false, whose type leaves MaxRetryError out", () => {
  it.scopedLive(
    "nothing ends in MaxRetryError: errors come as themselves, redirects and retryable statuses as responses",
    () =>
      provide(
        Effect.gen(function* () {
          const looping = yield* Servers.http((_req, res) => {
            res.writeHead(302, { Location: "/again" })
            res.end()
          })
          const busy = yield* Servers.http((_req, res) => {
            res.writeHead(503, { "Retry-After": "0", "Content-Length": 4 })
            res.end("busy")
          })
          const port = yield* Servers.closedPort
          const manager = yield* PoolManager.make({
            connectionPoolKw: { retries: { total: 3, statusForcelist: [503], backoffFactor: 0 } }
          })
          const refused = manager.request("GET", `http://127.0.0.1:${port}/`, { retries: false })
          expectTypeOf(refused).toEqualTypeOf<
            Effect.Effect<Response.Response, Exclude<PoolManager.UrlopenError, Errors.MaxRetryError>>
          >()
          expect(yield* tagOf(refused)).toBe("NewConnectionError")
          expect((yield* manager.request("GET", `${looping.url}/`, { retries: false })).status).toBe(302)
          expect((yield* manager.request("GET", `${busy.url}/`, { retries: false })).status).toBe(503)
          expect(looping.requests.length).toBe(1)
          expect(busy.requests.length).toBe(1)
          // the same calls with the manager's policy end in MaxRetryError
          expect(yield* tagOf(manager.request("GET", `${busy.url}/`))).toBe("MaxRetryError")
          expect(yield* tagOf(manager.request("GET", `${looping.url}/`))).toBe("MaxRetryError")
        })
      )
  )
})

describe("PoolManager.ConnectionFromError: connectionFrom* methods", () => {
  it.scopedLive("each error of the union happens, and nothing is sent", () =>
    provide(
      Effect.gen(function* () {
        const manager = yield* PoolManager.make()
        const fromUrl = manager.connectionFromUrl("http://127.0.0.1:99999/")
        expectTypeOf(fromUrl).toEqualTypeOf<
          Effect.Effect<ConnectionPool.ConnectionPool, PoolManager.ConnectionFromError, Scope.Scope>
        >()
        expect(yield* tagOf(fromUrl)).toBe("LocationParseError")
        expect(yield* tagOf(manager.connectionFromHost(""))).toBe("LocationValueError")
        expect(yield* tagOf(manager.connectionFromUrl("ftp://127.0.0.1/"))).toBe("URLSchemeUnknown")
        expect(yield* tagOf(manager.connectionFromHost("127.0.0.1", 80, "http", { maxsize: 0 }))).toBe("ValueError")
        expect(yield* tagOf(manager.connectionFromHost("127.0.0.1", 80, "http", { headers: { a: "b\r\nc" } }))).toBe(
          "InvalidHeader"
        )
        expect(yield* tagOf(manager.connectionFromHost("127.0.0.1", 80, "http", { proxy: "ftp://127.0.0.1:1" }))).toBe(
          "ProxySchemeUnknown"
        )
        const closing = yield* Scope.make()
        const closed = yield* PoolManager.make().pipe(Scope.extend(closing))
        yield* Scope.close(closing, Exit.void)
        expect(yield* tagOf(closed.connectionFromUrl("http://127.0.0.1:1/"))).toBe("ClosedPoolError")
      })
    )
  )
})
