import { describe, expect, it } from "@effect/vitest"

describe("runtime", () => {
  it("the suite runs on a supported Node.js, and on the one `npm run test:node` asked for", () => {
    const [major] = process.versions.node.split(".").map(Number)
    expect(major).toBeGreaterThanOrEqual(20)
    // Set by scripts/node-runtime.mjs: a major (`24`) or an exact version (`24.22.3`).
    const asked = process.env.HTTPOOL_TEST_NODE
    if (asked !== undefined && asked !== "") {
      expect(asked.includes(".") ? process.versions.node : String(major)).toBe(asked)
    }
  })
})
