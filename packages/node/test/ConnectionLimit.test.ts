import * as http from "node:http"
import * as net from "node:net"
import { Metrics, PoolManager, ProxyManager } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Scope from "effect/Scope"
import { createProxy } from "proxy"
import * as NodeConnector from "../src/NodeConnector.js"
import * as Certs from "./utils/certs.js"
import * as Servers from "./utils/servers.js"

/**
 * Many origins served by one node:http server: a listening socket on its own port of
 * 127.0.0.1 per origin, each handing what it accepts to the one server. Counts the sockets
 * open across all origins now and at most; a socket counts as closed once the client has
 * closed its end (its end of stream or its close, whichever the server sees first).
 */
interface FanOut {
  readonly origins: ReadonlyArray<string>
  readonly open: () => number
  readonly maxOpen: () => number
  readonly accepted: () => number
  /** Request paths in the order they arrived. */
  readonly seen: ReadonlyArray<string>
  /** Answers the oldest request held by a `/hold` path. */
  readonly answerHeld: () => void
}

const fanOut = (count: number): Effect.Effect<FanOut, never, Scope.Scope> =>
  Effect.gen(function* () {
    const sockets = new Set<net.Socket>()
    const seen: Array<string> = []
    const held: Array<http.ServerResponse> = []
    let open = 0
    let maxOpen = 0
    let accepted = 0
    const server = http.createServer((req, res) => {
      seen.push(req.url ?? "")
      req.resume()
      req.on("end", () => {
        if ((req.url ?? "").startsWith("/hold")) {
          held.push(res)
          return
        }
        res.writeHead(200, { "Content-Length": "2" })
        res.end("ok")
      })
    })
    const onConnection = (socket: net.Socket) => {
      accepted++
      open++
      maxOpen = Math.max(maxOpen, open)
      sockets.add(socket)
      let counted = true
      const gone = () => {
        if (counted) {
          counted = false
          open--
        }
      }
      socket.once("end", gone)
      socket.once("close", () => {
        gone()
        sockets.delete(socket)
      })
      socket.on("error", () => {})
      server.emit("connection", socket)
    }
    const listeners = yield* Effect.acquireRelease(
      Effect.forEach(
        Array.from({ length: count }, () => net.createServer(onConnection)),
        (listener) =>
          Effect.async<net.Server>((resume) => {
            listener.listen(0, "127.0.0.1", () => resume(Effect.succeed(listener)))
          }),
        { concurrency: 100 }
      ),
      (listeners) =>
        Effect.async<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          let left = listeners.length
          for (const listener of listeners) listener.close(() => --left === 0 && resume(Effect.void))
        }).pipe(Effect.timeout("5 seconds"), Effect.ignore)
    )
    const origins = listeners.map((listener) => `http://127.0.0.1:${(listener.address() as net.AddressInfo).port}`)
    return {
      origins,
      open: () => open,
      maxOpen: () => maxOpen,
      accepted: () => accepted,
      seen,
      answerHeld: () => {
        const res = held.shift()
        res?.writeHead(200, { "Content-Length": "4" })
        res?.end("held")
      }
    }
  })

/** Polls (every 5 ms, up to 5 s) until `done` holds. */
const until = (done: () => boolean, what: string) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 5000
    while (!done()) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out waiting for ${what}`)
      yield* Effect.sleep("5 millis")
    }
  })

const gauge = (metric: Metrics.Gauge) => Effect.map(Metric.value(metric), (state) => state.value)

/** Waits until `n` requests wait for a place under the cap. */
const waitingFor = (n: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 5000
    while ((yield* gauge(Metrics.connectionLimitWaiting)) !== n) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`expected ${n} waiting requests`)
      yield* Effect.sleep("5 millis")
    }
  })

/** A manager in a Scope of its own, so that a test can close it and look at the servers after. */
const managerIn = (scope: Scope.Scope, options: PoolManager.Options) =>
  PoolManager.make(options).pipe(Scope.extend(scope), Effect.provide(NodeConnector.layer))

describe("maxTotalConnections", () => {
  it.scopedLive(
    "2,000 origins through a cap of 32: never more than 32 sockets open, every request answered, all closed with the Scope",
    () =>
      Effect.gen(function* () {
        const servers = yield* fanOut(2000)
        const scope = yield* Scope.make()
        const manager = yield* managerIn(scope, { maxTotalConnections: 32, numPools: 4000 })
        const statuses = yield* Effect.forEach(
          servers.origins,
          (origin, i) => Effect.map(manager.request("GET", `${origin}/${i}`), (response) => response.status),
          { concurrency: 200 }
        )
        expect(statuses.filter((status) => status === 200)).toHaveLength(2000)
        expect(servers.seen).toHaveLength(2000)
        expect(servers.maxOpen()).toBeLessThanOrEqual(32)
        expect(servers.maxOpen()).toBeGreaterThan(1)
        // Each origin needed a connection of its own: the cap closed idle ones of other pools.
        expect(servers.accepted()).toBe(2000)
        expect(yield* gauge(Metrics.connectionLimitOpen)).toBe(servers.open())
        expect(yield* gauge(Metrics.connectionLimitWaiting)).toBe(0)
        yield* Scope.close(scope, Exit.void)
        yield* until(() => servers.open() === 0, "every socket to close")
        expect(yield* gauge(Metrics.connectionLimitOpen)).toBe(0)
      }),
    120_000
  )

  it.scopedLive("requests of different pools waiting for a place are served first come, first served", () =>
    Effect.gen(function* () {
      const servers = yield* fanOut(4)
      const [a, b, c, d] = servers.origins
      const manager = yield* managerIn(yield* Effect.scope, { maxTotalConnections: 1 })
      const holding = yield* Effect.fork(manager.request("GET", `${a}/hold`))
      yield* until(() => servers.seen.length === 1, "the held request")
      const waiting: Array<Fiber.RuntimeFiber<unknown, unknown>> = []
      for (const [i, origin] of [d, b, c, a].entries()) {
        waiting.push(yield* Effect.fork(manager.request("GET", `${origin}/${"dbca"[i]}`)))
        yield* waitingFor(i + 1)
      }
      servers.answerHeld()
      yield* Fiber.join(holding)
      for (const fiber of waiting) yield* Fiber.join(fiber)
      expect(servers.seen).toEqual(["/hold", "/d", "/b", "/c", "/a"])
      expect(servers.maxOpen()).toBe(1)
    })
  )

  it.scopedLive("requests of one origin waiting for a place reuse its connections instead of opening new ones", () =>
    Effect.gen(function* () {
      const servers = yield* fanOut(1)
      const [a] = servers.origins
      const manager = yield* managerIn(yield* Effect.scope, {
        maxTotalConnections: 2,
        connectionPoolKw: { maxsize: 8 }
      })
      const statuses = yield* Effect.forEach(
        Array.from({ length: 40 }, (_, i) => i),
        (i) => Effect.map(manager.request("GET", `${a}/${i}`), (response) => response.status),
        { concurrency: 8 }
      )
      expect(statuses).toEqual(Array.from({ length: 40 }, () => 200))
      expect(servers.accepted()).toBe(2)
      expect(servers.maxOpen()).toBe(2)
    })
  )

  it.scopedLive("a request that gets no place within its poolTimeout fails with EmptyPoolError", () =>
    Effect.gen(function* () {
      const servers = yield* fanOut(2)
      const [a, b] = servers.origins
      const manager = yield* managerIn(yield* Effect.scope, { maxTotalConnections: 1 })
      const holding = yield* Effect.fork(manager.request("GET", `${a}/hold`))
      yield* until(() => servers.seen.length === 1, "the held request")
      const error = yield* Effect.flip(manager.request("GET", `${b}/late`, { poolTimeout: 0.05 }))
      expect(error._tag).toBe("EmptyPoolError")
      expect(error.message).toContain("maxTotalConnections (1)")
      expect(yield* gauge(Metrics.connectionLimitWaiting)).toBe(0)
      servers.answerHeld()
      yield* Fiber.join(holding)
      // The failed request took no place: the next one gets it.
      expect((yield* manager.request("GET", `${b}/next`)).status).toBe(200)
      expect(servers.seen).toEqual(["/hold", "/next"])
    })
  )

  it.scopedLive("an idle connection of another pool is closed to make room", () =>
    Effect.gen(function* () {
      const servers = yield* fanOut(3)
      const [a, b, c] = servers.origins
      const manager = yield* managerIn(yield* Effect.scope, { maxTotalConnections: 2 })
      yield* manager.request("GET", `${a}/1`)
      yield* manager.request("GET", `${b}/1`)
      expect(servers.open()).toBe(2)
      // a's connection is the least recently used: c takes its place.
      yield* manager.request("GET", `${c}/1`)
      expect(servers.maxOpen()).toBe(2)
      yield* manager.request("GET", `${b}/2`)
      expect(servers.accepted()).toBe(3)
      const aPool = yield* manager.connectionFromUrl(a)
      expect((yield* aPool.stats).idle).toBe(0)
      expect(yield* gauge(Metrics.connectionLimitOpen)).toBe(2)
    })
  )

  it.scopedLive("interrupting a waiting request removes it from the queue and frees nothing it did not hold", () =>
    Effect.gen(function* () {
      const servers = yield* fanOut(3)
      const [a, b, c] = servers.origins
      const manager = yield* managerIn(yield* Effect.scope, { maxTotalConnections: 1 })
      const holding = yield* Effect.fork(manager.request("GET", `${a}/hold`))
      yield* until(() => servers.seen.length === 1, "the held request")
      const interrupted = yield* Effect.fork(manager.request("GET", `${b}/never`))
      yield* waitingFor(1)
      const next = yield* Effect.fork(manager.request("GET", `${c}/next`))
      yield* waitingFor(2)
      yield* Fiber.interrupt(interrupted)
      expect(yield* gauge(Metrics.connectionLimitWaiting)).toBe(1)
      // The cap is still held by the first request: nothing was given back by the interruption.
      expect(yield* gauge(Metrics.connectionLimitOpen)).toBe(1)
      expect(servers.seen).toEqual(["/hold"])
      servers.answerHeld()
      yield* Fiber.join(holding)
      yield* Fiber.join(next)
      expect(servers.seen).toEqual(["/hold", "/next"])
      expect(servers.maxOpen()).toBe(1)
      const bPool = yield* manager.connectionFromUrl(b)
      expect(yield* bPool.stats).toMatchObject({ inUse: 0, numConnections: 0 })
    })
  )

  it.scopedLive("a ProxyManager's tunnels share the cap", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const origins = yield* Effect.forEach(Array.from({ length: 6 }), () => Servers.https(Servers.echo))
      // A real CONNECT proxy counting the sockets its clients keep open.
      const proxy = yield* Effect.acquireRelease(
        Effect.async<{ readonly server: http.Server; readonly open: () => number; readonly max: () => number }>(
          (resume) => {
            const server = createProxy(http.createServer())
            let open = 0
            let max = 0
            server.on("connection", (socket: net.Socket) => {
              open++
              max = Math.max(max, open)
              let counted = true
              const gone = () => {
                if (counted) {
                  counted = false
                  open--
                }
              }
              socket.once("end", gone)
              socket.once("close", gone)
            })
            server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, open: () => open, max: () => max })))
          }
        ),
        ({ server }) =>
          Effect.async<void>((resume) => {
            server.closeAllConnections()
            server.close(() => resume(Effect.void))
          }).pipe(Effect.timeout("2 seconds"), Effect.ignore)
      )
      const port = (proxy.server.address() as net.AddressInfo).port
      const scope = yield* Scope.make()
      const manager = yield* ProxyManager.make(`http://127.0.0.1:${port}`, {
        maxTotalConnections: 2,
        connectionPoolKw: { caCerts: certs.ca.certPath }
      }).pipe(Scope.extend(scope), Effect.provide(NodeConnector.layer))
      const get = (origin: Servers.TestServer, i: number) =>
        Effect.map(manager.request("GET", `https://localhost:${origin.port}/${i}`), (r) => r.status)
      // One request at a time: each new tunnel takes the place of the least recently used one,
      // closed first, so the proxy never holds more than 2 of its clients' sockets.
      const sequential = yield* Effect.forEach([...origins, ...origins], get)
      expect(sequential).toEqual(Array.from({ length: 12 }, () => 200))
      expect(proxy.max()).toBe(2)
      // Six at once through two tunnels: they wait their turn and all complete. (Several
      // tunnels replaced in one turn of the event loop can reach this same-process proxy's
      // accept before the end of the ones closed for them, so its count is read above only.)
      const concurrent = yield* Effect.forEach([...origins, ...origins], get, { concurrency: 6 })
      expect(concurrent).toEqual(Array.from({ length: 12 }, () => 200))
      expect(yield* gauge(Metrics.connectionLimitOpen)).toBe(2)
      yield* Scope.close(scope, Exit.void)
      yield* until(() => proxy.open() === 0, "every tunnel to close")
    })
  )
})
