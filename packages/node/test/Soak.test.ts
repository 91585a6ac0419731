/**
 * The soak's smoke run: 20 seconds of the soak `npm run soak` runs for five minutes, with a
 * sample every 5 seconds; it must hold as the long run must.
 */
import { expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Soak from "./soak/soak.js"

it.live(
  "soak smoke: 20 seconds of mixed load with eviction churn and faults; memory and sockets stay bounded",
  () =>
    Effect.gen(function* () {
      const report = yield* Soak.run({ seconds: 20, every: 5 })
      expect(report.failures).toEqual([])
      expect(report.samples.length).toBeGreaterThanOrEqual(4)
      expect(report.socketsAfterClose).toBe(0)
      expect(report.requests).toBeGreaterThan(1000)
    }),
  60_000
)
