import * as Effect from "effect/Effect"
import { Lru } from '../../src'

const program = Effect.gen(function* () {
  const pools = yield* Lru.makeRef<string, { readonly host: string }>({
    capacity: 10,
    dispose: (host) => Effect.log(`closing the pool for ${host}`)
  })
  return yield* pools.getOrCreate("example.com", Effect.succeed({ host: "example.com" }))
})
