import { configDefaults, type TestProjectInlineConfiguration } from "vitest/config"
import { shared } from "./vitest.shared.js"

/**
 * The long suites (each takes more than 5 s): the chaos suite with its interleaving property,
 * the soak's 20-second smoke, and the full-size runs over thousands of origins. They form the
 * `stress` project, which `npm run test:stress` runs and `npm test` leaves out.
 */
const stress = ["test/Chaos.test.ts", "test/Soak.test.ts", "test/Scale.test.ts"]

/**
 * Test files that read what a whole process holds: Effect's metric registry (counts by a
 * `pool` label naming a port another file may have used before), the process's limit of
 * distinct pool labels, every metric key. Each runs in a process of its own (the `own-process`
 * project); every other file shares its worker with the files before it.
 */
const ownProcess = {
  node: [
    "test/Observability.test.ts",
    "test/OpenTelemetry.test.ts",
    "test/Lifecycle.test.ts",
    "test/ConnectionLimit.test.ts"
  ],
  examples: ["test/observability.test.ts"]
}

const project = (
  name: string,
  root: string,
  test: TestProjectInlineConfiguration["test"] = {}
): TestProjectInlineConfiguration => ({
  ...shared,
  test: { ...shared.test, name, root, ...test }
})

/**
 * Worker threads that load the modules once and run file after file (`vitest.config.ts` turns
 * off isolation for the threads pool): most of a test file's CPU time used to go to loading
 * Effect and the workspace's sources again in a fresh process.
 */
const sharedWorker = { pool: "threads" } as const

/** A fresh child process for each file (the forks pool keeps vitest's default isolation). */
const freshProcess = { pool: "forks" } as const

/**
 * Every test project, the one place that names them: one per package, `own-process` and
 * `stress`. `vitest.config.ts` hands this list to vitest as `test.projects`.
 */
const projects: Array<TestProjectInlineConfiguration> = [
  project("core", "./packages/core", sharedWorker),
  project("node", "./packages/node", {
    ...sharedWorker,
    exclude: [...configDefaults.exclude, ...stress, ...ownProcess.node]
  }),
  project("examples", "./packages/examples", {
    ...sharedWorker,
    exclude: [...configDefaults.exclude, ...ownProcess.examples]
  }),
  project("own-process", "./packages", {
    ...freshProcess,
    include: [
      ...ownProcess.node.map((file) => `node/${file}`),
      ...ownProcess.examples.map((file) => `examples/${file}`)
    ]
  }),
  project("stress", "./packages/node", { ...freshProcess, include: stress })
]

export default projects
