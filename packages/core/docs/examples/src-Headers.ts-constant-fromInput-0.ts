import * as Effect from "effect/Effect"
import * as Headers from '../../src/Headers'

const program = Effect.gen(function* () {
  const headers = yield* Headers.fromInput({ "X-Request-Id": "42" })
  return Headers.get(headers, "x-request-id") // Option.some("42")
})
