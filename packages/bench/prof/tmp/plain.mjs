import * as Effect from "effect/Effect"
const body = new Uint8Array(64)
const one = Effect.async((resume) => {
  resume(Effect.succeed({ status: 200, body, headers: ["a", "b"] }))
})
const masked = Effect.uninterruptibleMask((restore) => Effect.flatMap(restore(one), (r) => Effect.sync(() => r.status)))
const req = process.env.V === "mask" ? masked : one
await Effect.runPromise(
  Effect.gen(function* () {
    for (let i = 0; i < 1_000_000; i++) yield* req
  })
)
console.log("done")
