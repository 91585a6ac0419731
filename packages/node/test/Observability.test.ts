import * as HttpClient from "@effect/platform/HttpClient"
import { Metrics, PoolManager, Retry } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import * as Exit from "effect/Exit"
import * as NodeConnector from "../src/NodeConnector.js"
import * as NodeHttpClient from "../src/NodeHttpClient.js"
import * as Servers from "./utils/servers.js"

const labelOf = (server: Servers.TestServer) => `http://127.0.0.1:${server.port}`

/** The value of a per-pool counter, with `extra` labels. */
const count = (metric: Metrics.Counter, pool: string, extra: Record<string, string> = {}) =>
  Effect.map(
    Metric.value(
      Metric.taggedWithLabels(metric, [
        MetricLabel.make("pool", pool),
        ...Object.entries(extra).map(([k, v]) => MetricLabel.make(k, v))
      ])
    ),
    (state) => state.count
  )

const gauge = (metric: Metrics.Gauge, pool: string) =>
  Effect.map(Metric.value(Metric.tagged(metric, "pool", pool)), (state) => state.value)

/** Answers /flaky with 503 once then 200, /moved with a 302 to /ok, anything else 200 "ok". */
const scripted = (): Servers.Handler => {
  let flaky = 0
  return (req, res, received) => {
    if (received.url === "/flaky" && flaky++ === 0) {
      res.writeHead(503, { "Content-Length": 4 })
      res.end("busy")
      return
    }
    if (received.url === "/moved") {
      res.writeHead(302, { Location: "/ok", "Content-Length": 0 })
      res.end()
      return
    }
    if (received.url === "/big") {
      res.writeHead(200, { "Content-Length": 1_000_000 })
      res.end(Buffer.alloc(1_000_000))
      return
    }
    Servers.fixed("ok")(req, res, received)
  }
}

/** A tracer that records every span it starts. */
const collectingTracer = Effect.map(Effect.tracer, (base) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = base.span(name, parent, context, links, startTime, kind, options)
      spans.push(span)
      return span
    },
    context: (f, fiber) => base.context(f, fiber)
  })
  return { spans, tracer } as const
})

describe("Metrics", () => {
  it.scopedLive("a scripted workload reads back as exact counts per pool", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(scripted())
      const pool = labelOf(server)
      const manager = yield* PoolManager.make({
        connectionPoolKw: { maxsize: 2, retries: Retry.make({ total: 3, statusForcelist: [503], backoffFactor: 0 }) }
      }).pipe(Effect.provide(NodeConnector.layer))
      // A streamed body left unread: its connection is discarded when the scope closes.
      yield* Effect.scoped(manager.request("GET", `${server.url}/big`, { preloadContent: false }))
      for (let i = 0; i < 3; i++) expect((yield* manager.request("GET", `${server.url}/ok`)).status).toBe(200)
      expect((yield* manager.request("GET", `${server.url}/flaky`)).status).toBe(200)
      expect((yield* manager.request("GET", `${server.url}/moved`)).status).toBe(200)

      expect(yield* count(Metrics.requests, pool, { status_class: "2xx" })).toBe(6)
      expect(yield* count(Metrics.requests, pool, { status_class: "5xx" })).toBe(1)
      expect(yield* count(Metrics.requests, pool, { status_class: "3xx" })).toBe(1)
      expect(yield* count(Metrics.retries, pool, { reason: "status" })).toBe(1)
      expect(yield* count(Metrics.retries, pool, { reason: "redirect" })).toBe(1)
      expect(yield* count(Metrics.connectionsDiscarded, pool, { reason: "error" })).toBe(1)
      expect(yield* count(Metrics.connectionsOpened, pool)).toBe(server.socketsOpened())
      expect(server.socketsOpened()).toBe(2)
      const stats = yield* Effect.scoped(Effect.flatMap(manager.connectionFromUrl(`${server.url}/`), (p) => p.stats))
      expect(yield* gauge(Metrics.connectionsIdle, pool)).toBe(stats.idle)
      expect(yield* gauge(Metrics.connectionsInUse, pool)).toBe(0)
      expect(yield* gauge(Metrics.connectionsOpen, pool)).toBe(stats.idle)
      expect(stats.idle).toBe(1)
    })
  )

  it.scopedLive("failed requests count by error tag; connections of a closed pool are discarded as closed", () =>
    Effect.gen(function* () {
      const port = yield* Servers.closedPort
      const server = yield* Servers.http(Servers.fixed("ok"))
      const scope = yield* Scope.make()
      const manager = yield* PoolManager.make().pipe(Effect.provide(NodeConnector.layer), Scope.extend(scope))
      const error = yield* Effect.flip(manager.request("GET", `http://127.0.0.1:${port}/`, { retries: 1 }))
      expect(error._tag).toBe("MaxRetryError")
      const refused = `http://127.0.0.1:${port}`
      expect(yield* count(Metrics.requestErrors, refused, { error: "MaxRetryError" })).toBe(1)
      expect(yield* count(Metrics.retries, refused, { reason: "NewConnectionError" })).toBe(1)
      yield* manager.request("GET", server.url)
      expect(yield* gauge(Metrics.connectionsIdle, labelOf(server))).toBe(1)
      yield* Scope.close(scope, Exit.void)
      expect(yield* count(Metrics.connectionsDiscarded, labelOf(server), { reason: "closed" })).toBe(1)
      expect(yield* gauge(Metrics.connectionsOpen, labelOf(server))).toBe(0)
    })
  )

  it.scopedLive("the pools gauge follows the pools managers hold", () =>
    Effect.gen(function* () {
      const a = yield* Servers.http(Servers.fixed("a"))
      const b = yield* Servers.http(Servers.fixed("b"))
      const before = (yield* Metric.value(Metrics.pools)).value
      const scope = yield* Scope.make()
      const manager = yield* PoolManager.make({ numPools: 1 }).pipe(
        Effect.provide(NodeConnector.layer),
        Scope.extend(scope)
      )
      yield* manager.request("GET", a.url)
      expect((yield* Metric.value(Metrics.pools)).value).toBe(before + 1)
      // numPools 1: the pool of b evicts the pool of a.
      yield* manager.request("GET", b.url)
      expect((yield* Metric.value(Metrics.pools)).value).toBe(before + 1)
      yield* Scope.close(scope, Exit.void)
      expect((yield* Metric.value(Metrics.pools)).value).toBe(before)
    })
  )

  it.scopedLive("the wait histogram records the time a request waited for a blocking pool", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.slowHeaders(100, "late"))
      const pool = labelOf(server)
      const manager = yield* PoolManager.make({ connectionPoolKw: { maxsize: 1, block: true } }).pipe(
        Effect.provide(NodeConnector.layer)
      )
      const get = manager.request("GET", server.url)
      yield* Effect.all([get, get], { concurrency: 2 })
      const waits = yield* Metric.value(Metric.tagged(Metrics.poolWait, "pool", pool))
      expect(waits.count).toBe(2)
      expect(waits.min).toBe(0)
      expect(waits.max).toBeGreaterThan(0)
    })
  )
})

describe("tracing", () => {
  it.scopedLive("the http.client span names the pool, the connection, whether it was reused and the wait", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.echo)
      const { spans, tracer } = yield* collectingTracer
      yield* Effect.gen(function* () {
        const client = yield* HttpClient.HttpClient
        yield* Effect.flatMap(client.get(`${server.url}/one`), (r) => r.text)
        yield* Effect.flatMap(client.get(`${server.url}/two`), (r) => r.text)
      }).pipe(Effect.provide(NodeHttpClient.layer()), Effect.withTracer(tracer))
      const [first, second] = spans
        .filter((s) => s.name === "http.client GET")
        .map((s) => Object.fromEntries(s.attributes))
      expect(first).toMatchObject({
        "httpool.pool": labelOf(server),
        "httpool.connection.reused": false,
        "httpool.pool.wait_ms": 0
      })
      expect(second).toMatchObject({
        "httpool.pool": labelOf(server),
        "httpool.connection.reused": true,
        "httpool.connection.id": first["httpool.connection.id"]
      })
      expect(first).not.toHaveProperty("httpool.redirects")
    })
  )

  it.scopedLive("url.full carries no credentials; the request still authenticates", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.echo)
      const { spans, tracer } = yield* collectingTracer
      const body = yield* Effect.gen(function* () {
        const client = yield* HttpClient.HttpClient
        return yield* Effect.flatMap(client.get(`http://user:secret@127.0.0.1:${server.port}/private`), (r) => r.json)
      }).pipe(Effect.provide(NodeHttpClient.layer()), Effect.withTracer(tracer))
      const span = spans.find((s) => s.name === "http.client GET")
      const attributes = Object.fromEntries(span!.attributes)
      expect(attributes["url.full"]).toBe(`http://127.0.0.1:${server.port}/private`)
      expect(JSON.stringify(attributes)).not.toContain("secret")
      expect(body).toBeDefined()
    })
  )
})
