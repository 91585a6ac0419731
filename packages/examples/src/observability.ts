/**
 * Observability (`node packages/examples/dist/observability.js` after `npm run build`): an
 * @effect/platform program over httpool's `NodeHttpClient.layer`, run with a tracer that
 * prints the `http.client` spans, then httpool's metrics read back for the pool it used.
 * The origin is a server on 127.0.0.1 that answers /flaky with a 503 once.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as HttpClient from "@effect/platform/HttpClient"
import { Metrics, Retry } from "@httpool/core"
import { NodeHttpClient } from "@httpool/node"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Tracer from "effect/Tracer"

/** What the example reports: each span's name and attributes, and the metrics of the pool. */
export interface Report {
  readonly spans: ReadonlyArray<{ readonly name: string; readonly attributes: Record<string, unknown> }>
  readonly metrics: Record<string, number>
}

/** A local origin: /flaky answers 503 the first time, everything else 200 "ok". */
const origin = Effect.acquireRelease(
  Effect.async<http.Server>((resume) => {
    let flaky = 0
    const server = http.createServer((req, res) => {
      req.resume()
      req.on("end", () => {
        const status = req.url === "/flaky" && flaky++ === 0 ? 503 : 200
        res.writeHead(status, { "Content-Length": 2 })
        res.end("ok")
      })
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) => Effect.sync(() => server.close())
)

/** A tracer that keeps every span it starts (Effect's own tracer underneath). */
const keeping = Effect.map(Effect.tracer, (base) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = base.span(...args)
      spans.push(span)
      return span
    },
    context: (f, fiber) => base.context(f, fiber)
  })
  return { spans, tracer } as const
})

/** Runs the program and reports the spans and metrics it produced; `log` prints as it goes. */
export const observability = (log: (line: string) => void) =>
  Effect.gen(function* () {
    const server = yield* origin
    const { port } = server.address() as AddressInfo
    const base = `http://127.0.0.1:${port}`
    const { spans, tracer } = yield* keeping

    // The program: written against @effect/platform's HttpClient, nothing of httpool in it.
    const program = Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      for (const path of ["/a", "/b", "/flaky"]) {
        const response = yield* client.get(`${base}${path}`)
        log(`GET ${path} -> ${response.status} ${yield* response.text}`)
      }
    })
    yield* program.pipe(
      Effect.provide(
        NodeHttpClient.layer({ retries: Retry.make({ total: 2, statusForcelist: [503], backoffFactor: 0 }) })
      ),
      Effect.withTracer(tracer)
    )

    const report: Report = {
      spans: spans
        .filter((span) => span.name.startsWith("http.client"))
        .map((span) => ({ name: span.name, attributes: Object.fromEntries(span.attributes) })),
      metrics: {
        requests_2xx: (yield* Metric.value(
          Metric.tagged(Metric.tagged(Metrics.requests, "pool", base), "status_class", "2xx")
        )).count,
        requests_5xx: (yield* Metric.value(
          Metric.tagged(Metric.tagged(Metrics.requests, "pool", base), "status_class", "5xx")
        )).count,
        retries_status: (yield* Metric.value(
          Metric.tagged(Metric.tagged(Metrics.retries, "pool", base), "reason", "status")
        )).count,
        connections_opened: (yield* Metric.value(Metric.tagged(Metrics.connectionsOpened, "pool", base))).count,
        // The layer is closed by now: its pool closed its idle connection.
        connections_discarded_closed: (yield* Metric.value(
          Metric.tagged(Metric.tagged(Metrics.connectionsDiscarded, "pool", base), "reason", "closed")
        )).count,
        connections_open: (yield* Metric.value(Metric.tagged(Metrics.connectionsOpen, "pool", base))).value
      }
    }
    for (const span of report.spans) {
      const a = span.attributes
      log(
        `span ${span.name}: ${a["url.full"]} status=${a["http.response.status_code"]} pool=${a["httpool.pool"]} ` +
          `connection=${a["httpool.connection.id"]} reused=${a["httpool.connection.reused"]} ` +
          `wait_ms=${a["httpool.pool.wait_ms"]}${a["httpool.retries"] === undefined ? "" : ` retries=${a["httpool.retries"]}`}`
      )
    }
    for (const [name, value] of Object.entries(report.metrics)) log(`metric ${name} = ${value}`)
    return report
  })

const isMain = process.argv[1]?.endsWith("observability.js") === true
if (isMain) {
  Effect.runPromise(Effect.scoped(observability(console.log))).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
