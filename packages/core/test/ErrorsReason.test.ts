import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Errors from "../src/Errors.js"

const refused = new Errors.NewConnectionError({ message: "connect ECONNREFUSED 127.0.0.1:1" })
const exhausted = new Errors.MaxRetryError({ pool: null, url: "http://127.0.0.1:1/", reason: refused })
/** What every request method fails with. */
const failing: Effect.Effect<string, Errors.HttpoolError> = Effect.fail(exhausted)

describe("Errors.reason", () => {
  it("returns the reason of a MaxRetryError, through nested ones, and any other error itself", () => {
    expect(Errors.reason(exhausted)).toBe(refused)
    const nested = new Errors.MaxRetryError({ pool: null, url: "/", reason: exhausted })
    expect(Errors.reason(nested)).toBe(refused)
    expect(Errors.reason(refused)).toBe(refused)
    const bare = new Errors.MaxRetryError({ pool: null, url: "/", reason: null })
    expect(Errors.reason(bare)).toBe(bare)
  })

  it.effect("catchReason handles a refused connection that arrives as MaxRetryError, by the cause's tag", () =>
    Effect.gen(function* () {
      const handled = yield* failing.pipe(
        Errors.catchReason("NewConnectionError", (cause, original) => {
          // typed: the handler gets the cause and the error that carried it
          const message: string = cause.message
          return Effect.succeed(`${cause._tag} via ${original._tag}: ${message}`)
        })
      )
      expect(handled).toBe("NewConnectionError via MaxRetryError: connect ECONNREFUSED 127.0.0.1:1")
      // the data-first form, and an error that is itself the tag
      const direct = yield* Errors.catchReason(Effect.fail(refused), "NewConnectionError", () =>
        Effect.succeed("caught")
      )
      expect(direct).toBe("caught")
    })
  )

  it.effect("catchReason lets other reasons through unchanged", () =>
    Effect.gen(function* () {
      const result = yield* failing.pipe(
        Errors.catchReason("ReadTimeoutError", () => Effect.succeed("wrong")),
        Effect.either
      )
      expect(Either.isLeft(result) && result.left).toBe(exhausted)
    })
  )

  it.effect("unwrapReason makes Effect.catchTag fire on the cause", () =>
    Effect.gen(function* () {
      const handled = yield* failing.pipe(
        Errors.unwrapReason,
        Effect.catchTag("NewConnectionError", (e) => Effect.succeed(e.message))
      )
      expect(handled).toBe(refused.message)
    })
  )
})

describe("log annotations", () => {
  it("name the event and the pool, then the event's own fields", async () => {
    const { logAnnotations, poolLabel } = await import("../src/internal/errors.js")
    expect(poolLabel({ scheme: "http", host: "localhost", port: 8080 })).toBe("http://localhost:8080")
    expect(poolLabel({ scheme: "https", host: "::1", port: null })).toBe("https://[::1]")
    expect(logAnnotations("pool.full", { scheme: "http", host: "a", port: 1 }, { "httpool.pool.maxsize": 10 })).toEqual(
      {
        "httpool.event": "pool.full",
        "httpool.pool": "http://a:1",
        "httpool.pool.maxsize": 10
      }
    )
  })
})
