import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"
import projects from "./vitest.workspace.js"

/**
 * The projects come from `vitest.workspace.ts`. Given as `test.projects`, vitest 3.2 reads the
 * list without its deprecation warning for workspace files.
 *
 * At least two test files run at once: most of the time of a test file goes to waiting on
 * loopback sockets and timers, so on a 2-core machine vitest's default (one worker, the
 * cores minus one) leaves a core idle and `npm test` takes a third longer.
 */
export default defineConfig({
  test: {
    projects,
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Off unless asked for (`--coverage`, as .ci/run does on the machine's runtime): V8's own
    // counters, so the tests run unchanged; the summary is printed and coverage/ written.
    coverage: {
      provider: "v8",
      include: ["packages/core/src/**/*.ts", "packages/node/src/**/*.ts"],
      reporter: ["text-summary", "json-summary"],
      reportsDirectory: "coverage"
    }
  }
})
