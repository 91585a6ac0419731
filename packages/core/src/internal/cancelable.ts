import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"

/** A lease to give back once a wait ends, however it ends (see `cancelableIn`). @internal */
export interface Releasable {
  /** Gives the lease back, the first time only: what is left to do, or null. */
  readonly release: () => Effect.Effect<void> | null
}

/**
 * What follows a cancelable wait: its canceler runs if the fiber was interrupted while it
 * waited, then a lease it holds is given back. A class instance, as Effect's
 * `matchCauseEffect` takes its handlers from an object.
 */
class Ending<A, E> {
  canceler: Effect.Effect<void> | undefined = undefined
  readonly onSuccess: (value: A) => Effect.Effect<A, E>
  constructor(readonly held: Releasable | null) {
    // Without a lease to give back, success needs nothing of this instance: no closure is made.
    this.onSuccess =
      held === null
        ? Effect.succeed
        : (value) => {
            const left = held.release()
            return left === null ? Effect.succeed(value) : Effect.as(left, value)
          }
  }
  readonly onFailure = (cause: Cause.Cause<E>): Effect.Effect<A, E> => {
    const left = this.held === null ? null : this.held.release()
    const failed = left === null ? Effect.failCause(cause) : Effect.zipRight(left, Effect.failCause(cause))
    return this.canceler !== undefined && Cause.isInterruptedOnly(cause)
      ? Effect.zipRight(this.canceler, failed)
      : failed
  }
}

type Register<A, E> = (resume: (effect: Effect.Effect<A, E>) => void) => Effect.Effect<void> | undefined | void

const waitFor = <A, E>(
  restore: <X, Y, R>(effect: Effect.Effect<X, Y, R>) => Effect.Effect<X, Y, R>,
  register: Register<A, E>,
  held: Releasable | null
): Effect.Effect<A, E> => {
  const ending = new Ending<A, E>(held)
  return Effect.matchCauseEffect(
    restore(
      // One parameter: Effect.async then makes no AbortController.
      Effect.async<A, E>((resume) => {
        ending.canceler = register(resume) ?? undefined
      })
    ),
    ending
  )
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
export const cancelable = <A, E>(register: Register<A, E>): Effect.Effect<A, E> =>
  Effect.uninterruptibleMask((restore) => waitFor(restore, register, null))

/**
 * `cancelable` inside a caller's own uninterruptible region (`restore` is its mask's), where
 * the caller took `held`: the wait is interruptible as the caller was, and `held` is given back
 * after it (and after what the wait resumed with), however it ends. One mask serves both.
 *
 * @internal
 */
export const cancelableIn = <A, E>(
  restore: <X, Y, R>(effect: Effect.Effect<X, Y, R>) => Effect.Effect<X, Y, R>,
  register: Register<A, E>,
  held: Releasable
): Effect.Effect<A, E> => waitFor(restore, register, held)

/**
 * `effect` run as the caller was interruptible (`restore` is its mask's), `held` given back
 * after it however it ends.
 *
 * @internal
 */
export const releasing = <A, E>(
  restore: <X, Y, R>(effect: Effect.Effect<X, Y, R>) => Effect.Effect<X, Y, R>,
  effect: Effect.Effect<A, E>,
  held: Releasable
): Effect.Effect<A, E> => Effect.matchCauseEffect(restore(effect), new Ending<A, E>(held))
