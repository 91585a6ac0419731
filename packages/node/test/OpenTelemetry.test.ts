/**
 * Spans and metrics of every entry point, exported through @effect/opentelemetry 0.64 to the
 * OpenTelemetry SDK's in-memory exporters, against real loopback servers and a real proxy.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { ConnectionPool, PoolManager, Retry } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  type MetricData,
  MetricReader
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as NodeConnector from "../src/NodeConnector.js"
import * as NodeHttpClient from "../src/NodeHttpClient.js"
import * as Certs from "./utils/certs.js"
import * as Proxy from "./utils/proxy.js"
import * as Servers from "./utils/servers.js"

/** A metric reader the test collects from when it wants. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve()
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
}

/** An SDK with in-memory exporters, its spans and metrics read back by the test. */
const telemetry = () => {
  const spans = new InMemorySpanExporter()
  const reader = new TestReader()
  const layer = NodeSdk.layer(() => ({
    resource: { serviceName: "httpool-test" },
    spanProcessor: new SimpleSpanProcessor(spans),
    metricReader: reader
  }))
  const finished = (): ReadonlyArray<ReadableSpan> => spans.getFinishedSpans()
  const metrics = Effect.promise(() => reader.collect()).pipe(
    Effect.map(({ resourceMetrics }) => resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics))
  )
  return { layer, finished, metrics }
}

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
    Servers.fixed("ok")(req, res, received)
  }
}

const SPAN_KIND_CLIENT = 2
const STATUS_ERROR = 2

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId
const idOf = (span: ReadableSpan): string => span.spanContext().spanId
const eventNames = (span: ReadableSpan): Array<string> => span.events.map((event) => event.name)
const byName = (spans: ReadonlyArray<ReadableSpan>, name: string) => spans.filter((span) => span.name === name)
/** The spans among `spans` whose parent is not one of them. */
const rootsOf = (spans: ReadonlyArray<ReadableSpan>) => {
  const ids = new Set(spans.map(idOf))
  return spans.filter((span) => !ids.has(parentOf(span) ?? ""))
}
const only = <A>(items: ReadonlyArray<A>): A => {
  expect(items).toHaveLength(1)
  return items[0]
}

describe("OpenTelemetry export", () => {
  it.scopedLive(
    "a PoolManager request is one client span under the caller's, named by its method, without credentials",
    () => {
      const otel = telemetry()
      return Effect.gen(function* () {
        const server = yield* Servers.http(scripted())
        const manager = yield* PoolManager.make()
        const url = `http://user:secret@127.0.0.1:${server.port}/ok?sig=abc&page=2#frag`
        const response = yield* manager.request("GET", url).pipe(Effect.withSpan("outer"))
        expect(response.status).toBe(200)

        const spans = otel.finished()
        const outer = only(byName(spans, "outer"))
        const span = only(byName(spans, "GET"))
        expect(span.kind).toBe(SPAN_KIND_CLIENT)
        expect(parentOf(span)).toBe(idOf(outer))
        expect(span.attributes).toMatchObject({
          "http.request.method": "GET",
          "url.full": `http://127.0.0.1:${server.port}/ok?sig=REDACTED&page=2`,
          "url.scheme": "http",
          "server.address": "127.0.0.1",
          "server.port": server.port,
          "http.response.status_code": 200,
          "network.protocol.version": "1.1",
          "httpool.pool": `http://127.0.0.1:${server.port}`,
          "httpool.connection.reused": false
        })
        expect(span.attributes["error.type"]).toBeUndefined()
        expect(eventNames(span)).toEqual(["httpool.connect", "httpool.connection.opened", "http.response.head"])
        expect(JSON.stringify(spans.map((s) => [s.attributes, s.events]))).not.toContain("secret")

        // The second request reuses the connection and says so.
        yield* manager.request("GET", `${server.url}/ok`)
        const second = otel.finished().filter((s) => s.name === "GET")[1]
        expect(eventNames(second)).toEqual(["httpool.connection.reused", "http.response.head"])
        expect(second.attributes["httpool.connection.id"]).toBe(span.attributes["httpool.connection.id"])
      }).pipe(Effect.provide(Layer.merge(NodeConnector.layer, otel.layer)))
    }
  )

  it.scopedLive("a redirect and a retry are events on the call's span and child spans with their resend count", () => {
    const otel = telemetry()
    return Effect.gen(function* () {
      const server = yield* Servers.http(scripted())
      const manager = yield* PoolManager.make({
        connectionPoolKw: { retries: Retry.make({ total: 3, statusForcelist: [503], backoffFactor: 0 }) }
      })
      expect((yield* manager.request("GET", `${server.url}/moved`)).status).toBe(200)
      expect((yield* manager.request("GET", `${server.url}/flaky`)).status).toBe(200)

      const spans = otel.finished()
      const gets = byName(spans, "GET")
      const roots = rootsOf(gets)
      expect(roots).toHaveLength(2)
      const [moved, flaky] = roots
      // The redirect: the call's span holds the whole call, a child span the request to /ok.
      expect(moved.attributes["url.full"]).toBe(`${server.url}/moved`)
      expect(moved.attributes["http.response.status_code"]).toBe(200)
      expect(moved.attributes["http.request.resend_count"]).toBe(1)
      const redirect = only(moved.events.filter((event) => event.name === "http.redirect"))
      expect(redirect.attributes).toMatchObject({ "url.full": `${server.url}/ok`, "http.request.resend_count": 1 })
      const followed = only(gets.filter((span) => parentOf(span) === idOf(moved)))
      expect(followed.kind).toBe(SPAN_KIND_CLIENT)
      expect(followed.attributes).toMatchObject({
        "url.full": `${server.url}/ok`,
        "http.request.resend_count": 1,
        "httpool.resend.reason": "redirect",
        "http.response.status_code": 200,
        "httpool.connection.reused": true
      })
      // The retry after a 503.
      const retry = only(flaky.events.filter((event) => event.name === "http.retry"))
      expect(retry.attributes).toMatchObject({ "httpool.resend.reason": "status", "http.request.resend_count": 1 })
      const retried = only(gets.filter((span) => parentOf(span) === idOf(flaky)))
      expect(retried.attributes).toMatchObject({ "http.request.resend_count": 1, "http.response.status_code": 200 })
      expect(flaky.attributes["http.response.status_code"]).toBe(200)
      expect(flaky.attributes["error.type"]).toBeUndefined()
    }).pipe(Effect.provide(Layer.merge(NodeConnector.layer, otel.layer)))
  })

  it.scopedLive(
    "a failed call ends its span in error with error.type, each failed attempt a child span of its own",
    () => {
      const otel = telemetry()
      return Effect.gen(function* () {
        const port = yield* Servers.closedPort
        const manager = yield* PoolManager.make({
          connectionPoolKw: { retries: Retry.make({ total: 1, backoffFactor: 0 }) }
        })
        const exit = yield* Effect.exit(manager.request("GET", `http://127.0.0.1:${port}/`))
        expect(exit._tag).toBe("Failure")

        const gets = byName(otel.finished(), "GET")
        const call = only(rootsOf(gets))
        expect(call.status.code).toBe(STATUS_ERROR)
        expect(call.attributes["error.type"]).toBe("NewConnectionError")
        expect(eventNames(call)).toContain("http.retry")
        const attempt = only(gets.filter((span) => parentOf(span) === idOf(call)))
        expect(attempt.status.code).toBe(STATUS_ERROR)
        expect(attempt.attributes).toMatchObject({ "error.type": "NewConnectionError", "http.request.resend_count": 1 })
      }).pipe(Effect.provide(Layer.merge(NodeConnector.layer, otel.layer)))
    }
  )

  it.scopedLive("a ConnectionPool's urlopen and a ProxyManager's request have their spans too", () => {
    const otel = telemetry()
    return Effect.gen(function* () {
      const server = yield* Servers.http(scripted())
      const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: server.port })
      expect((yield* pool.urlopen("POST", "/ok", { body: "x" })).status).toBe(200)
      const proxy = yield* Proxy.start()
      const viaProxy = yield* Proxy.withManager(proxy.url, {}, (manager) => manager.request("GET", `${server.url}/ok`))
      expect(viaProxy.status).toBe(200)
      expect(proxy.seen).toEqual([`GET ${server.url}/ok`])

      const spans = otel.finished()
      const post = only(byName(spans, "POST"))
      expect(post.attributes).toMatchObject({
        "http.request.method": "POST",
        "url.full": `${server.url}/ok`,
        "server.port": server.port,
        "http.response.status_code": 200
      })
      const get = only(byName(spans, "GET"))
      // The server the request is for, not the proxy that carried it.
      expect(get.attributes).toMatchObject({ "server.address": "127.0.0.1", "server.port": server.port })
      expect(get.attributes["httpool.pool"]).toBe(proxy.url)
    }).pipe(Effect.provide(Layer.merge(NodeConnector.layer, otel.layer)))
  })

  it.scopedLive(
    "through the HttpClient layer there is one http.client span, @effect/platform's, with httpool's events",
    () => {
      const otel = telemetry()
      return Effect.gen(function* () {
        const server = yield* Servers.http(scripted())
        const client = yield* HttpClient.HttpClient
        const response = yield* client.get(`${server.url}/moved`)
        expect(response.status).toBe(200)

        const spans = otel.finished()
        const span = only(spans.filter((s) => s.name.startsWith("http.client")))
        expect(spans.filter((s) => s.name === "GET" && parentOf(s) !== idOf(span))).toEqual([])
        expect(eventNames(span)).toContain("http.redirect")
        const followed = only(spans.filter((s) => parentOf(s) === idOf(span)))
        expect(followed.attributes).toMatchObject({ "url.full": `${server.url}/ok`, "http.request.resend_count": 1 })
      }).pipe(Effect.provide(Layer.merge(NodeHttpClient.layer(), otel.layer)))
    }
  )

  it.scopedLive("with tracing disabled no span is made", () => {
    const otel = telemetry()
    return Effect.gen(function* () {
      const server = yield* Servers.http(scripted())
      const manager = yield* PoolManager.make()
      expect((yield* manager.request("GET", `${server.url}/ok`).pipe(Effect.withTracerEnabled(false))).status).toBe(200)
      expect(otel.finished()).toEqual([])
    }).pipe(Effect.provide(Layer.merge(NodeConnector.layer, otel.layer)))
  })

  it.scopedLive(
    "metrics under OpenTelemetry's names: request duration in seconds with its buckets, open connections by state",
    () => {
      const otel = telemetry()
      return Effect.gen(function* () {
        const server = yield* Servers.http(scripted())
        const manager = yield* PoolManager.make({
          connectionPoolKw: { retries: Retry.make({ total: 3, statusForcelist: [503], backoffFactor: 0 }) }
        })
        for (let i = 0; i < 3; i++) yield* manager.request("GET", `${server.url}/ok`)
        yield* manager.request("PUT", `${server.url}/flaky`, { body: "x" })
        yield* manager.request("PURGE", `${server.url}/ok`)

        const metrics: ReadonlyArray<MetricData> = yield* otel.metrics
        const metric = (name: string) => only(metrics.filter((m) => m.descriptor.name === name))
        const server_ = { "server.address": "127.0.0.1", "server.port": String(server.port), "url.scheme": "http" }

        const duration = metric("http.client.request.duration")
        expect(duration.descriptor.unit).toBe("s")
        const points = (duration.dataPoints as Array<DataPoint<Histogram>>).filter(
          (point) => point.attributes["server.port"] === String(server.port)
        )
        const point = (method: string, status: string) =>
          only(
            points.filter(
              (p) =>
                p.attributes["http.request.method"] === method && p.attributes["http.response.status_code"] === status
            )
          )
        const gets = point("GET", "200")
        expect(gets.attributes).toMatchObject({ ...server_, "network.protocol.version": "1.1" })
        expect(gets.value.count).toBe(3)
        expect(gets.value.buckets.boundaries).toEqual([
          0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10
        ])
        expect(gets.value.sum).toBeGreaterThan(0)
        // One call, one duration, whatever its retries; an unknown method is _OTHER.
        expect(point("PUT", "200").value.count).toBe(1)
        expect(point("_OTHER", "200").value.count).toBe(1)
        expect(points).toHaveLength(3)

        const open = metric("http.client.open_connections")
        const state = (name: string) =>
          only(
            open.dataPoints.filter(
              (p) =>
                p.attributes["server.port"] === String(server.port) && p.attributes["http.connection.state"] === name
            )
          ).value
        expect(state("idle")).toBe(1)
        expect(state("active")).toBe(0)

        // httpool's own metrics beside them.
        const ours = metric("httpool_requests_total")
        const ok = only(
          ours.dataPoints.filter((p) => p.attributes.pool === server.url && p.attributes.status_class === "2xx")
        )
        expect(ok.value).toBe(5)
      }).pipe(Effect.provide(Layer.merge(NodeConnector.layer, otel.layer)))
    }
  )

  it.scopedLive("a failed call's duration is labelled by the error's type", () => {
    const otel = telemetry()
    return Effect.gen(function* () {
      const port = yield* Servers.closedPort
      // Metrics are kept per process: an earlier test may have used the same port number, so
      // the call is found by what it adds to its data point.
      const failedAt = Effect.map(otel.metrics, (metrics) =>
        metrics
          .filter((m) => m.descriptor.name === "http.client.request.duration")
          .flatMap((m) => m.dataPoints as Array<DataPoint<Histogram>>)
          .find(
            (p) => p.attributes["server.port"] === String(port) && p.attributes["error.type"] === "NewConnectionError"
          )
      )
      const before = (yield* failedAt)?.value.count ?? 0
      const manager = yield* PoolManager.make({
        connectionPoolKw: { retries: Retry.make({ total: 1, backoffFactor: 0 }) }
      })
      // Fails with a MaxRetryError whose reason is a NewConnectionError: the reason is the type.
      const exit = yield* Effect.exit(manager.request("GET", `http://127.0.0.1:${port}/`))
      expect(exit._tag === "Failure" && Cause.failureOption(exit.cause).pipe(Option.map((e) => e._tag))).toEqual(
        Option.some("MaxRetryError")
      )
      const point = yield* failedAt
      expect(point?.value.count).toBe(before + 1)
      expect(point?.attributes).toMatchObject({ "error.type": "NewConnectionError", "http.request.method": "GET" })
      expect(point?.attributes["http.response.status_code"]).toBeUndefined()
    }).pipe(Effect.provide(Layer.merge(NodeConnector.layer, otel.layer)))
  })

  it.scopedLive(
    "a new https connection gives its request connect and TLS events; its lifetime is http.client.connection.duration",
    () => {
      const otel = telemetry()
      return Effect.gen(function* () {
        const certs = yield* Certs.certs
        const server = yield* Servers.https(Servers.fixed("secure"))
        const scope = yield* Scope.make()
        const pool = yield* ConnectionPool.make({
          scheme: "https",
          host: "127.0.0.1",
          port: server.port,
          caCerts: certs.ca.certPath
        }).pipe(Scope.extend(scope))
        expect((yield* pool.request("GET", "/")).text).toBe("secure")
        expect((yield* pool.request("GET", "/")).text).toBe("secure")

        const [first, second] = byName(otel.finished(), "GET")
        expect(eventNames(first)).toEqual([
          "httpool.connect",
          "httpool.tls",
          "httpool.connection.opened",
          "http.response.head"
        ])
        const connect = first.events[0]
        const tls = first.events[1]
        expect(connect.attributes?.["network.peer.address"]).toBe("127.0.0.1")
        expect(typeof connect.attributes?.["httpool.connect.duration_ms"]).toBe("number")
        expect(typeof tls.attributes?.["httpool.tls.duration_ms"]).toBe("number")
        // A reused connection was not dialed for its request.
        expect(eventNames(second)).toEqual(["httpool.connection.reused", "http.response.head"])

        const label = { "server.address": "127.0.0.1", "server.port": String(server.port), "url.scheme": "https" }
        // Effect's metrics are the process's: a connection of an earlier test to a server that
        // had this port (and scheme) counts in the same point, so this connection is the
        // difference it makes.
        const durations = (metrics: ReadonlyArray<MetricData>) =>
          metrics
            .filter((m) => m.descriptor.name === "http.client.connection.duration")
            .flatMap((m) => m.dataPoints as Array<DataPoint<Histogram>>)
            .filter(
              (p) => p.attributes["server.port"] === label["server.port"] && p.attributes["url.scheme"] === "https"
            )
        const countOf = (points: ReadonlyArray<DataPoint<Histogram>>) =>
          points.reduce((count, point) => count + point.value.count, 0)
        const before = countOf(durations(yield* otel.metrics))
        // Closing the pool closes its socket: one connection, one duration.
        yield* Scope.close(scope, Exit.void)
        // The socket's close event comes a moment later: read until the point has it (bounded).
        const points = yield* otel.metrics.pipe(
          Effect.map(durations),
          Effect.delay("20 millis"),
          Effect.repeat({ until: (points) => countOf(points) > before, times: 100 })
        )
        expect(points).toHaveLength(1)
        expect(points[0].attributes).toMatchObject({ ...label, unit: "s" })
        expect(countOf(points) - before).toBe(1)
      }).pipe(Effect.provide(Layer.merge(NodeConnector.layer, otel.layer)))
    }
  )

  it.scopedLive("a request that waited for a blocking pool's connection has a pool wait event", () => {
    const otel = telemetry()
    return Effect.gen(function* () {
      const server = yield* Servers.http(Servers.slowHeaders(100, "late"))
      const manager = yield* PoolManager.make({ connectionPoolKw: { maxsize: 1, block: true } })
      const get = manager.request("GET", server.url)
      yield* Effect.all([get, get], { concurrency: 2 })

      const spans = byName(otel.finished(), "GET")
      expect(spans).toHaveLength(2)
      const waited = only(spans.filter((span) => eventNames(span).includes("httpool.pool.wait")))
      const wait = only(waited.events.filter((event) => event.name === "httpool.pool.wait"))
      expect(wait.attributes?.["httpool.pool"]).toBe(server.url)
      expect(wait.attributes?.["httpool.pool.wait_ms"]).toBeGreaterThan(0)
      expect(eventNames(waited)).toContain("httpool.connection.reused")
    }).pipe(Effect.provide(Layer.merge(NodeConnector.layer, otel.layer)))
  })
})
