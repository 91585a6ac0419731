import * as net from "node:net"
import { ConnectionPool, PoolKey, PoolManager, Retry } from "@httpool/core"
import type * as Errors from "@httpool/core/Errors"
import { describe, expect, it } from "@effect/vitest"
import Busboy from "busboy"
import * as fc from "fast-check"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as NodeConnector from "../src/NodeConnector.js"
import * as NodePoolManager from "../src/NodePoolManager.js"
import * as Certs from "./utils/certs.js"
import * as Origins from "./utils/origins.js"
import * as Servers from "./utils/servers.js"

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, NodeConnector.layer)

/** A manager in a Scope of its own, so a test can close it and look at the servers afterwards. */
const managerInOwnScope = (options?: PoolManager.Options) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const manager = yield* PoolManager.make(options).pipe(Scope.extend(scope), provide)
    return { manager, close: Scope.close(scope, Exit.void) } as const
  })

const echoed = (response: { readonly text: string }): Servers.Echoed => JSON.parse(response.text) as Servers.Echoed

const headerValue = (raw: ReadonlyArray<string>, name: string): string | undefined => {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name.toLowerCase()) return raw[i + 1]
  return undefined
}

/** Byte equality without vitest's element-by-element diffing (slow on large arrays). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0

const hasHeader = (request: Servers.ReceivedRequest, name: string) =>
  headerValue(request.rawHeaders, name) !== undefined

/** The failure of an effect that must fail. */
const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.either(effect), (result) =>
    Either.isLeft(result) ? Effect.succeed(result.left) : Effect.dieMessage("expected a failure, got a success")
  )

/**
 * A handler answering the paths in `routes` with a redirect (`[status, location]`) and
 * everything else with `Servers.echo`. The map can be filled after the server started, so
 * routes may point at servers started later.
 */
const redirector = (routes: Map<string, readonly [number, string]>): Servers.Handler => {
  return (req, res, received) => {
    const route = routes.get(received.url)
    if (route === undefined) return Servers.echo(req, res, received)
    const body = `redirecting to ${route[1]}`
    res.writeHead(route[0], { Location: route[1], "Content-Length": Buffer.byteLength(body) })
    res.end(body)
  }
}

/** Two redirecting origins on distinct ports. */
const twoOrigins = Effect.gen(function* () {
  const routesA = new Map<string, readonly [number, string]>()
  const routesB = new Map<string, readonly [number, string]>()
  const a = yield* Servers.http(redirector(routesA))
  const b = yield* Servers.http(redirector(routesB))
  return { a, b, routesA, routesB } as const
})

/** Whether this machine can listen on ::1. */
const canBindIpv6: Effect.Effect<boolean> = Effect.async<boolean>((resume) => {
  const server = net.createServer()
  server.once("error", () => resume(Effect.succeed(false)))
  server.listen(0, "::1", () => server.close(() => resume(Effect.succeed(true))))
})

/** Parses a multipart/form-data body with busboy: field name to value. */
const parseMultipart = (contentType: string, body: Uint8Array) =>
  Effect.async<Record<string, string>>((resume) => {
    const fields: Record<string, string> = {}
    const parser = Busboy({ headers: { "content-type": contentType } })
    parser.on("field", (name, value) => {
      fields[name] = value
    })
    parser.on("file", (name, stream) => {
      const chunks: Array<Buffer> = []
      stream.on("data", (chunk: Buffer) => chunks.push(chunk))
      stream.on("end", () => {
        fields[name] = Buffer.concat(chunks).toString("utf8")
      })
    })
    parser.on("close", () => resume(Effect.succeed(fields)))
    parser.end(Buffer.from(body))
  })

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe("PoolManager", () => {
  describe("pools", () => {
    it.scopedLive("eight URLs over five origins give five pools, keys least recently used first", () =>
      Effect.gen(function* () {
        const servers = yield* Effect.forEach([0, 1, 2, 3, 4], () => Servers.http(Servers.echo))
        const manager = yield* PoolManager.make().pipe(provide)
        const [s0, s1, s2, s3, s4] = servers
        const urls = [
          `${s0.url}/`,
          `${s1.url}/`,
          `${s0.url}/a`,
          `${s2.url}/`,
          `${s3.url}/x?y=1`,
          `${s1.url}/b`,
          `${s4.url}/`,
          `${s2.url}/c`
        ]
        for (const url of urls) {
          const response = yield* manager.request("GET", url)
          expect(response.status).toBe(200)
          expect(response.url).toBe(url)
        }
        const pools = yield* manager.pools
        expect(pools.size).toBe(5)
        // Least recently used first: s0 (3rd request), s3 (5th), s1 (6th), s4 (7th), s2 (8th).
        expect(pools.keys.map((key) => key.port)).toEqual([s0, s3, s1, s4, s2].map((s) => s.port))
        expect(pools.keys.every((key) => key.scheme === "http" && key.host === "127.0.0.1")).toBe(true)
        // Equal keys reused a pool and its connection: one socket per origin.
        expect(servers.map((s) => s.socketsOpened())).toEqual([1, 1, 1, 1, 1])
        expect(servers.map((s) => s.requests.length)).toEqual([2, 2, 2, 1, 1])
        expect(s0.requests.map((r) => r.url)).toEqual(["/", "/a"])
      })
    )

    it.scopedLive("LRU with numPools 2: a, b, a, c leaves {a, c} and closes b's connections", () =>
      Effect.gen(function* () {
        const [a, b, c] = yield* Effect.forEach([0, 1, 2], () => Servers.http(Servers.fixed("ok")))
        const manager = yield* PoolManager.make({ numPools: 2 }).pipe(provide)
        for (const server of [a, b, a, c]) {
          expect((yield* manager.request("GET", `${server.url}/`)).text).toBe("ok")
        }
        const pools = yield* manager.pools
        expect(pools.size).toBe(2)
        expect(pools.keys.map((key) => key.port)).toEqual([a.port, c.port])
        // The evicted pool's idle connection is closed; the others are kept alive.
        yield* b.waitForOpenSockets(0)
        expect(a.openSockets()).toBe(1)
        expect(c.openSockets()).toBe(1)
        expect([a, b, c].map((s) => s.socketsOpened())).toEqual([1, 1, 1])
        // Using b again creates a fresh pool (and socket) and evicts a, now the least recently used.
        expect((yield* manager.request("GET", `${b.url}/`)).text).toBe("ok")
        expect((yield* manager.pools).keys.map((key) => key.port)).toEqual([c.port, b.port])
        yield* a.waitForOpenSockets(0)
        expect(b.socketsOpened()).toBe(2)
      })
    )

    it.scopedLive("numPools 0 still serves requests and keeps no pool", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed("ok"))
        const manager = yield* PoolManager.make({ numPools: 0 }).pipe(provide)
        for (let i = 0; i < 3; i++) {
          const response = yield* manager.request("GET", `${server.url}/`)
          expect(response.status).toBe(200)
          expect(response.text).toBe("ok")
          expect((yield* manager.pools).size).toBe(0)
          // The pool used by the request is closed as soon as the request is done.
          yield* server.waitForOpenSockets(0)
        }
        expect(server.socketsOpened()).toBe(3)
        // connectionFromUrl works too: the pool is leased for the caller's Scope.
        const stats = yield* Effect.scoped(
          Effect.gen(function* () {
            const pool = yield* manager.connectionFromUrl(`${server.url}/`)
            expect((yield* pool.request("GET", "/")).text).toBe("ok")
            expect(server.openSockets()).toBe(1)
            return yield* pool.stats
          })
        )
        expect(stats.numRequests).toBe(1)
        yield* server.waitForOpenSockets(0)
      })
    )

    it.scopedLive("an evicted pool finishes a streamed response still in flight, then closes", () =>
      Effect.gen(function* () {
        // Sends the headers and the first half at once, the second half only when released.
        const size = 512 * 1024
        const body = Servers.patternBytes(size)
        const release = yield* Deferred.make<void>()
        let finished = false
        const a = yield* Servers.http((_req, res) => {
          res.writeHead(200, { "Content-Length": size })
          res.write(body.subarray(0, size / 2))
          Effect.runFork(
            Effect.andThen(Deferred.await(release), () =>
              res.end(body.subarray(size / 2), () => {
                finished = true
              })
            )
          )
        })
        const b = yield* Servers.http(Servers.fixed("b"))
        const c = yield* Servers.http(Servers.fixed("c"))
        const manager = yield* PoolManager.make({ numPools: 1 }).pipe(provide)
        yield* Effect.scoped(
          Effect.gen(function* () {
            const response = yield* manager.urlopen("GET", `${a.url}/big`, { preloadContent: false })
            expect(response.status).toBe(200)
            // Evict a's pool by using two other origins.
            expect((yield* manager.request("GET", `${b.url}/`)).text).toBe("b")
            expect((yield* manager.request("GET", `${c.url}/`)).text).toBe("c")
            const pools = yield* manager.pools
            expect(pools.keys.map((key) => key.port)).toEqual([c.port])
            // b's pool, evicted after a's, has closed its connection: a wrongful close of a's
            // connection, made when a's pool was evicted before it, would have been seen by now.
            yield* b.waitForOpenSockets(0)
            // a's pool left the manager but its connection is still serving the response.
            expect(a.openSockets()).toBe(1)
            expect(finished).toBe(false)
            yield* Deferred.succeed(release, undefined)
            const data = yield* response.data
            expect(data.length).toBe(size)
            expect(sameBytes(data, body)).toBe(true)
            expect(finished).toBe(true)
            // Read to its end, the connection went back to the (evicted) pool, still open.
            expect(a.openSockets()).toBe(1)
          })
        )
        // The caller's Scope released the last lease: the evicted pool closed its socket.
        yield* a.waitForOpenSockets(0)
        expect(a.socketsOpened()).toBe(1)
        expect(c.openSockets()).toBe(1)
        expect((yield* manager.pools).size).toBe(1)
      })
    )

    // The same with 500 origins runs in the stress project (Scale.test.ts).
    it.scopedLive("50 origins through numPools 10: never more than 10 pools' sockets open, none after close", () =>
      Origins.throughNumPools(50).pipe(provide)
    )

    it.scopedLive(
      "concurrent requests over more origins than numPools: evicted pools close once their requests end",
      () =>
        Effect.gen(function* () {
          const origins = yield* Origins.manyPorts(30)
          const { manager, close } = yield* managerInOwnScope({ numPools: 5 })
          const urls = Array.from({ length: 300 }, (_, i) => `http://127.0.0.1:${origins.ports[(i * 7) % 30]}/${i}`)
          const statuses = yield* Effect.forEach(
            urls,
            (url) => Effect.map(manager.request("GET", url), (r) => r.status),
            {
              concurrency: 16
            }
          )
          expect(statuses.every((status) => status === 200)).toBe(true)
          const pools = yield* manager.pools
          expect(pools.size).toBe(5)
          // Only the connections idle in the 5 pools held stay open; every evicted pool closed.
          const idle = yield* Effect.scoped(
            Effect.forEach(pools.keys, (key) =>
              Effect.flatMap(manager.connectionFromPoolKey(key), (pool) => Effect.map(pool.stats, (s) => s.idle))
            )
          )
          expect(idle.every((n) => n <= 1)).toBe(true)
          yield* origins.waitForOpenSockets(idle.reduce((a, b) => a + b, 0))
          yield* close
          yield* origins.waitForOpenSockets(0)
        })
    )

    it.scopedLive("concurrent first requests for one key create one pool", () =>
      Effect.gen(function* () {
        const n = 20
        // Hold every response until all n requests have arrived, so they are truly concurrent.
        const waiting: Array<() => void> = []
        const server = yield* Servers.http((req, res, received) => {
          waiting.push(() => Servers.echo(req, res, received))
          if (waiting.length === n) for (const answer of waiting.splice(0)) answer()
        })
        const manager = yield* PoolManager.make().pipe(provide)
        const responses = yield* Effect.forEach(
          Array.from({ length: n }, (_, i) => i),
          (i) => manager.request("GET", `${server.url}/${i}`),
          { concurrency: "unbounded" }
        )
        expect(responses.every((r) => r.status === 200)).toBe(true)
        expect((yield* manager.pools).size).toBe(1)
        const pool = yield* Effect.scoped(manager.connectionFromUrl(`${server.url}/`))
        const stats = yield* pool.stats
        expect(stats.numRequests).toBe(n)
        // block false: every request that found the connection busy opened one of its own;
        // all of them were this one pool's.
        expect(server.socketsOpened()).toBe(n)
        expect(stats.numConnections).toBe(server.socketsOpened())
        // maxsize 1: the surplus connections were discarded on release.
        yield* server.waitForOpenSockets(1)
        expect(stats.idle).toBe(1)
      })
    )

    it.scopedLive("clear empties the map, a request in flight completes, closing the Scope closes everything", () =>
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const holding = yield* Deferred.make<void>()
        const server = yield* Servers.http((req, res, received) => {
          if (received.url === "/slow") {
            Deferred.unsafeDone(holding, Exit.void)
            Effect.runFork(Effect.andThen(Deferred.await(gate), () => Servers.echo(req, res, received)))
            return
          }
          Servers.echo(req, res, received)
        })
        const other = yield* Servers.http(Servers.fixed("other"))
        const { manager, close } = yield* managerInOwnScope()
        expect((yield* manager.request("GET", `${other.url}/`)).text).toBe("other")
        const inFlight = yield* Effect.fork(manager.request("GET", `${server.url}/slow`))
        yield* Deferred.await(holding)
        expect((yield* manager.pools).size).toBe(2)
        yield* manager.clear
        expect((yield* manager.pools).size).toBe(0)
        // The idle pool closed at once; the one in flight keeps its connection.
        yield* other.waitForOpenSockets(0)
        expect(server.openSockets()).toBe(1)
        yield* Deferred.succeed(gate, undefined)
        const response = yield* Fiber.join(inFlight)
        expect(response.status).toBe(200)
        expect(echoed(response).url).toBe("/slow")
        // Done: the cleared pool closes behind it.
        yield* server.waitForOpenSockets(0)
        // A new request gets a new pool and socket.
        expect((yield* manager.request("GET", `${server.url}/again`)).status).toBe(200)
        expect((yield* manager.request("GET", `${other.url}/`)).status).toBe(200)
        expect((yield* manager.pools).size).toBe(2)
        expect(server.socketsOpened()).toBe(2)
        expect(server.openSockets()).toBe(1)
        yield* close
        expect((yield* manager.pools).size).toBe(0)
        yield* server.waitForOpenSockets(0)
        yield* other.waitForOpenSockets(0)
      })
    )

    it.scopedLive("a streamed response held across clear keeps its pool until its Scope closes", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed("streamed body"))
        const manager = yield* PoolManager.make().pipe(provide)
        const text = yield* Effect.scoped(
          Effect.gen(function* () {
            const response = yield* manager.urlopen("GET", `${server.url}/`, { preloadContent: false })
            yield* manager.clear
            expect((yield* manager.pools).size).toBe(0)
            return yield* response.text
          })
        )
        expect(text).toBe("streamed body")
        yield* server.waitForOpenSockets(0)
      })
    )
  })

  describe("leases", () => {
    it.scopedLive("a redirect chain A -> B -> A with numPools 1 completes; the evicted pools close after it", () =>
      Effect.gen(function* () {
        const { a, b, routesA, routesB } = yield* twoOrigins
        routesA.set("/1", [302, `${b.url}/2`])
        routesB.set("/2", [302, `${a.url}/3`])
        const manager = yield* PoolManager.make({ numPools: 1 }).pipe(provide)
        const response = yield* manager.request("GET", `${a.url}/1`)
        expect(response.status).toBe(200)
        expect(response.url).toBe(`${a.url}/3`)
        const pools = yield* manager.pools
        expect(pools.keys.map((key) => key.port)).toEqual([a.port])
        // The first A pool and the B pool were evicted during the chain and closed after it;
        // the A pool of the last hop is kept with its connection.
        yield* b.waitForOpenSockets(0)
        yield* a.waitForOpenSockets(1)
        expect(a.socketsOpened()).toBe(2)
        expect((yield* manager.request("GET", `${a.url}/again`)).status).toBe(200)
        expect(a.socketsOpened()).toBe(2)
      })
    )

    it.scopedLive(
      "connectionFromUrl leases the pool for the caller's Scope: evicted, it works until that Scope closes",
      () =>
        Effect.gen(function* () {
          const a = yield* Servers.http(Servers.fixed("a"))
          const b = yield* Servers.http(Servers.fixed("b"))
          const manager = yield* PoolManager.make({ numPools: 1 }).pipe(provide)
          yield* Effect.scoped(
            Effect.gen(function* () {
              const pool = yield* manager.connectionFromUrl(a.url)
              expect((yield* pool.request("GET", "/")).text).toBe("a")
              expect((yield* manager.request("GET", `${b.url}/`)).text).toBe("b")
              expect((yield* manager.pools).keys.map((key) => key.port)).toEqual([b.port])
              // Evicted but leased: still open and usable.
              expect((yield* pool.request("GET", "/")).text).toBe("a")
              expect(a.openSockets()).toBe(1)
              expect(a.socketsOpened()).toBe(1)
            })
          )
          yield* a.waitForOpenSockets(0)
          expect(b.openSockets()).toBe(1)
        })
    )

    it.scopedLive("failed and interrupted requests give their lease back, so clear closes the pool", () =>
      Effect.gen(function* () {
        const hung = yield* Deferred.make<void>()
        const server = yield* Servers.http((req, res, received) => {
          if (received.url === "/hang") {
            Deferred.unsafeDone(hung, Exit.void)
            return
          }
          if (received.url === "/drop") {
            res.destroy()
            return
          }
          Servers.echo(req, res, received)
        })
        const { a, routesA } = yield* twoOrigins
        routesA.set("/loop", [302, "/loop"])
        const manager = yield* PoolManager.make().pipe(provide)
        // Interrupted while waiting for the response.
        const fiber = yield* Effect.fork(manager.request("GET", `${server.url}/hang`))
        yield* Deferred.await(hung)
        yield* Fiber.interrupt(fiber)
        // Failed: the server drops the connection.
        const dropped = yield* failure(manager.request("GET", `${server.url}/drop`, { retries: false }))
        expect(dropped._tag).toBe("ProtocolError")
        // Failed in the middle of a redirect chain.
        expect((yield* failure(manager.request("GET", `${a.url}/loop`)))._tag).toBe("MaxRetryError")
        // A streamed response whose Scope closed unread.
        yield* Effect.scoped(manager.urlopen("GET", `${server.url}/stream`, { preloadContent: false }))
        // Both pools now hold idle connections only.
        expect((yield* manager.request("GET", `${server.url}/ok`)).status).toBe(200)
        expect(server.openSockets()).toBe(1)
        expect(a.openSockets()).toBe(1)
        yield* manager.clear
        // No lease was left behind: clearing closed both pools at once.
        yield* server.waitForOpenSockets(0)
        yield* a.waitForOpenSockets(0)
      })
    )

    it.scopedLive("a request interrupted while it waits for a connection gives its lease on the pool back", () =>
      Effect.gen(function* () {
        const asked = yield* Deferred.make<void>()
        const answer = yield* Deferred.make<void>()
        const server = yield* Servers.http(
          (req, res, received) => {
            if (received.url === "/held") {
              Deferred.unsafeDone(asked, Exit.void)
              Effect.runFork(Effect.andThen(Deferred.await(answer), () => Servers.echo(req, res, received)))
              return
            }
            Servers.echo(req, res, received)
            // Idle connections stay open until the client closes them (the client is told so).
          },
          { keepAliveTimeout: 600_000 }
        )
        const manager = yield* PoolManager.make({ connectionPoolKw: { maxsize: 1, block: true } }).pipe(provide)
        // The pool's one connection is taken by a request the server holds.
        const holding = yield* Effect.fork(manager.request("GET", `${server.url}/held`))
        yield* Deferred.await(asked)
        // A second request waits for that connection, and is interrupted while it waits.
        const waiting = yield* Effect.fork(manager.request("GET", `${server.url}/waits`))
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(waiting)
        yield* Deferred.succeed(answer, undefined)
        expect((yield* Fiber.join(holding)).status).toBe(200)
        expect(server.openSockets()).toBe(1)
        // Had the interrupted request kept its lease, clearing would leave the pool, and its
        // idle connection, open until that lease ended: never.
        yield* manager.clear
        yield* server.waitForOpenSockets(0)
      })
    )

    it.scopedLive(
      "closing the manager's Scope while a streamed response is held: its body fails and its socket closes",
      () =>
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.slowBody(100, "first,", "second"))
          const other = yield* Servers.http(Servers.fixed("other"))
          const { manager, close } = yield* managerInOwnScope()
          expect((yield* manager.request("GET", `${other.url}/`)).text).toBe("other")
          yield* Effect.scoped(
            Effect.gen(function* () {
              const response = yield* manager.urlopen("GET", `${server.url}/`, { preloadContent: false })
              yield* close
              expect((yield* manager.pools).size).toBe(0)
              yield* other.waitForOpenSockets(0)
              // Closing a manager ends its in-flight requests (issue 14): nothing outlives its Scope.
              const error = yield* Effect.flip(response.text)
              expect(error._tag).toBe("ProtocolError")
              yield* server.waitForOpenSockets(0)
            })
          )
        })
    )

    it.scopedLive("after the manager's Scope closed, requests fail with ClosedPoolError and open nothing", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed("late"))
        const { manager, close } = yield* managerInOwnScope()
        expect((yield* manager.request("GET", `${server.url}/`)).text).toBe("late")
        yield* close
        yield* server.waitForOpenSockets(0)
        const error = yield* failure(manager.request("GET", `${server.url}/`))
        expect(error).toMatchObject({ _tag: "ClosedPoolError", pool: { host: "127.0.0.1", port: server.port } })
        expect((yield* failure(Effect.scoped(manager.connectionFromUrl(server.url))))._tag).toBe("ClosedPoolError")
        expect((yield* manager.pools).size).toBe(0)
        expect(server.requests.length).toBe(1)
        expect(server.socketsOpened()).toBe(1)
        expect(server.openSockets()).toBe(0)
      })
    )

    it.scopedLive("a request racing the manager's close leaves no pool and no socket behind", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed("ok"))
        for (let round = 0; round < 20; round++) {
          const { manager, close } = yield* managerInOwnScope()
          const origin = `http://127.0.0.1:${server.port}/${round}`
          const requests = yield* Effect.fork(
            Effect.forEach([0, 1, 2, 3], () => Effect.either(manager.request("GET", origin)), {
              concurrency: "unbounded"
            })
          )
          yield* close
          const results = yield* Fiber.join(requests)
          for (const result of results) {
            if (Either.isLeft(result)) expect(result.left._tag).toBe("ClosedPoolError")
          }
          expect((yield* manager.pools).size).toBe(0)
          yield* server.waitForOpenSockets(0)
        }
      })
    )

    it.scopedLive("an invalid pool option is a typed error and leaves no pool", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed("ok"))
        const manager = yield* PoolManager.make({ connectionPoolKw: { maxsize: 0 } }).pipe(provide)
        const error = yield* failure(manager.request("GET", `${server.url}/`))
        expect(error._tag).toBe("ValueError")
        expect((yield* manager.pools).size).toBe(0)
        expect(server.requests.length).toBe(0)
        // A per-call override fixes it.
        const pool = yield* manager.connectionFromUrl(server.url, { maxsize: 2 })
        expect((yield* pool.request("GET", "/")).text).toBe("ok")
      })
    )
  })

  describe("connectionFrom*", () => {
    it.scopedLive("connectionFromHost, Url, Context and PoolKey agree with request (the seed)", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const other = yield* Servers.http(Servers.echo)
        const manager = yield* PoolManager.PoolManager
        expect((yield* manager.request("GET", `${other.url}/`)).status).toBe(200)
        expect((yield* manager.request("GET", `${server.url}/`)).status).toBe(200)
        expect((yield* manager.request("POST", `${server.url}/headers`)).status).toBe(200)
        expect((yield* manager.request("HEAD", `${server.url}/cookies`)).status).toBe(200)
        expect((yield* manager.pools).size).toBe(2)
        const fromHost = yield* manager.connectionFromHost("127.0.0.1", server.port)
        expect(yield* fromHost.stats).toMatchObject({ numRequests: 3, numConnections: 1 })
        expect(fromHost.port).toBe(server.port)
        expect(yield* manager.connectionFromUrl(`${server.url}/anything?q=1`)).toBe(fromHost)
        expect(yield* manager.connectionFromHost("127.0.0.1", server.port, "HTTP")).toBe(fromHost)
        expect(yield* manager.connectionFromContext({ scheme: "http", host: "127.0.0.1", port: server.port })).toBe(
          fromHost
        )
        expect(
          yield* manager.connectionFromPoolKey(PoolKey.make({ scheme: "http", host: "127.0.0.1", port: server.port }))
        ).toBe(fromHost)
        expect((yield* manager.pools).size).toBe(2)
        // The pool is usable directly, and the manager sees its requests.
        expect((yield* fromHost.request("GET", "/direct")).status).toBe(200)
        const stats = yield* fromHost.stats
        expect(stats.numRequests).toBe(4)
        expect(server.requests.map((r) => [r.method, r.url])).toEqual([
          ["GET", "/"],
          ["POST", "/headers"],
          ["HEAD", "/cookies"],
          ["GET", "/direct"]
        ])
        // Every socket the server saw was this pool's (undici closes a connection after HEAD).
        expect(stats.numConnections).toBe(server.socketsOpened())
      }).pipe(Effect.provide(NodePoolManager.layer({ numPools: 10 })))
    )

    it.scopedLive("HTTP://LOCALHOST:port/ and http://localhost:port/ share a pool", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const manager = yield* PoolManager.make().pipe(provide)
        const upper = yield* manager.request("GET", `HTTP://LOCALHOST:${server.port}/`)
        const lower = yield* manager.request("GET", `http://localhost:${server.port}/`)
        expect(upper.status).toBe(200)
        expect(lower.status).toBe(200)
        const pools = yield* manager.pools
        expect(pools.size).toBe(1)
        expect(pools.keys[0]).toMatchObject({ scheme: "http", host: "localhost", port: server.port })
        expect(server.socketsOpened()).toBe(1)
        expect(server.requests.map((r) => r.headers.host)).toEqual([
          `localhost:${server.port}`,
          `localhost:${server.port}`
        ])
        const pool = yield* manager.connectionFromHost("LocalHost", server.port, "Http")
        expect((yield* pool.stats).numRequests).toBe(2)
      })
    )

    it.scopedLive("a missing port is the scheme's default: http://h:80/ and http://h/ share a pool", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.make().pipe(provide)
        // Pools are created lazily: nothing here opens a connection.
        const withPort = yield* manager.connectionFromUrl("http://example.invalid:80/")
        const without = yield* manager.connectionFromUrl("http://example.invalid/")
        const fromHost = yield* manager.connectionFromHost("EXAMPLE.invalid")
        expect(without).toBe(withPort)
        expect(fromHost).toBe(withPort)
        expect(withPort.port).toBe(80)
        const https443 = yield* manager.connectionFromUrl("https://example.invalid:443/")
        const https = yield* manager.connectionFromHost("example.invalid", null, "https")
        expect(https).toBe(https443)
        expect(https443.port).toBe(443)
        expect(https).not.toBe(withPort)
        const pools = yield* manager.pools
        expect(pools.size).toBe(2)
        expect(pools.keys.map((key) => [key.scheme, key.port])).toEqual([
          ["http", 80],
          ["https", 443]
        ])
        expect(yield* withPort.stats).toMatchObject({ numConnections: 0, numRequests: 0 })
      })
    )

    it.scopedLive("keys: contexts without a port, trailing dots, IPv6 zone ids and TLS options", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.make().pipe(provide)
        const fromUrl = yield* manager.connectionFromUrl("http://example.com/")
        expect(yield* manager.connectionFromContext({ scheme: "HTTP", host: "Example.COM" })).toBe(fromUrl)
        // `localhost.` and `localhost` are different pools.
        const dotted = yield* manager.connectionFromUrl("http://localhost./")
        const plain = yield* manager.connectionFromUrl("http://localhost/")
        expect(dotted).not.toBe(plain)
        // `%25eth0` and `%eth0` are the same zone.
        const zone25 = yield* manager.connectionFromUrl("http://[fe80::1%25eth0]:8080/")
        const zone = yield* manager.connectionFromUrl("http://[fe80::1%eth0]:8080/")
        expect(zone).toBe(zone25)
        expect(zone).not.toBe(yield* manager.connectionFromUrl("http://[fe80::1%25eth1]:8080/"))
        // A TLS option is part of an https key.
        const https = yield* manager.connectionFromHost("example.com", 443, "https")
        const pinned = yield* manager.connectionFromHost("example.com", 443, "https", { caCerts: "/tmp/ca.pem" })
        expect(pinned).not.toBe(https)
        expect(yield* manager.connectionFromHost("example.com", 443, "https", { caCerts: "/tmp/ca.pem" })).toBe(pinned)
        expect((yield* manager.pools).size).toBe(7)
      })
    )

    it.scopedLive("bad URLs fail with typed errors before anything is sent", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const manager = yield* PoolManager.make().pipe(provide)
        const unknown = yield* failure(manager.request("GET", `ftp://127.0.0.1:${server.port}/`))
        expect(unknown._tag).toBe("URLSchemeUnknown")
        expect((unknown as Errors.URLSchemeUnknown).scheme).toBe("ftp")
        expect((yield* failure(manager.connectionFromHost("127.0.0.1", server.port, "ftp")))._tag).toBe(
          "URLSchemeUnknown"
        )
        expect((yield* failure(manager.connectionFromUrl("gopher://example.invalid/")))._tag).toBe("URLSchemeUnknown")
        expect((yield* failure(manager.connectionFromContext({ scheme: "ftp", host: "example.invalid" })))._tag).toBe(
          "URLSchemeUnknown"
        )
        // A key function without a pool factory is as unknown as no key function at all.
        yield* manager.setKeyFn("foo", PoolKey.keyFn(PoolKey.defaultShape))
        const noFactory = yield* failure(manager.connectionFromHost("127.0.0.1", server.port, "foo"))
        expect(noFactory._tag).toBe("URLSchemeUnknown")
        expect((yield* manager.pools).size).toBe(0)
        // No scheme: urllib3 guesses http with a warning; httpool refuses.
        const schemeless = yield* failure(manager.request("GET", `127.0.0.1:${server.port}/`))
        expect(schemeless._tag).toBe("LocationValueError")
        expect((yield* failure(manager.request("GET", "/just/a/path")))._tag).toBe("LocationValueError")
        // No host.
        for (const url of ["http://", "http:///path", "http://@/"]) {
          const error = yield* failure(manager.request("GET", url))
          expect(error._tag).toBe("LocationValueError")
        }
        const empty = yield* failure(manager.connectionFromHost(""))
        expect(empty).toMatchObject({ _tag: "LocationValueError", message: "No host specified." })
        expect((yield* failure(manager.connectionFromContext({ scheme: "http", host: "" })))._tag).toBe(
          "LocationValueError"
        )
        expect((yield* failure(manager.request("GET\r\n", `${server.url}/`)))._tag).toBe("ValueError")
        expect(server.requests.length).toBe(0)
        expect(server.socketsOpened()).toBe(0)
        expect((yield* manager.pools).size).toBe(0)
      })
    )
  })

  describe("pool keys and options", () => {
    it.scopedLive("the default key ignores an extra connectionPoolKw field (the seed's my_field)", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.make({ numPools: 10, connectionPoolKw: { myField: "wheat" } }).pipe(provide)
        const wheat = yield* manager.connectionFromUrl("http://example.com")
        yield* manager.updateConnectionPoolKw((kw) => ({ ...kw, myField: "barley" }))
        expect((yield* manager.connectionPoolKw).myField).toBe("barley")
        const barley = yield* manager.connectionFromUrl("http://example.com")
        expect(barley).toBe(wheat)
        expect((yield* manager.pools).size).toBe(1)
      })
    )

    it.scopedLive("a custom key shape with the field gives a pool per value (the seed's CustomKey)", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.make({ numPools: 10, connectionPoolKw: { myField: "wheat" } }).pipe(provide)
        yield* manager.setKeyFn("http", PoolKey.keyFn(PoolKey.shape([...PoolKey.defaultFields, "myField"])))
        const wheat = yield* manager.connectionFromUrl("http://example.com")
        yield* manager.updateConnectionPoolKw((kw) => ({ ...kw, myField: "barley" }))
        const barley = yield* manager.connectionFromUrl("http://example.com")
        expect(barley).not.toBe(wheat)
        let pools = yield* manager.pools
        expect(pools.size).toBe(2)
        expect(pools.keys.map((key) => PoolKey.get(key, "myField"))).toEqual(["wheat", "barley"])
        // The same value again: the existing pool.
        expect(yield* manager.connectionFromUrl("http://example.com/other")).toBe(barley)
        // https still uses the default key.
        yield* manager.connectionFromUrl("https://example.com")
        yield* manager.updateConnectionPoolKw((kw) => ({ ...kw, myField: "rye" }))
        yield* manager.connectionFromUrl("https://example.com")
        pools = yield* manager.pools
        expect(pools.size).toBe(3)
      })
    )

    it.scopedLive("per-call pool kwargs merge over connectionPoolKw and null removes a field", () =>
      Effect.gen(function* () {
        const manager = yield* PoolManager.make({ connectionPoolKw: { myField: "wheat", maxsize: 2 } }).pipe(provide)
        yield* manager.setKeyFn("http", PoolKey.keyFn(PoolKey.shape(["myField"])))
        const base = yield* manager.connectionFromHost("example.com", 80, "http")
        const rye = yield* manager.connectionFromHost("example.com", 80, "http", { myField: "rye" })
        const bigger = yield* manager.connectionFromHost("example.com", 80, "http", { maxsize: 5 })
        const removed = yield* manager.connectionFromHost("example.com", 80, "http", { myField: null })
        const removedAgain = yield* manager.connectionFromUrl("http://example.com/", { myField: null })
        expect(new Set([base, rye, bigger, removed]).size).toBe(4)
        expect(removedAgain).toBe(removed)
        const keys = (yield* manager.pools).keys
        expect(keys.map((key) => [PoolKey.get(key, "myField"), key.maxsize])).toEqual([
          ["wheat", 2],
          ["rye", 2],
          ["wheat", 5],
          [null, 2]
        ])
        // The manager's own options are unchanged.
        expect(yield* manager.connectionPoolKw).toEqual({ myField: "wheat", maxsize: 2 })
      })
    )

    it.scopedLive("per-call pool kwargs reach the pool that is created", () =>
      Effect.gen(function* () {
        const waiting: Array<() => void> = []
        const server = yield* Servers.http((req, res, received) => {
          waiting.push(() => Servers.echo(req, res, received))
          if (waiting.length === 3) for (const answer of waiting.splice(0)) answer()
        })
        const manager = yield* PoolManager.make().pipe(provide)
        const pool = yield* manager.connectionFromHost("127.0.0.1", server.port, "http", { maxsize: 3 })
        yield* Effect.forEach([1, 2, 3], (i) => pool.request("GET", `/${i}`), { concurrency: "unbounded" })
        // maxsize 3: all three connections were kept.
        expect(yield* pool.stats).toMatchObject({ numConnections: 3, idle: 3 })
        expect(server.openSockets()).toBe(3)
      })
    )

    it.scopedLive("TLS-only options are dropped for http pools and used by https pools", () =>
      Effect.gen(function* () {
        const certs = yield* Certs.certs
        const plain = yield* Servers.http(Servers.fixed("plain"))
        const secure = yield* Servers.https(Servers.fixed("secure"))
        const manager = yield* PoolManager.make({
          connectionPoolKw: { caCerts: certs.ca.certPath, certReqs: "CERT_REQUIRED", serverHostname: "localhost" }
        }).pipe(provide)
        expect((yield* manager.request("GET", `${plain.url}/`)).text).toBe("plain")
        expect((yield* manager.request("GET", `https://127.0.0.1:${secure.port}/`)).text).toBe("secure")
        expect((yield* manager.pools).size).toBe(2)
        // A manager whose CA does not sign the server fails https, and still serves http.
        const untrusting = yield* PoolManager.make({ connectionPoolKw: { caCerts: certs.selfSigned.certPath } }).pipe(
          provide
        )
        expect((yield* untrusting.request("GET", `${plain.url}/`)).text).toBe("plain")
        const error = yield* failure(untrusting.request("GET", `https://127.0.0.1:${secure.port}/`, { retries: false }))
        expect(error._tag).toBe("SSLError")
      })
    )

    it.scopedLive("pools are built from the context with TLS-only options dropped for http (urllib3's _new_pool)", () =>
      Effect.gen(function* () {
        const seen: Array<Record<string, unknown>> = []
        const recording: PoolManager.PoolFactory = (options) => {
          seen.push({ ...options })
          return ConnectionPool.make(options)
        }
        const manager = yield* PoolManager.make({
          connectionPoolKw: { caCerts: "/tmp/ca.pem", certReqs: "CERT_REQUIRED", maxsize: 3, myField: "wheat" },
          poolClassesByScheme: { http: recording, https: recording }
        }).pipe(provide)
        yield* manager.connectionFromUrl("http://example.com/")
        yield* manager.connectionFromUrl("https://example.com/")
        expect(seen).toHaveLength(2)
        expect(seen[0]).toMatchObject({ scheme: "http", host: "example.com", port: 80, maxsize: 3, myField: "wheat" })
        expect(seen[0]).not.toHaveProperty("caCerts")
        expect(seen[0]).not.toHaveProperty("certReqs")
        expect(seen[1]).toMatchObject({ scheme: "https", port: 443, caCerts: "/tmp/ca.pem", certReqs: "CERT_REQUIRED" })
        // setPoolClass replaces the constructor for pools created afterwards.
        yield* manager.setPoolClass("HTTP", (options) => {
          seen.push({ replaced: true, ...options })
          return ConnectionPool.make(options)
        })
        yield* manager.connectionFromUrl("http://other.example/")
        expect(seen[2]).toMatchObject({ replaced: true, host: "other.example" })
      })
    )

    it.scopedLive("retries given in connectionPoolKw govern redirects at manager level", () =>
      Effect.gen(function* () {
        const { a, b, routesA, routesB } = yield* twoOrigins
        routesA.set("/1", [302, `${b.url}/2`])
        routesB.set("/2", [302, `${a.url}/3`])
        routesA.set("/3", [302, `${b.url}/end`])
        const strict = yield* PoolManager.make({ connectionPoolKw: { retries: 1 } }).pipe(provide)
        const error = yield* failure(strict.request("GET", `${a.url}/1`))
        expect(error._tag).toBe("MaxRetryError")
        const relaxed = yield* PoolManager.make({ connectionPoolKw: { retries: 3 } }).pipe(provide)
        const response = yield* relaxed.request("GET", `${a.url}/1`)
        expect(response.status).toBe(200)
        expect(response.url).toBe(`${b.url}/end`)
      })
    )
  })

  describe("redirects", () => {
    it.scopedLive("a relative Location is resolved against the current URL", () =>
      Effect.gen(function* () {
        const { a, routesA } = yield* twoOrigins
        routesA.set("/dir/start", [302, "next?x=1"])
        routesA.set("/dir/next?x=1", [301, "/final"])
        const manager = yield* PoolManager.make().pipe(provide)
        const response = yield* manager.request("GET", `${a.url}/dir/start`)
        expect(response.status).toBe(200)
        expect(echoed(response).url).toBe("/final")
        expect(response.url).toBe(`${a.url}/final`)
        expect(a.requests.map((r) => r.url)).toEqual(["/dir/start", "/dir/next?x=1", "/final"])
        // Redirect bodies were drained and the connection reused.
        expect(a.socketsOpened()).toBe(1)
        expect((yield* manager.pools).size).toBe(1)
      })
    )

    it.scopedLive("an absolute Location to another origin uses that origin's pool", () =>
      Effect.gen(function* () {
        const { a, b, routesA } = yield* twoOrigins
        routesA.set("/go", [302, `${b.url}/landed?q=2`])
        const manager = yield* PoolManager.make().pipe(provide)
        const response = yield* manager.request("GET", `${a.url}/go`)
        expect(response.status).toBe(200)
        expect(response.url).toBe(`${b.url}/landed?q=2`)
        expect(b.requests.map((r) => r.url)).toEqual(["/landed?q=2"])
        expect(b.requests[0].headers.host).toBe(`127.0.0.1:${b.port}`)
        const pools = yield* manager.pools
        expect(pools.keys.map((key) => key.port)).toEqual([a.port, b.port])
        const poolA = yield* manager.connectionFromUrl(a.url)
        const poolB = yield* manager.connectionFromUrl(b.url)
        expect((yield* poolA.stats).numRequests).toBe(1)
        expect((yield* poolB.stats).numRequests).toBe(1)
      })
    )

    it.scopedLive("a chain 303, 302, 301, 307, 302 across two origins is recorded in order", () =>
      Effect.gen(function* () {
        const { a, b, routesA, routesB } = yield* twoOrigins
        routesA.set("/1", [303, `${b.url}/2`])
        routesB.set("/2", [302, `${a.url}/3`])
        routesA.set("/3", [301, `${b.url}/4`])
        routesB.set("/4", [307, `${a.url}/5`])
        routesA.set("/5", [302, `${b.url}/final`])
        const manager = yield* PoolManager.make().pipe(provide)
        const response = yield* manager.request("GET", `${a.url}/1`, { retries: 10 })
        expect(response.status).toBe(200)
        expect(response.url).toBe(`${b.url}/final`)
        expect(response.retries).not.toBeNull()
        const history = response.retries!.history
        expect(history.map((h) => [h.method, h.url, h.status, h.redirectLocation, h.error])).toEqual([
          ["GET", `${a.url}/1`, 303, `${b.url}/2`, null],
          ["GET", `${b.url}/2`, 302, `${a.url}/3`, null],
          ["GET", `${a.url}/3`, 301, `${b.url}/4`, null],
          ["GET", `${b.url}/4`, 307, `${a.url}/5`, null],
          ["GET", `${a.url}/5`, 302, `${b.url}/final`, null]
        ])
        expect(response.retries!.total).toBe(5)
        expect(a.requests.map((r) => r.url)).toEqual(["/1", "/3", "/5"])
        expect(b.requests.map((r) => r.url)).toEqual(["/2", "/4", "/final"])
        expect([a.socketsOpened(), b.socketsOpened()]).toEqual([1, 1])
        expect((yield* manager.pools).size).toBe(2)
      })
    )

    it.scopedLive(
      "Authorization, Cookie and Proxy-Authorization are stripped across hosts, kept on the same host",
      () =>
        Effect.gen(function* () {
          const { a, b, routesA } = yield* twoOrigins
          routesA.set("/away", [302, `${b.url}/echo`])
          routesA.set("/stay", [302, `${a.url}/echo`])
          routesA.set("/port", [302, `http://localhost:${a.port}/echo`])
          const manager = yield* PoolManager.make().pipe(provide)
          const headers = {
            aUtHoRiZaTiOn: "Bearer secret",
            Cookie: "session=1",
            "Proxy-Authorization": "Basic cHJveHk=",
            "X-Keep": "kept"
          }
          const copy = { ...headers }
          const away = yield* manager.request("GET", `${a.url}/away`, { headers })
          expect(away.status).toBe(200)
          const atB = b.requests[0]
          expect(hasHeader(atB, "authorization")).toBe(false)
          expect(hasHeader(atB, "cookie")).toBe(false)
          expect(hasHeader(atB, "proxy-authorization")).toBe(false)
          expect(headerValue(atB.rawHeaders, "x-keep")).toBe("kept")
          // The first origin got all of them.
          expect(headerValue(a.requests[0].rawHeaders, "authorization")).toBe("Bearer secret")
          expect(headerValue(a.requests[0].rawHeaders, "cookie")).toBe("session=1")
          // The caller's headers are not mutated.
          expect(headers).toEqual(copy)

          const stay = yield* manager.request("GET", `${a.url}/stay`, { headers })
          expect(stay.status).toBe(200)
          const second = a.requests[a.requests.length - 1]
          expect(second.url).toBe("/echo")
          expect(headerValue(second.rawHeaders, "authorization")).toBe("Bearer secret")
          expect(headerValue(second.rawHeaders, "cookie")).toBe("session=1")
          expect(headerValue(second.rawHeaders, "proxy-authorization")).toBe("Basic cHJveHk=")

          // Another host name for the same socket address is another host.
          const renamed = yield* manager.request("GET", `${a.url}/port`, { headers })
          expect(renamed.status).toBe(200)
          const third = a.requests[a.requests.length - 1]
          expect(third.headers.host).toBe(`localhost:${a.port}`)
          expect(hasHeader(third, "authorization")).toBe(false)
          expect(hasHeader(third, "cookie")).toBe(false)
          expect(headerValue(third.rawHeaders, "x-keep")).toBe("kept")
        })
    )

    it.scopedLive("a custom removeHeadersOnRedirect list replaces the default; an empty one keeps all", () =>
      Effect.gen(function* () {
        const { a, b, routesA } = yield* twoOrigins
        routesA.set("/away", [302, `${b.url}/echo`])
        const manager = yield* PoolManager.make().pipe(provide)
        const headers = { Authorization: "Bearer secret", Cookie: "c=1", "X-Secret": "s" }
        yield* manager.request("GET", `${a.url}/away`, {
          headers,
          retries: Retry.make({ removeHeadersOnRedirect: ["x-SECRET"] })
        })
        const custom = b.requests[0]
        expect(hasHeader(custom, "x-secret")).toBe(false)
        expect(headerValue(custom.rawHeaders, "authorization")).toBe("Bearer secret")
        expect(headerValue(custom.rawHeaders, "cookie")).toBe("c=1")
        yield* manager.request("GET", `${a.url}/away`, {
          headers,
          retries: Retry.make({ removeHeadersOnRedirect: [] })
        })
        const none = b.requests[1]
        expect(headerValue(none.rawHeaders, "x-secret")).toBe("s")
        expect(headerValue(none.rawHeaders, "authorization")).toBe("Bearer secret")
      })
    )

    it.scopedLive("a 307 PUT of 65 KB is re-sent intact to another host", () =>
      Effect.gen(function* () {
        const { a, b, routesA } = yield* twoOrigins
        routesA.set("/upload", [307, `${b.url}/store`])
        const manager = yield* PoolManager.make().pipe(provide)
        const body = Servers.patternBytes(65 * 1024)
        const response = yield* manager.request("PUT", `${a.url}/upload`, {
          body,
          headers: { "Content-Type": "application/octet-stream" }
        })
        expect(response.status).toBe(200)
        expect(sameBytes(a.requests[0].body, body)).toBe(true)
        const atB = b.requests[0]
        expect(atB.method).toBe("PUT")
        expect(atB.url).toBe("/store")
        expect(atB.body.length).toBe(body.length)
        expect(sameBytes(atB.body, body)).toBe(true)
        expect(atB.headers["content-type"]).toBe("application/octet-stream")
        expect(atB.headers["content-length"]).toBe(String(body.length))
        // A replayable Stream body is re-sent too.
        const streamed = yield* manager.request("POST", `${a.url}/upload`, {
          body: Stream.make(new TextEncoder().encode("part one,"), new TextEncoder().encode("part two"))
        })
        expect(streamed.status).toBe(200)
        expect(new TextDecoder().decode(b.requests[1].body)).toBe("part one,part two")
        expect(b.requests[1].method).toBe("POST")
      })
    )

    it.scopedLive("a body that can be sent only once is UnrewindableBodyError on a 307", () =>
      Effect.gen(function* () {
        const { a, b, routesA } = yield* twoOrigins
        routesA.set("/upload", [307, `${b.url}/store`])
        const manager = yield* PoolManager.make().pipe(provide)
        async function* once() {
          yield new TextEncoder().encode("only once")
        }
        const error = yield* failure(manager.request("POST", `${a.url}/upload`, { body: once() }))
        expect(error._tag).toBe("UnrewindableBodyError")
        expect(b.requests.length).toBe(0)
      })
    )

    it.scopedLive("303 turns POST into GET without a body and its content headers", () =>
      Effect.gen(function* () {
        const { a, b, routesA } = yield* twoOrigins
        routesA.set("/form", [303, `${b.url}/result`])
        const manager = yield* PoolManager.make().pipe(provide)
        const response = yield* manager.request("POST", `${a.url}/form`, {
          body: "secret=1",
          headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Other": "kept" }
        })
        expect(response.status).toBe(200)
        expect(a.requests[0].method).toBe("POST")
        expect(new TextDecoder().decode(a.requests[0].body)).toBe("secret=1")
        const atB = b.requests[0]
        expect(atB.method).toBe("GET")
        expect(atB.body.length).toBe(0)
        expect(hasHeader(atB, "content-type")).toBe(false)
        expect(hasHeader(atB, "content-length")).toBe(false)
        expect(hasHeader(atB, "transfer-encoding")).toBe(false)
        expect(headerValue(atB.rawHeaders, "x-other")).toBe("kept")
        expect(response.retries!.history.map((h) => [h.url, h.status])).toEqual([[`${a.url}/form`, 303]])
      })
    )

    it.scopedLive("308 keeps method and body; 300 and 201 with a Location are not followed", () =>
      Effect.gen(function* () {
        const { a, b, routesA } = yield* twoOrigins
        routesA.set("/permanent", [308, `${b.url}/moved`])
        routesA.set("/choices", [300, `${b.url}/choice`])
        routesA.set("/created", [201, `${b.url}/new`])
        const manager = yield* PoolManager.make().pipe(provide)
        const moved = yield* manager.request("POST", `${a.url}/permanent`, { body: "payload" })
        expect(moved.status).toBe(200)
        expect(b.requests[0]).toMatchObject({ method: "POST", url: "/moved" })
        expect(new TextDecoder().decode(b.requests[0].body)).toBe("payload")
        for (const path of ["/choices", "/created"]) {
          const response = yield* manager.request("GET", `${a.url}${path}`)
          expect(response.redirectLocation).toBeNull()
        }
        expect((yield* manager.request("GET", `${a.url}/choices`)).status).toBe(300)
        expect(b.requests.length).toBe(1)
      })
    )

    it.scopedLive("redirect: false returns the 3xx unfollowed", () =>
      Effect.gen(function* () {
        const { a, b, routesA } = yield* twoOrigins
        routesA.set("/go", [302, `${b.url}/x`])
        const manager = yield* PoolManager.make().pipe(provide)
        const response = yield* manager.request("GET", `${a.url}/go`, { redirect: false })
        expect(response.status).toBe(302)
        expect(response.redirectLocation).toBe(`${b.url}/x`)
        expect(response.text).toBe(`redirecting to ${b.url}/x`)
        expect(b.requests.length).toBe(0)
        // retries: false also returns the 3xx.
        const off = yield* manager.request("GET", `${a.url}/go`, { retries: false })
        expect(off.status).toBe(302)
        expect(b.requests.length).toBe(0)
        expect((yield* manager.pools).size).toBe(1)
      })
    )

    it.scopedLive("too many redirects is MaxRetryError; raiseOnRedirect false returns the last 3xx", () =>
      Effect.gen(function* () {
        const { a, b, routesA, routesB } = yield* twoOrigins
        // A loop between the two origins.
        routesA.set("/ping", [302, `${b.url}/pong`])
        routesB.set("/pong", [302, `${a.url}/ping`])
        const manager = yield* PoolManager.make().pipe(provide)
        const error = yield* failure(manager.request("GET", `${a.url}/ping`))
        expect(error._tag).toBe("MaxRetryError")
        const max = error as Errors.MaxRetryError
        expect(max.reason).toMatchObject({ _tag: "ResponseError", message: "too many redirects" })
        // Retry(3): the first request and three redirects were followed, the fourth 3xx failed.
        expect(a.requests.length + b.requests.length).toBe(4)
        // The 3xx bodies were drained: each origin's connection was reused.
        expect([a.socketsOpened(), b.socketsOpened()]).toEqual([1, 1])

        const before = a.requests.length + b.requests.length
        const last = yield* manager.request("GET", `${a.url}/ping`, {
          retries: Retry.make({ total: 2, raiseOnRedirect: false })
        })
        expect(last.status).toBe(302)
        expect(a.requests.length + b.requests.length - before).toBe(3)
        // and kept open after the failure: the next requests went on the same connections.
        expect([a.socketsOpened(), b.socketsOpened()]).toEqual([1, 1])
        expect(last.retries!.history.length).toBe(2)
        // redirect counter: 1 allows one hop.
        const redirectOne = yield* failure(
          manager.request("GET", `${a.url}/ping`, { retries: Retry.make({ redirect: 1 }) })
        )
        expect(redirectOne._tag).toBe("MaxRetryError")
      })
    )

    it.scopedLive("a redirect to ftp:// is URLSchemeUnknown", () =>
      Effect.gen(function* () {
        const { a, routesA } = yield* twoOrigins
        routesA.set("/ftp", [302, "ftp://127.0.0.1/file"])
        const manager = yield* PoolManager.make().pipe(provide)
        const error = yield* failure(manager.request("GET", `${a.url}/ftp`))
        expect(error).toMatchObject({ _tag: "URLSchemeUnknown", scheme: "ftp" })
        expect(a.requests.length).toBe(1)
        // The 3xx was drained: the connection stays open for reuse.
        expect((yield* manager.request("GET", `${a.url}/echo`)).status).toBe(200)
        expect(a.socketsOpened()).toBe(1)
      })
    )

    it.scopedLive("retries are counted across the whole chain: retries 2 with 3 hops fails, 3 succeeds", () =>
      Effect.gen(function* () {
        const { a, b, routesA, routesB } = yield* twoOrigins
        routesA.set("/1", [302, `${b.url}/2`])
        routesB.set("/2", [302, `${a.url}/3`])
        routesA.set("/3", [302, `${b.url}/end`])
        const manager = yield* PoolManager.make().pipe(provide)
        const error = yield* failure(manager.request("GET", `${a.url}/1`, { retries: 2 }))
        expect(error._tag).toBe("MaxRetryError")
        expect((error as Errors.MaxRetryError).url).toBe(`${a.url}/3`)
        expect(b.requests.some((r) => r.url === "/end")).toBe(false)
        const ok = yield* manager.request("GET", `${a.url}/1`, { retries: 3 })
        expect(ok.status).toBe(200)
        expect(ok.url).toBe(`${b.url}/end`)
        expect(ok.retries!.history.length).toBe(3)
      })
    )

    it.scopedLive("with block and maxsize 1, each streamed 3xx is drained before the next hop", () =>
      Effect.gen(function* () {
        const { a, routesA } = yield* twoOrigins
        routesA.set("/hop", [302, "/hop2"])
        routesA.set("/hop2", [307, "/echo"])
        routesA.set("/bad", [302, "http://bad:99999/"])
        const manager = yield* PoolManager.make({ connectionPoolKw: { block: true, maxsize: 1, poolTimeout: 1 } }).pipe(
          provide
        )
        yield* Effect.scoped(
          Effect.gen(function* () {
            const response = yield* manager.urlopen("GET", `${a.url}/hop`, { preloadContent: false })
            expect(echoed({ text: yield* response.text }).url).toBe("/echo")
            // A Location that cannot be parsed fails the request; its connection was drained
            // and given back, so the next request in the same Scope does not wait for it.
            const error = yield* failure(manager.urlopen("GET", `${a.url}/bad`, { preloadContent: false }))
            expect(error._tag).toBe("LocationParseError")
            const next = yield* manager.urlopen("GET", `${a.url}/echo`, { preloadContent: false })
            expect(next.status).toBe(200)
            yield* next.drain
          })
        )
        expect(a.socketsOpened()).toBe(1)
      })
    )

    it.scopedLive("a streamed response follows redirects across hosts too", () =>
      Effect.gen(function* () {
        const { a, b, routesA } = yield* twoOrigins
        routesA.set("/go", [302, `${b.url}/there`])
        const manager = yield* PoolManager.make().pipe(provide)
        const text = yield* Effect.scoped(
          Effect.gen(function* () {
            const response = yield* manager.urlopen("GET", `${a.url}/go`, { preloadContent: false })
            expect(response.status).toBe(200)
            expect(response.url).toBe(`${b.url}/there`)
            return yield* response.text
          })
        )
        expect((JSON.parse(text) as Servers.Echoed).url).toBe("/there")
        // a's connection went back to the pool after the drain.
        expect((yield* manager.request("GET", `${a.url}/echo`)).status).toBe(200)
        expect(a.socketsOpened()).toBe(1)
      })
    )
  })

  describe("requests", () => {
    it.scopedLive("default manager headers are used when a request gives none, replaced otherwise", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const manager = yield* PoolManager.make({ headers: { "X-Default": "1", Authorization: "Basic ZGVm" } }).pipe(
          provide
        )
        expect([...manager.headers].map(([name]) => name)).toEqual(["X-Default", "Authorization"])
        yield* manager.request("GET", `${server.url}/`)
        const first = server.requests[0]
        expect(headerValue(first.rawHeaders, "x-default")).toBe("1")
        expect(headerValue(first.rawHeaders, "authorization")).toBe("Basic ZGVm")
        yield* manager.request("GET", `${server.url}/`, { headers: { "X-Other": "2" } })
        const second = server.requests[1]
        expect(headerValue(second.rawHeaders, "x-other")).toBe("2")
        expect(hasHeader(second, "x-default")).toBe(false)
        expect(hasHeader(second, "authorization")).toBe(false)
        // urlopen too.
        yield* manager.urlopen("GET", `${server.url}/`)
        expect(headerValue(server.requests[2].rawHeaders, "x-default")).toBe("1")
      })
    )

    it.scopedLive("fields go into the query for GET and into a multipart body for POST", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const manager = yield* PoolManager.make({ headers: { "X-Default": "1" } }).pipe(provide)
        yield* manager.request("GET", `${server.url}/search?page=2`, { fields: { q: "a b&c", lang: "en" } })
        expect(server.requests[0].url).toBe("/search?page=2&q=a+b%26c&lang=en")
        expect(server.requests[0].body.length).toBe(0)
        yield* manager.request("POST", `${server.url}/form`, {
          fields: { name: "value", file: ["hello.txt", "file contents", "text/plain"] }
        })
        const post = server.requests[1]
        expect(post.url).toBe("/form")
        const contentType = post.headers["content-type"] ?? ""
        expect(contentType.startsWith("multipart/form-data; boundary=")).toBe(true)
        expect(yield* parseMultipart(contentType, post.body)).toEqual({ name: "value", file: "file contents" })
        // The manager's default headers came along with the Content-Type.
        expect(headerValue(post.rawHeaders, "x-default")).toBe("1")
        yield* manager.request("POST", `${server.url}/urlencoded`, { fields: { a: "1" }, encodeMultipart: false })
        expect(new TextDecoder().decode(server.requests[2].body)).toBe("a=1")
        expect(server.requests[2].headers["content-type"]).toBe("application/x-www-form-urlencoded")
        yield* manager.requestEncodeUrl("DELETE", `${server.url}/item`, { fields: { id: "7" } })
        expect(server.requests[3]).toMatchObject({ method: "DELETE", url: "/item?id=7" })
        yield* manager.requestEncodeBody("PUT", `${server.url}/item`, {
          fields: { id: "8" },
          multipartBoundary: "b0und"
        })
        expect(server.requests[4].headers["content-type"]).toBe("multipart/form-data; boundary=b0und")
        yield* manager.request("POST", `${server.url}/json`, { json: { x: 1 } })
        expect(server.requests[5].headers["content-type"]).toBe("application/json")
        expect(new TextDecoder().decode(server.requests[5].body)).toBe('{"x":1}')
      })
    )

    it.scopedLive("invalid headers are InvalidHeader before anything is sent", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const bad = yield* PoolManager.make({ headers: { "X-Bad": "a\r\nInjected: 1" } }).pipe(provide)
        expect((yield* failure(bad.request("GET", `${server.url}/`)))._tag).toBe("InvalidHeader")
        // Request headers replace the defaults, so a request with valid headers of its own is sent.
        expect((yield* bad.request("GET", `${server.url}/`, { headers: { "X-Good": "1" } })).status).toBe(200)
        const manager = yield* PoolManager.make().pipe(provide)
        const error = yield* failure(manager.request("GET", `${server.url}/`, { headers: { "X-Bad\n": "1" } }))
        expect(error._tag).toBe("InvalidHeader")
        expect(server.requests.length).toBe(1)
      })
    )

    it.scopedLive("urlopen sends only the origin-form target, never the fragment", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const manager = yield* PoolManager.make().pipe(provide)
        const response = yield* manager.urlopen("GET", `${server.url}/p/a?q=1&r=%20x#frag`)
        expect(echoed(response).url).toBe("/p/a?q=1&r=%20x")
        expect(server.requests[0].url).toBe("/p/a?q=1&r=%20x")
        yield* manager.urlopen("GET", `${server.url}#only-fragment`)
        expect(server.requests[1].url).toBe("/")
        yield* manager.request("GET", `${server.url}/f#frag`, { fields: { k: "v" } })
        expect(server.requests[2].url).toBe("/f?k=v")
      })
    )

    it.scopedLive("IPv6 literals work: http://[::1]:port/", () =>
      Effect.gen(function* () {
        if (!(yield* canBindIpv6)) {
          console.log("note: this machine cannot listen on ::1; the IPv6 assertion is skipped")
          return
        }
        const server = yield* Servers.http(Servers.echo, { host: "::1" })
        const manager = yield* PoolManager.make().pipe(provide)
        const response = yield* manager.request("GET", `http://[::1]:${server.port}/v6?x=1#frag`)
        expect(response.status).toBe(200)
        expect(echoed(response).url).toBe("/v6?x=1")
        expect(server.requests[0].headers.host).toBe(`[::1]:${server.port}`)
        yield* manager.request("GET", `http://[::1]:${server.port}/again`)
        expect(server.socketsOpened()).toBe(1)
        const pools = yield* manager.pools
        expect(pools.size).toBe(1)
        const pool = yield* manager.connectionFromUrl(`http://[::1]:${server.port}/`)
        expect(pool.host).toBe("::1")
        expect((yield* pool.stats).numRequests).toBe(2)
      })
    )
  })

  describe("interface", () => {
    it.scopedLive("a manager's pools are ConnectionPools usable on their own", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed("direct"))
        const manager = yield* PoolManager.make().pipe(provide)
        const pool: ConnectionPool.ConnectionPool = yield* manager.connectionFromUrl(server.url)
        expect(pool.isSameHost(`${server.url}/x`)).toBe(true)
        expect((yield* pool.request("GET", "/")).text).toBe("direct")
        expect((yield* manager.request("GET", `${server.url}/`)).text).toBe("direct")
        expect((yield* pool.stats).numRequests).toBe(2)
      })
    )
  })
})

describe("PoolManager against a model", () => {
  it.scopedLive("random requests and clears keep exactly the pools an LRU model says, and close the rest", () =>
    Effect.gen(function* () {
      const servers = yield* Effect.all(Array.from({ length: 4 }, () => Servers.http(Servers.fixed("ok"))))
      type Op = { readonly _tag: "request"; readonly origin: number } | { readonly _tag: "clear" }
      const op: fc.Arbitrary<Op> = fc.oneof(
        {
          weight: 5,
          arbitrary: fc.integer({ min: 0, max: 3 }).map((origin) => ({ _tag: "request" as const, origin }))
        },
        { weight: 1, arbitrary: fc.constant({ _tag: "clear" as const }) }
      )
      const capacity = 2
      const run = (ops: ReadonlyArray<Op>) =>
        Effect.gen(function* () {
          const manager = yield* PoolManager.make({ numPools: capacity })
          let model: ReadonlyArray<number> = []
          for (const step of ops) {
            if (step._tag === "clear") {
              yield* manager.clear
              model = []
            } else {
              const response = yield* manager.request("GET", `${servers[step.origin].url}/`)
              expect(response.text).toBe("ok")
              model = [...model.filter((i) => i !== step.origin), step.origin]
              if (model.length > capacity) model = model.slice(model.length - capacity)
            }
            const pools = yield* manager.pools
            expect(pools.keys.map((key) => key.port)).toEqual(model.map((i) => servers[i].port))
          }
          // Pools that left the model have closed their connections; those in it keep one each.
          for (const [i, server] of servers.entries()) {
            yield* server.waitForOpenSockets(model.includes(i) ? 1 : 0)
          }
        }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(fc.array(op, { maxLength: 12 }), (ops) => Effect.runPromise(run(ops))),
          { numRuns: 15 }
        )
      )
      for (const server of servers) yield* server.waitForOpenSockets(0)
    })
  )
})
