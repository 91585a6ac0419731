import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"
import projects from "./vitest.workspace.js"

/**
 * The projects come from `vitest.workspace.ts`. Given as `test.projects`, vitest 3.2 reads the
 * list without its deprecation warning for workspace files.
 *
 * At least three test files run at once in each pool: much of the time of a test file goes to
 * waiting on loopback sockets, timers and the peers it starts, so on a 2-core machine vitest's
 * default (one worker, the cores minus one) leaves a core idle; each worker thread loads the
 * modules once per project, so more workers cost CPU time (measured with 2, 3 and 4 on the
 * 2-core machine: 3 gave the shortest `npm test`).
 *
 * The threads pool runs without isolation: each worker thread loads Effect and the workspace's
 * sources once and runs file after file (the projects that use it say so; the forks pool keeps
 * a fresh process per file for the files that read process-wide state). As many workers are
 * kept as may run (`minWorkers`): with fewer, tinypool ends idle workers on a timer while
 * vitest recycles them between projects, and the second end of the same worker fails the run
 * with "Terminating worker thread".
 *
 * Measured on the 2-core machine, back to back while other work kept its load at 5 to 7:
 * `npm test` took 124 s (156 s of CPU time) with a fresh process for every file and four of
 * them at once, 42 s (74 s of CPU time) as it is now (with the 2,000-origin run in `stress`).
 */
const workers = Math.max(3, availableParallelism())

export default defineConfig({
  test: {
    projects,
    maxWorkers: workers,
    minWorkers: workers,
    poolOptions: { threads: { isolate: false } },
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
