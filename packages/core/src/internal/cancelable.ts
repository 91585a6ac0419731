import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"

/** A lease to give back once a wait ends, however it ends (see `cancelableIn`). @internal */
export interface Releasable {
  /** Gives the lease back, the first time only: what is left to do, or null. */
  readonly release: () => Effect.Effect<void> | null
}

/**
 * A cancelable wait and what follows it: `start` is the wait's registration; its canceler runs
 * if the fiber was interrupted while it waited, then a lease it holds is given back. A class
 * instance, as Effect's `matchCauseEffect` takes its handlers from an object.
 *
 * Each field is let go as soon as it has served. Effect's `Effect.async` stores a function
 * literal into a property (`effect.effect_instruction_i0 = resume => ...`), which V8 allocates
 * straight into the old generation wherever the code runs unoptimised (the interpreter,
 * Sparkplug, and Maglev, Node 22 and 24's tier for the first seconds); that dead old function
 * then keeps its context, and so this instance and everything it still reaches, past every
 * young collection until a full one. Emptied, this instance reaches nothing of the request.
 */
class Ending<A, E> {
  canceler: Effect.Effect<void> | undefined = undefined
  readonly onSuccess: (value: A) => Effect.Effect<A, E>
  constructor(
    private register: Register<A, E> | null,
    private held: Releasable | null
  ) {
    // Without a lease to give back, success needs nothing of this instance: no closure is made.
    this.onSuccess = held === null ? Effect.succeed : (value) => this.succeeded(value)
  }
  /** The wait's registration (one parameter: `Effect.async` then makes no AbortController). */
  readonly start = (resume: (effect: Effect.Effect<A, E>) => void): void => {
    const register = this.register
    this.register = null
    if (register !== null) this.canceler = register(resume) ?? undefined
  }
  private release(): Effect.Effect<void> | null {
    const held = this.held
    this.held = null
    return held === null ? null : held.release()
  }
  private succeeded(value: A): Effect.Effect<A, E> {
    this.canceler = undefined
    const left = this.release()
    return left === null ? Effect.succeed(value) : Effect.as(left, value)
  }
  readonly onFailure = (cause: Cause.Cause<E>): Effect.Effect<A, E> => {
    const canceler = this.canceler
    this.canceler = undefined
    const left = this.release()
    const failed = left === null ? Effect.failCause(cause) : Effect.zipRight(left, Effect.failCause(cause))
    return canceler !== undefined && Cause.isInterruptedOnly(cause) ? Effect.zipRight(canceler, failed) : failed
  }
}

type Register<A, E> = (resume: (effect: Effect.Effect<A, E>) => void) => Effect.Effect<void> | undefined | void

const waitFor = <A, E>(
  restore: <X, Y, R>(effect: Effect.Effect<X, Y, R>) => Effect.Effect<X, Y, R>,
  register: Register<A, E>,
  held: Releasable | null
): Effect.Effect<A, E> => {
  const ending = new Ending<A, E>(register, held)
  return Effect.matchCauseEffect(restore(Effect.async<A, E>(ending.start)), ending)
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
): Effect.Effect<A, E> => Effect.matchCauseEffect(restore(effect), new Ending<A, E>(null, held))
