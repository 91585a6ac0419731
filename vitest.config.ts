import { defineConfig } from "vitest/config"
import projects from "./vitest.workspace.js"

/**
 * The projects come from `vitest.workspace.ts`. Given as `test.projects`, vitest 3.2 reads the
 * list without its deprecation warning for workspace files.
 */
export default defineConfig({ test: { projects } })
