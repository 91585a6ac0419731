import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

/**
 * Waits, on no clock, until `fiber` is blocked (suspended on something outside it: a free
 * connection, the next bytes of a body) or done: what a test waits for instead of a fixed
 * sleep before it interrupts a fiber "while it waits".
 */
export const untilBlocked = <A, E>(fiber: Fiber.RuntimeFiber<A, E>): Effect.Effect<void> =>
  Effect.flatMap(Fiber.status(fiber), (status) =>
    status._tag === "Running" ? Effect.zipRight(Effect.yieldNow(), untilBlocked(fiber)) : Effect.void
  )

/** Fails the test (rather than hanging it) when `effect` takes longer than `seconds`. */
export const within = <A, E, R>(seconds: number, effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutFail(effect, {
    duration: `${seconds} seconds`,
    onTimeout: () => new Error(`still running after ${seconds} s: the request hangs`)
  })
