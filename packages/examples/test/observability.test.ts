import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { observability } from "../src/observability.js"

describe("the observability example", () => {
  it.scopedLive("prints the http.client spans with httpool's attributes and the pool's metrics", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const report = yield* observability((line) => lines.push(line))
      expect(report.spans.map((s) => s.name)).toEqual(["http.client GET", "http.client GET", "http.client GET"])
      const [a, b, flaky] = report.spans.map((s) => s.attributes)
      expect(a["httpool.connection.reused"]).toBe(false)
      expect(b["httpool.connection.reused"]).toBe(true)
      expect(b["httpool.connection.id"]).toBe(a["httpool.connection.id"])
      expect(flaky["httpool.retries"]).toBe(1)
      expect(flaky["http.response.status_code"]).toBe(200)
      expect(report.metrics).toEqual({
        requests_2xx: 3,
        requests_5xx: 1,
        retries_status: 1,
        connections_opened: 1,
        connections_discarded_closed: 1,
        connections_open: 0
      })
      expect(lines.filter((line) => line.startsWith("GET "))).toEqual([
        "GET /a -> 200 ok",
        "GET /b -> 200 ok",
        "GET /flaky -> 200 ok"
      ])
    })
  )
})
