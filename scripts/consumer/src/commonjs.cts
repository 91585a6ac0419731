/**
 * A CommonJS consumer: compiled to require() calls, which load the ES modules of
 * @httpool/core and @httpool/node (Node ^20.19.0 || >=22.12.0), next to `effect`'s own
 * CommonJS build.
 */
import * as assert from "node:assert/strict"
import { PoolManager } from "@httpool/core"
import { NodePoolManager } from "@httpool/node"
import { Effect } from "effect"

const main = async (): Promise<void> => {
  const { start } = await import("./server.js")
  const server = await start()
  try {
    const program = Effect.gen(function* () {
      const manager = yield* PoolManager.PoolManager
      const response = yield* manager.request("GET", `${server.url}/from-require`)
      const refused = yield* Effect.flip(manager.request("GET", "http://127.0.0.1:1/", { retries: false }))
      return [response.status, JSON.parse(response.text).url, refused._tag]
    }).pipe(Effect.provide(NodePoolManager.layer()))
    assert.deepEqual(await Effect.runPromise(program), [200, "/from-require", "NewConnectionError"])
    assert.equal(typeof require("@httpool/core").PoolManager.make, "function")
    console.log("consumer (CommonJS): ok")
  } finally {
    await server.close()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
