/**
 * Connection lifecycle under hostile peers (issue 14): a silent peer never hangs a request
 * whose pool has a connect timeout, a blocking pool serves its waiters first come first
 * served, per-pool metrics stay bounded over thousands of origins.
 */
import { ConnectionPool, type Errors, Metrics, PoolManager } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as NodeConnector from "../src/NodeConnector.js"
import * as Proxy from "./utils/proxy.js"
import * as Fibers from "./utils/fibers.js"
import * as Origins from "./utils/origins.js"
import * as Servers from "./utils/servers.js"

const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, NodeConnector.layer)

const { within } = Fibers

describe("timeouts merge over the pool's", () => {
  it.scopedLive("a request timeout without connect keeps the pool's connect timeout (a silent TLS peer)", () =>
    provide(
      Effect.gen(function* () {
        // Accepts TCP and never answers the TLS handshake.
        const silent = yield* Servers.raw()
        const pool = yield* ConnectionPool.make({
          scheme: "https",
          host: "127.0.0.1",
          port: silent.port,
          timeout: { connect: 0.3 }
        })
        const readOnly = yield* within(
          5,
          Effect.flip(pool.request("GET", "/", { retries: false, timeout: { read: 0.3 } }))
        )
        expect(readOnly._tag).toBe("ConnectTimeoutError")
        expect(readOnly.message).toContain("connect timeout=0.3")
        const total = yield* within(
          5,
          Effect.flip(pool.request("GET", "/", { retries: false, timeout: { total: 60 } }))
        )
        expect(total._tag).toBe("ConnectTimeoutError")
        // A number sets connect (and read) itself.
        const number = yield* within(5, Effect.flip(pool.request("GET", "/", { retries: false, timeout: 0.2 })))
        expect(number.message).toContain("connect timeout=0.2")
        yield* silent.waitForOpenSockets(0)
      })
    )
  )

  it.scopedLive("a request timeout without connect keeps the pool's connect timeout (a proxy silent on CONNECT)", () =>
    Effect.gen(function* () {
      // Accepts the CONNECT's TCP connection and never answers it.
      const mute = yield* Servers.raw()
      yield* Proxy.withManager(
        `http://127.0.0.1:${mute.port}`,
        { connectionPoolKw: { timeout: { connect: 0.3 } } },
        (manager) =>
          Effect.gen(function* () {
            const error = yield* within(
              5,
              Effect.flip(manager.request("GET", "https://localhost:1/", { retries: false, timeout: { read: 0.3 } }))
            )
            expect(error._tag).toBe("ProxyError")
            const proxyError = error as Errors.ProxyError
            expect(proxyError.error?._tag).toBe("ConnectTimeoutError")
            expect(proxyError.message).toBe("Unable to connect to proxy: no tunnel within 300 ms")
          })
      )
      yield* mute.waitForOpenSockets(0)
    })
  )

  it.scopedLive("timeout: null still lifts every limit, the pool's included", () =>
    provide(
      Effect.gen(function* () {
        const silent = yield* Servers.raw()
        const pool = yield* ConnectionPool.make({
          scheme: "https",
          host: "127.0.0.1",
          port: silent.port,
          timeout: { connect: 0.2 }
        })
        const fiber = yield* Effect.fork(pool.request("GET", "/", { retries: false, timeout: null }))
        yield* Effect.sleep("1 second")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* Fiber.interrupt(fiber)
        yield* silent.waitForOpenSockets(0)
      })
    )
  )
})

describe("a blocking pool serves its waiters first come, first served", () => {
  it.scopedLive(
    "a request arriving while two fibers loop on a block: true, maxsize: 1 pool waits for at most their two",
    () =>
      provide(
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.fixed("ok"))
          const pool = yield* ConnectionPool.make({ host: server.host, port: server.port, maxsize: 1, block: true })
          let served = 0
          let stop = false
          // Completed once the loopers have gone round a few times: the waiter arrives among them.
          const looping = yield* Deferred.make<void>()
          const loop = Effect.gen(function* () {
            while (!stop && served < 5_000) {
              yield* pool.request("GET", "/loop")
              served++
              if (served === 20) yield* Deferred.succeed(looping, undefined)
            }
          })
          const loopers = yield* Effect.forkAll([loop, loop])
          yield* Deferred.await(looping)
          const before = served
          const response = yield* pool.request("GET", "/waiter", { poolTimeout: 5 })
          const ahead = served - before
          stop = true
          yield* Fiber.join(loopers)
          expect(response.text).toBe("ok")
          // The looper holding the connection and the one already waiting go first, nobody else.
          expect(ahead).toBeLessThanOrEqual(2)
          expect(server.socketsOpened()).toBe(1)
        })
      )
  )
})

describe("nothing is kept per origin", () => {
  // The same with 3,000 origins, and the heap they leave, runs in the stress project
  // (Scale.test.ts).
  it.scopedLive("200 origins keep no metric keys after their manager closed", () =>
    Origins.originsLeaveNothing(200, { heap: false })
  )

  it.scopedLive('past the limit of distinct pool labels, pools are counted together under pool="other"', () =>
    Effect.gen(function* () {
      const first = yield* Servers.http(Servers.fixed("ok"))
      const second = yield* Servers.http(Servers.fixed("ok"))
      const third = yield* Servers.http(Servers.fixed("ok"))
      const requests = (pool: string) =>
        Effect.map(
          Metric.value(
            Metric.taggedWithLabels(Metrics.requests, [
              MetricLabel.make("pool", pool),
              MetricLabel.make("status_class", "2xx")
            ])
          ),
          (state) => state.count
        )
      const idle = (pool: string) =>
        Effect.map(Metric.value(Metric.tagged(Metrics.connectionsIdle, "pool", pool)), (state) => state.value)
      expect(yield* Metrics.maxPoolLabels).toBe(Metrics.DEFAULT_MAX_POOL_LABELS)
      yield* Effect.addFinalizer(() => Metrics.setMaxPoolLabels(Metrics.DEFAULT_MAX_POOL_LABELS))
      const manager = yield* PoolManager.make().pipe(Effect.provide(NodeConnector.layer))
      // Labels for every pool: the first server's pool has a series of its own.
      yield* Metrics.setMaxPoolLabels(Infinity)
      yield* manager.request("GET", `${first.url}/`)
      // No new labels: the next pools are counted under "other", and their gauges add up.
      yield* Metrics.setMaxPoolLabels(0)
      const otherBefore = yield* requests(Metrics.OTHER_POOLS)
      const idleBefore = yield* idle(Metrics.OTHER_POOLS)
      yield* manager.request("GET", `${second.url}/`)
      yield* manager.request("GET", `${third.url}/`)
      yield* manager.request("GET", `${first.url}/`)
      expect(yield* requests(`http://127.0.0.1:${first.port}`)).toBe(2)
      expect(yield* requests(Metrics.OTHER_POOLS)).toBe(otherBefore + 2)
      expect(yield* idle(Metrics.OTHER_POOLS)).toBe(idleBefore + 2)
      const labels = new Set(
        Metric.unsafeSnapshot()
          .flatMap((pair) => pair.metricKey.tags.filter((tag) => tag.key === "pool"))
          .map((tag) => tag.value)
      )
      expect(labels.has(`http://127.0.0.1:${second.port}`)).toBe(false)
      expect(labels.has(`http://127.0.0.1:${third.port}`)).toBe(false)
    })
  )
})
