import { configDefaults, type TestProjectInlineConfiguration } from "vitest/config"
import { shared } from "./vitest.shared.js"

/**
 * The long suites (each takes more than 5 s): the chaos suite with its interleaving property,
 * and the soak's 20-second smoke. They form the `stress` project, which `npm run test:stress`
 * runs and `npm test` leaves out.
 */
const stress = ["test/Chaos.test.ts", "test/Soak.test.ts", "test/Scale.test.ts"]

const project = (
  name: string,
  root: string,
  test: TestProjectInlineConfiguration["test"] = {}
): TestProjectInlineConfiguration => ({
  ...shared,
  test: { ...shared.test, name, root, ...test }
})

/**
 * Every test project, the one place that names them: one per package, and `stress`.
 * `vitest.config.ts` hands this list to vitest as `test.projects`.
 */
const projects: Array<TestProjectInlineConfiguration> = [
  project("core", "./packages/core"),
  project("node", "./packages/node", { exclude: [...configDefaults.exclude, ...stress] }),
  project("examples", "./packages/examples"),
  project("stress", "./packages/node", { include: stress })
]

export default projects
