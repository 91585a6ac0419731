import * as Connector from "@httpool/core/Connector"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

describe("Connector.cancelable", () => {
  it.effect("one effect value runs again and again, each run with a registration of its own", () =>
    Effect.gen(function* () {
      let registered = 0
      const wait = Connector.cancelable<number, never>((resume) => {
        const n = ++registered
        setTimeout(() => resume(Effect.succeed(n)), 1)
      })
      expect(yield* wait).toBe(1)
      expect(yield* wait).toBe(2)
      expect(yield* Effect.all([wait, wait], { concurrency: 2 })).toEqual([3, 4])
      expect(registered).toBe(4)
    })
  )

  it.effect("a registration that resumes at once, and one that fails", () =>
    Effect.gen(function* () {
      expect(yield* Connector.cancelable<string, never>((resume) => resume(Effect.succeed("now")))).toBe("now")
      const failed = yield* Effect.exit(Connector.cancelable<never, string>((resume) => resume(Effect.fail("no"))))
      expect(failed).toEqual(Exit.fail("no"))
    })
  )

  it.live("interrupted while it waits, its canceler runs once and the run ends interrupted", () =>
    Effect.gen(function* () {
      let canceled = 0
      const wait = Connector.cancelable<never, never>(() =>
        Effect.sync(() => {
          canceled++
        })
      )
      const fiber = yield* Effect.fork(wait)
      yield* Effect.sleep("5 millis")
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(canceled).toBe(1)
      // The same value runs again: a fresh wait, canceled again on its own.
      const again = yield* Effect.fork(wait)
      yield* Effect.sleep("5 millis")
      yield* Fiber.interrupt(again)
      expect(canceled).toBe(2)
    })
  )
})
