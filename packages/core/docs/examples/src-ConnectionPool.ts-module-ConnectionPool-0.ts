import { Effect } from "effect"
import { ConnectionPool } from '../../src'
import { NodeConnector } from "@httpool/node"

const program = Effect.gen(function* () {
  const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: 8080, maxsize: 4 })
  const response = yield* pool.request("GET", "/status")
  return response.status
})
Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(NodeConnector.layer)))
