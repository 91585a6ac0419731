import { HttpClient as PlatformHttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { HttpClient } from '../../src'
import { NodePoolManager } from "@httpool/node"

const program = Effect.gen(function* () {
  const client = yield* PlatformHttpClient.HttpClient
  const response = yield* client.get("http://127.0.0.1:8080/")
  return yield* response.json
})
const layer = HttpClient.layer().pipe(Layer.provide(NodePoolManager.layer()))
Effect.runPromise(program.pipe(Effect.provide(layer)))
