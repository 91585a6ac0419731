/**
 * The full-size runs of what a manager keeps per origin, in the stress project
 * (`npm run test:stress`): `npm test` runs the same checks over fewer origins
 * (PoolManager.test.ts, ConnectionLimit.test.ts, Lifecycle.test.ts).
 */
import { describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeConnector from "../src/NodeConnector.js"
import * as Origins from "./utils/origins.js"

describe("many origins", () => {
  it.scopedLive("500 origins through numPools 10: never more than 10 pools' sockets open, none after close", () =>
    Origins.throughNumPools(500).pipe(Effect.provide(NodeConnector.layer))
  )

  it.scopedLive(
    "2,000 origins through a cap of 32: never more than 32 sockets open, every request answered, all closed with the Scope",
    () => Origins.throughConnectionCap(2_000).pipe(Effect.provide(NodeConnector.layer)),
    120_000
  )

  it.scopedLive(
    "3,000 origins keep no metric keys and under 1 KiB of heap each after their manager closed",
    () => Origins.originsLeaveNothing(3_000, { heap: true }),
    120_000
  )
})
