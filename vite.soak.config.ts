import { defineConfig } from "vitest/config"
import { shared } from "./vitest.shared.js"

/** `npm run soak` runs under vite-node: workspace packages resolve to their sources, as in the tests. */
export default defineConfig({ resolve: shared.resolve ?? {} })
