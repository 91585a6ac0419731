import type { UserConfig } from "vitest/config"
/**
 * Settings every package's test project shares: workspace packages resolve to their
 * TypeScript sources, so `npm test` needs no build first.
 */
export declare const shared: UserConfig
//# sourceMappingURL=vitest.shared.d.ts.map
