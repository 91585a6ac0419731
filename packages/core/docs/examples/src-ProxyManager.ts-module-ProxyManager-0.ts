import { Effect } from "effect"
import { PoolManager, ProxyManager } from '../../src'
import { NodeConnector } from "@httpool/node"

const program = Effect.gen(function* () {
  const manager = yield* PoolManager.PoolManager
  return (yield* manager.request("GET", "https://example.com/")).status
})
const layer = ProxyManager.layer("http://user:secret@127.0.0.1:3128")
Effect.runPromise(program.pipe(Effect.provide(layer), Effect.provide(NodeConnector.layer)))
