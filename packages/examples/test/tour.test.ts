import { describe, expect, it } from "@effect/vitest"
import { NodeConnector } from "@httpool/node"
import * as Effect from "effect/Effect"
import { tour } from "../src/tour.js"

describe("the seed tour", () => {
  it.scopedLive("every value of urllib3's PoolManager page is reproduced", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const checks = yield* tour((line) => lines.push(line)).pipe(Effect.provide(NodeConnector.layer))
      expect(checks.length).toBe(12)
      expect(checks.filter((check) => !check.same)).toEqual([])
      expect(lines[0]).toContain('urllib3\'s documentation page "PoolManager"')
      // every example shows urllib3's line beside the httpool call
      for (const check of checks) {
        expect(lines).toContain(`✓ urllib3  ${check.python}`)
        expect(lines).toContain(`  httpool  ${check.typescript}`)
      }
      expect(checks.at(-1)?.python).toContain("https://twitter.com/")
    })
  )
})
