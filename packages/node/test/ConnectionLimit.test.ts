import { Metrics, PoolManager, ProxyManager } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Scope from "effect/Scope"
import * as NodeConnector from "../src/NodeConnector.js"
import * as Certs from "./utils/certs.js"
import * as Fibers from "./utils/fibers.js"
import * as Origins from "./utils/origins.js"
import * as Proxy from "./utils/proxy.js"
import * as Servers from "./utils/servers.js"

const gauge = (metric: Metrics.Gauge) => Effect.map(Metric.value(metric), (state) => state.value)

/**
 * Waits, on no clock, until `fiber` is blocked (a request waiting for a place under the cap:
 * it has nothing else to wait for), then checks that `n` requests wait.
 */
const waitingFor = (fiber: Fiber.RuntimeFiber<unknown, unknown>, n: number) =>
  Effect.gen(function* () {
    yield* Fibers.untilBlocked(fiber)
    expect(yield* gauge(Metrics.connectionLimitWaiting), `requests waiting for a place`).toBe(n)
  })

/** A manager in a Scope of its own, so that a test can close it and look at the servers after. */
const managerIn = (scope: Scope.Scope, options: PoolManager.Options) =>
  PoolManager.make(options).pipe(Scope.extend(scope), Effect.provide(NodeConnector.layer))

describe("maxTotalConnections", () => {
  // The same with 2,000 origins runs in the stress project (Scale.test.ts).
  it.scopedLive(
    "200 origins through a cap of 32: never more than 32 sockets open, every request answered, all closed with the Scope",
    () => Origins.throughConnectionCap(200).pipe(Effect.provide(NodeConnector.layer))
  )

  it.scopedLive("requests of different pools waiting for a place are served first come, first served", () =>
    Effect.gen(function* () {
      const servers = yield* Origins.manyPorts(4)
      const [a, b, c, d] = servers.origins
      const manager = yield* managerIn(yield* Effect.scope, { maxTotalConnections: 1 })
      const holding = yield* Effect.fork(manager.request("GET", `${a}/hold`))
      yield* servers.waitUntil(() => servers.seen.length === 1, "the held request arrived")
      const waiting: Array<Fiber.RuntimeFiber<unknown, unknown>> = []
      for (const [i, origin] of [d, b, c, a].entries()) {
        const fiber = yield* Effect.fork(manager.request("GET", `${origin}/${"dbca"[i]}`))
        waiting.push(fiber)
        yield* waitingFor(fiber, i + 1)
      }
      servers.answerHeld()
      yield* Fiber.join(holding)
      for (const fiber of waiting) yield* Fiber.join(fiber)
      expect(servers.seen).toEqual(["/hold", "/d", "/b", "/c", "/a"])
      expect(servers.maxLive()).toBe(1)
    })
  )

  it.scopedLive("requests of one origin waiting for a place reuse its connections instead of opening new ones", () =>
    Effect.gen(function* () {
      const servers = yield* Origins.manyPorts(1)
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
      expect(servers.socketsOpened()).toBe(2)
      expect(servers.maxLive()).toBe(2)
    })
  )

  it.scopedLive("a request that gets no place within its poolTimeout fails with EmptyPoolError", () =>
    Effect.gen(function* () {
      const servers = yield* Origins.manyPorts(2)
      const [a, b] = servers.origins
      const manager = yield* managerIn(yield* Effect.scope, { maxTotalConnections: 1 })
      const holding = yield* Effect.fork(manager.request("GET", `${a}/hold`))
      yield* servers.waitUntil(() => servers.seen.length === 1, "the held request arrived")
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
      const servers = yield* Origins.manyPorts(3)
      const [a, b, c] = servers.origins
      const manager = yield* managerIn(yield* Effect.scope, { maxTotalConnections: 2 })
      yield* manager.request("GET", `${a}/1`)
      yield* manager.request("GET", `${b}/1`)
      expect(servers.liveSockets()).toBe(2)
      // a's connection is the least recently used: c takes its place.
      yield* manager.request("GET", `${c}/1`)
      expect(servers.maxLive()).toBe(2)
      yield* manager.request("GET", `${b}/2`)
      expect(servers.socketsOpened()).toBe(3)
      const aPool = yield* manager.connectionFromUrl(a)
      expect((yield* aPool.stats).idle).toBe(0)
      expect(yield* gauge(Metrics.connectionLimitOpen)).toBe(2)
    })
  )

  it.scopedLive("interrupting a waiting request removes it from the queue and frees nothing it did not hold", () =>
    Effect.gen(function* () {
      const servers = yield* Origins.manyPorts(3)
      const [a, b, c] = servers.origins
      const manager = yield* managerIn(yield* Effect.scope, { maxTotalConnections: 1 })
      const holding = yield* Effect.fork(manager.request("GET", `${a}/hold`))
      yield* servers.waitUntil(() => servers.seen.length === 1, "the held request arrived")
      const interrupted = yield* Effect.fork(manager.request("GET", `${b}/never`))
      yield* waitingFor(interrupted, 1)
      const next = yield* Effect.fork(manager.request("GET", `${c}/next`))
      yield* waitingFor(next, 2)
      yield* Fiber.interrupt(interrupted)
      expect(yield* gauge(Metrics.connectionLimitWaiting)).toBe(1)
      // The cap is still held by the first request: nothing was given back by the interruption.
      expect(yield* gauge(Metrics.connectionLimitOpen)).toBe(1)
      expect(servers.seen).toEqual(["/hold"])
      servers.answerHeld()
      yield* Fiber.join(holding)
      yield* Fiber.join(next)
      expect(servers.seen).toEqual(["/hold", "/next"])
      expect(servers.maxLive()).toBe(1)
      const bPool = yield* manager.connectionFromUrl(b)
      expect(yield* bPool.stats).toMatchObject({ inUse: 0, numConnections: 0 })
    })
  )

  it.scopedLive("a ProxyManager's tunnels share the cap", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const origins = yield* Effect.forEach(Array.from({ length: 6 }), () => Servers.https(Servers.echo))
      // A real CONNECT proxy, counting the sockets its clients keep open.
      const proxy = yield* Proxy.start()
      const scope = yield* Scope.make()
      const manager = yield* ProxyManager.make(proxy.url, {
        maxTotalConnections: 2,
        connectionPoolKw: { caCerts: certs.ca.certPath }
      }).pipe(Scope.extend(scope), Effect.provide(NodeConnector.layer))
      const get = (origin: Servers.TestServer, i: number) =>
        Effect.map(manager.request("GET", `https://localhost:${origin.port}/${i}`), (r) => r.status)
      // One request at a time: each new tunnel takes the place of the least recently used one,
      // closed first, so the proxy never holds more than 2 of its clients' sockets.
      const sequential = yield* Effect.forEach([...origins, ...origins], get)
      expect(sequential).toEqual(Array.from({ length: 12 }, () => 200))
      expect(proxy.maxOpenClients()).toBe(2)
      // Six at once through two tunnels: they wait their turn and all complete. (Several
      // tunnels replaced in one turn of the event loop can reach this same-process proxy's
      // accept before the end of the ones closed for them, so its count is read above only.)
      const concurrent = yield* Effect.forEach([...origins, ...origins], get, { concurrency: 6 })
      expect(concurrent).toEqual(Array.from({ length: 12 }, () => 200))
      expect(yield* gauge(Metrics.connectionLimitOpen)).toBe(2)
      yield* Scope.close(scope, Exit.void)
      yield* proxy.waitUntil(() => proxy.openClients() === 0, "every tunnel is closed")
    })
  )
})
