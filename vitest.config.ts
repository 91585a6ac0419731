import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"
import projects from "./vitest.workspace.js"

/**
 * The projects come from `vitest.workspace.ts`. Given as `test.projects`, vitest 3.2 reads the
 * list without its deprecation warning for workspace files.
 *
 * At least four test files run at once: much of the time of a test file goes to waiting on
 * loopback sockets, timers and the peers it starts, so on a 2-core machine vitest's default
 * (one worker, the cores minus one) leaves a core idle. Measured on the 2-core machine, quiet:
 * `npm test` 89 s with two workers, 77 s with four.
 */
export default defineConfig({
  test: {
    projects,
    maxWorkers: Math.max(4, availableParallelism()),
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
