import { Effect } from "effect"
import { PoolManager } from '../../src'
import { NodePoolManager } from "@httpool/node"

const program = Effect.gen(function* () {
  const manager = yield* PoolManager.PoolManager
  const response = yield* manager.request("GET", "http://127.0.0.1:8080/")
  return response.status
})
Effect.runPromise(program.pipe(Effect.provide(NodePoolManager.layer({ numPools: 10 }))))
