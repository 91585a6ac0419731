import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"

/**
 * What follows a cancelable wait: its canceler runs if the fiber was interrupted while it
 * waited. A class instance, as Effect's `matchCauseEffect` takes its handlers from an object.
 */
class Ending<A, E> {
  canceler: Effect.Effect<void> | undefined = undefined
  readonly onFailure = (cause: Cause.Cause<E>): Effect.Effect<A, E> =>
    this.canceler !== undefined && Cause.isInterruptedOnly(cause)
      ? Effect.zipRight(this.canceler, Effect.failCause(cause))
      : Effect.failCause(cause)
  readonly onSuccess: (a: A) => Effect.Effect<A, E> = Effect.succeed
}

/**
 * `Effect.async` whose registration may return a canceler, run when the fiber is interrupted
 * while it waits: what `Effect.async` does itself, through `Effect.onInterrupt`. That one makes
 * an options object literal per call at one site shared by every `onInterrupt` of the process;
 * V8 allocates such a literal straight into the old generation once it has seen the site's
 * objects survive (allocation-site pretenuring), and the old object then keeps the request's
 * callbacks, and everything they reach, past every young collection until a full one. Here the
 * handlers are a class instance, which V8 never pretenures.
 *
 * @internal
 */
export const cancelable = <A, E>(
  register: (resume: (effect: Effect.Effect<A, E>) => void) => Effect.Effect<void> | undefined | void
): Effect.Effect<A, E> =>
  Effect.uninterruptibleMask((restore) => {
    const ending = new Ending<A, E>()
    return Effect.matchCauseEffect(
      restore(
        // One parameter: Effect.async then makes no AbortController.
        Effect.async<A, E>((resume) => {
          ending.canceler = register(resume) ?? undefined
        })
      ),
      ending
    )
  })
