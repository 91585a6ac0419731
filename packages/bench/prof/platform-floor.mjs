// The floor @effect/platform's HttpClient.make sets: its own instructions and allocation per
// request around an adapter that answers at once, for comparison with `W=httpclient` of
// core.mjs. Run after `npm run build`: node packages/bench/prof/platform-floor.mjs
import * as PlatformClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as RuntimeFlags from "effect/RuntimeFlags"
import * as RuntimeFlagsPatch from "effect/RuntimeFlagsPatch"
import * as Supervisor from "effect/Supervisor"

class OpCounter extends Supervisor.AbstractSupervisor {
  ops = 0
  value = Effect.void
  onEffect() {
    this.ops++
  }
}

const body = new Uint8Array(64)
/** The least a response can be: its bytes at hand, nothing to release. */
const response = (request) => ({
  [HttpClientResponse.TypeId]: HttpClientResponse.TypeId,
  request,
  status: 200,
  headers: {},
  arrayBuffer: Effect.succeed(body.buffer)
})
const client = PlatformClient.make((request) => Effect.succeed(response(request)))
const count = 20_000
const loop = Effect.gen(function* () {
  for (let i = 0; i < count; i++) yield* Effect.flatMap(client.get("http://127.0.0.1:18081/x"), (r) => r.arrayBuffer)
})
const counter = new OpCounter()
await Effect.runPromise(loop)
await Effect.runPromise(
  loop.pipe(
    Effect.supervised(counter),
    Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
  )
)
const started = performance.now()
await Effect.runPromise(loop)
console.log(
  `platform floor: ${(counter.ops / count).toFixed(1)} Effect instructions, ${(((performance.now() - started) / count) * 1000).toFixed(2)} us per request (HttpClient.make answering at once with bytes at hand)`
)
