/**
 * Waiting on a condition over state that event handlers change (sockets opening and closing,
 * requests arriving), without a clock: the handlers call `changed()` and each waiter checks its
 * condition then. A wait that the events never satisfy fails the test after its timeout
 * (default 5 s), naming what it waited for.
 *
 * @example
 * const watch = Watch.make()
 * server.on("connection", (socket) => { sockets.add(socket); watch.changed() })
 * yield* watch.until(() => sockets.size === 1, "the server accepted a socket")
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

export interface Watch {
  /** Tells the waiters that the state may have changed. */
  readonly changed: () => void
  /** Waits until `condition` holds (now or after a `changed()`); dies naming `what` after `timeout`. */
  readonly until: (condition: () => boolean, what: string, timeout?: Duration.DurationInput) => Effect.Effect<void>
}

/** A Watch; `state` describes the state for a timeout's message. */
export const make = (state: () => string = () => ""): Watch => {
  const waiters = new Set<() => void>()
  return {
    changed: () => {
      for (const waiter of waiters) waiter()
    },
    until: (condition, what, timeout = "5 seconds") =>
      Effect.async<void>((resume) => {
        if (condition()) return resume(Effect.void)
        const waiter = () => {
          if (!condition()) return
          waiters.delete(waiter)
          resume(Effect.void)
        }
        waiters.add(waiter)
        return Effect.sync(() => waiters.delete(waiter))
      }).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => {
            const now = state()
            return `timed out after ${Duration.format(Duration.decode(timeout))} waiting until ${what}${now === "" ? "" : ` (${now})`}`
          }
        }),
        Effect.orDieWith((message) => new Error(message))
      )
  }
}
