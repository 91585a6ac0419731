/** The consumer's own test suite: @effect/vitest's it.scoped over httpool, against a loopback server. */
import { describe, expect, it } from "@effect/vitest"
import { PoolManager } from "@httpool/core"
import { NodePoolManager } from "@httpool/node"
import { Effect } from "effect"
import { type Echo, start } from "../src/server.js"

const server = Effect.acquireRelease(
  Effect.promise(() => start()),
  (s) => Effect.promise(() => s.close())
)

describe("httpool from its tarballs", () => {
  it.scoped("a pooled connection serves two requests", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      const manager = yield* PoolManager.PoolManager
      const first = yield* manager.request("GET", `${url}/a`)
      const second = yield* manager.request("PUT", `${url}/b`, { body: "payload" })
      expect([first.status, (JSON.parse(second.text) as Echo).body]).toEqual([200, "payload"])
      const pool = yield* manager.connectionFromUrl(url)
      expect(yield* pool.stats).toMatchObject({ numConnections: 1, numRequests: 2 })
    }).pipe(Effect.provide(NodePoolManager.layer()))
  )
})
