/**
 * Many origins for the tests of what a manager keeps per origin: `manyPorts` (one node:http
 * server on many ports), `throughNumPools`, `throughConnectionCap` and `originsLeaveNothing`,
 * which PoolManager.test.ts, ConnectionLimit.test.ts and Lifecycle.test.ts run at a size
 * `npm test` affords and Scale.test.ts (the stress project) at full size.
 */
import * as http from "node:http"
import * as net from "node:net"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { Metrics, PoolManager } from "@httpool/core"
import * as Connector from "@httpool/core/Connector"
import { expect } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Scope from "effect/Scope"
import * as NodeConnector from "../../src/NodeConnector.js"
import * as Servers from "./servers.js"
import * as Watch from "./watch.js"

v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void

/** The heap in use after full collections. */
const heapAfterGc = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** One node:http server on many loopback ports (see `manyPorts`). */
export interface ManyPorts {
  readonly ports: ReadonlyArray<number>
  /** `http://127.0.0.1:port` for each port. */
  readonly origins: ReadonlyArray<string>
  /** Sockets accepted since the server started, over every port. */
  readonly socketsOpened: () => number
  /** Sockets not closed yet. */
  readonly openSockets: () => number
  /** Sockets neither ended by the client nor closed: what the client still holds. */
  readonly liveSockets: () => number
  /** The most sockets live at once (counted as each was accepted, once the loop has read what came before it). */
  readonly maxLive: () => number
  /** Request paths in the order they arrived. */
  readonly seen: ReadonlyArray<string>
  /** Answers the oldest request held by a `/hold` path with "held". */
  readonly answerHeld: () => void
  /**
   * Waits until `condition` holds, checked whenever a socket opens, ends or closes or a
   * request arrives (no clock); fails the test naming `what` after 5 s.
   */
  readonly waitUntil: (condition: () => boolean, what: string) => Effect.Effect<void>
  /** `waitUntil` the server has `count` open sockets. */
  readonly waitForOpenSockets: (count: number) => Effect.Effect<void>
}

/**
 * One node:http server reachable on `n` distinct loopback ports (one net.Server per port
 * hands its sockets to the single http.Server), so a test gets many distinct pool keys
 * without many processes or servers. It answers every request with "ok", except a path
 * starting with `/hold`, answered by `answerHeld`; it counts sockets the way `Servers` does,
 * plus those the client still holds (`liveSockets`), and records the paths requested.
 */
export const manyPorts = (n: number): Effect.Effect<ManyPorts, never, Scope.Scope> =>
  Effect.gen(function* () {
    const open = new Set<net.Socket>()
    const live = new Set<net.Socket>()
    const seen: Array<string> = []
    const held: Array<http.ServerResponse> = []
    // Told of every socket and request event: what `waitUntil` waits on.
    const watch = Watch.make(() => `${open.size} open, ${live.size} live, ${seen.length} requests`)
    const changed = watch.changed
    let opened = 0
    let maxLive = 0
    const app = http.createServer((req, res) => {
      const url = req.url ?? ""
      seen.push(url)
      req.resume()
      req.on("end", () => {
        if (url.startsWith("/hold")) {
          held.push(res)
        } else {
          res.writeHead(200, { "Content-Length": 2 })
          res.end("ok")
        }
      })
      changed()
    })
    app.keepAliveTimeout = 60_000
    const onSocket = (socket: net.Socket) => {
      opened++
      open.add(socket)
      live.add(socket)
      // Counted after this turn's reads: a socket the client closed before it opened this one
      // has sent its end first, which the server may read in the same turn, after the accept.
      setImmediate(() => {
        maxLive = Math.max(maxLive, live.size)
      })
      socket.on("error", () => {})
      socket.once("end", () => {
        live.delete(socket)
        changed()
      })
      socket.once("close", () => {
        live.delete(socket)
        open.delete(socket)
        changed()
      })
      app.emit("connection", socket)
      changed()
    }
    const listeners = yield* Effect.acquireRelease(
      Effect.forEach(
        Array.from({ length: n }, () => net.createServer(onSocket)),
        (listener) =>
          Effect.async<net.Server>((resume) => {
            listener.listen(0, "127.0.0.1", () => resume(Effect.succeed(listener)))
          }),
        { concurrency: 100 }
      ),
      (listeners) =>
        Effect.async<void>((resume) => {
          for (const socket of open) socket.destroy()
          let pending = listeners.length
          if (pending === 0) return resume(Effect.void)
          for (const listener of listeners) {
            listener.close(() => {
              if (--pending === 0) resume(Effect.void)
            })
          }
        }).pipe(Effect.timeoutTo({ duration: "5 seconds", onSuccess: () => undefined, onTimeout: () => undefined }))
    )
    const ports = listeners.map((listener) => (listener.address() as net.AddressInfo).port)
    const waitUntil = (condition: () => boolean, what: string) => watch.until(condition, what)
    return {
      ports,
      origins: ports.map((port) => `http://127.0.0.1:${port}`),
      socketsOpened: () => opened,
      openSockets: () => open.size,
      liveSockets: () => live.size,
      maxLive: () => maxLive,
      seen,
      answerHeld: () => {
        const res = held.shift()
        res?.writeHead(200, { "Content-Length": 4 })
        res?.end("held")
      },
      waitUntil,
      waitForOpenSockets: (count) => waitUntil(() => open.size === count, `the server has ${count} open sockets`)
    }
  })

/**
 * `count` origins, one request each, in turn, through a manager with `numPools` 10: never more
 * than 10 pools' sockets open, none after the manager closes.
 */
export const throughNumPools = (count: number) =>
  Effect.gen(function* () {
    const origins = yield* manyPorts(count)
    const scope = yield* Scope.make()
    const manager = yield* PoolManager.make({ numPools: 10 }).pipe(Scope.extend(scope))
    let maxPools = 0
    for (const port of origins.ports) {
      const response = yield* manager.request("GET", `http://127.0.0.1:${port}/`)
      expect(response.status).toBe(200)
      maxPools = Math.max(maxPools, (yield* manager.pools).size)
      // maxsize 1 (the default): one socket per pool, so at most 10 live sockets once the
      // evicted pool's close has reached the server. (At the moment a request arrives, the
      // close of the pool evicted for it may still be on its way: the server can read the new
      // socket's request before the old one's end, so that count may be 11.)
      yield* origins.waitUntil(() => origins.liveSockets() <= 10, "at most 10 live sockets")
    }
    expect(origins.socketsOpened()).toBe(count)
    expect(maxPools).toBe(10)
    // ... and, once the evicted pools' closes reached the server, 10 open.
    yield* origins.waitForOpenSockets(10)
    expect((yield* manager.pools).size).toBe(10)
    yield* Scope.close(scope, Exit.void)
    expect((yield* manager.pools).size).toBe(0)
    yield* origins.waitForOpenSockets(0)
  })

/**
 * `count` origins, one request each, 200 at a time, through a manager capped at 32
 * connections (`maxTotalConnections`): never more than 32 sockets held at the server, every
 * request answered, each origin on a connection of its own (the cap closed idle connections
 * of other pools to make room), every socket closed with the manager's Scope.
 */
export const throughConnectionCap = (count: number) =>
  Effect.gen(function* () {
    const servers = yield* manyPorts(count)
    const scope = yield* Scope.make()
    const manager = yield* PoolManager.make({ maxTotalConnections: 32, numPools: 2 * count }).pipe(Scope.extend(scope))
    const limitGauge = (metric: Metrics.Gauge) => Effect.map(Metric.value(metric), (state) => state.value)
    const statuses = yield* Effect.forEach(
      servers.origins,
      (origin, i) => Effect.map(manager.request("GET", `${origin}/${i}`), (response) => response.status),
      { concurrency: 200 }
    )
    expect(statuses.filter((status) => status === 200)).toHaveLength(count)
    expect(servers.seen).toHaveLength(count)
    expect(servers.maxLive()).toBeLessThanOrEqual(32)
    expect(servers.maxLive()).toBeGreaterThan(1)
    expect(servers.socketsOpened()).toBe(count)
    expect(yield* limitGauge(Metrics.connectionLimitOpen)).toBe(servers.liveSockets())
    expect(yield* limitGauge(Metrics.connectionLimitWaiting)).toBe(0)
    yield* Scope.close(scope, Exit.void)
    yield* servers.waitUntil(() => servers.liveSockets() === 0, "every socket is closed")
    expect(yield* limitGauge(Metrics.connectionLimitOpen)).toBe(0)
  })

/**
 * A Connector that connects every target to `server` (made outside the test's generators, so
 * that the closure holds nothing but the two).
 */
const routedTo = (server: Servers.RawServer, inner: Connector.Service): Connector.Service => ({
  open: (target, events) => inner.open({ ...target, host: server.host, port: server.port }, events)
})

/**
 * Sends one GET to each of `count` distinct origins (`http://o<first + i>.test/`) through a
 * manager with `numPools` 4, then closes it. A Connector routes every connection to the one
 * loopback `server`, so each origin is a pool of its own with real sockets.
 */
const visit = (server: Servers.RawServer, first: number, count: number) =>
  Effect.gen(function* () {
    const routed = routedTo(server, yield* NodeConnector.make())
    const scope = yield* Scope.make()
    const manager = yield* PoolManager.make({ numPools: 4 }).pipe(
      Effect.provideService(Connector.Connector, routed),
      Effect.provide(NodeConnector.layer),
      Scope.extend(scope)
    )
    yield* Effect.forEach(
      Array.from({ length: count }, (_, i) => `http://o${first + i}.test/`),
      (url) => Effect.flatMap(manager.request("GET", url), (response) => Effect.sync(() => response.status)),
      { concurrency: 4, discard: true }
    )
    yield* Scope.close(scope, Exit.void)
  })

/**
 * After a warm-up over more origins than the pool labels metrics keep
 * (`Metrics.DEFAULT_MAX_POOL_LABELS`; 500 when the heap is measured, for code paths and caches
 * too), `count` more origins leave no metric key behind once their manager closed and, with
 * `heap`, under 1 KiB of heap each (a measure that needs thousands of origins).
 */
export const originsLeaveNothing = (count: number, options: { readonly heap: boolean }) =>
  Effect.gen(function* () {
    // Answers every GET with "ok" and records nothing but a count, so that the test's own
    // records do not weigh in the heap.
    let answered = 0
    const server = yield* Servers.raw((socket) => {
      let pending = ""
      socket.setEncoding("latin1")
      socket.on("data", (data: string) => {
        pending += data
        let end = pending.indexOf("\r\n\r\n")
        while (end >= 0) {
          pending = pending.slice(end + 4)
          answered++
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
          end = pending.indexOf("\r\n\r\n")
        }
      })
    })
    const warmUp = options.heap ? 500 : 2 * Metrics.DEFAULT_MAX_POOL_LABELS
    yield* visit(server, 0, warmUp)
    yield* server.waitForOpenSockets(0)
    const keysBefore = Metric.unsafeSnapshot().length
    const heapBefore = options.heap ? heapAfterGc() : 0
    yield* visit(server, 1_000_000, count)
    yield* server.waitForOpenSockets(0)
    const keysAfter = Metric.unsafeSnapshot().length
    expect(answered).toBe(warmUp + count)
    expect(keysAfter - keysBefore).toBe(0)
    if (options.heap) {
      const perOrigin = (heapAfterGc() - heapBefore) / count
      expect(perOrigin, `${Math.round(perOrigin)} bytes retained per origin`).toBeLessThan(1024)
    }
  })
