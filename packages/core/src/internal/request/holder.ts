import type * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import type * as ConnectionPool from "../../ConnectionPool.js"
import type { HttpoolError } from "../../Errors.js"
import type * as Response from "../../Response.js"

/**
 * Where a streamed response's releases are registered: a Scope's `addFinalizer`, or a
 * lighter holder of the caller's own (the HttpClient adapter's), which runs them when the
 * response is done with.
 *
 * @internal
 */
export interface Holder {
  readonly add: (finalizer: Effect.Effect<void>) => Effect.Effect<void>
  /**
   * A streamed response whose whole body arrived with its head may give its connection back
   * at once (the HttpClient adapter's responses). Without it, as urllib3's
   * `preload_content=False`, the connection is held until the body is read or released.
   */
  readonly releaseEarly?: boolean
  /**
   * `add` as a synchronous step, for holders that can (the adapter's list): false when the
   * holder is closed already. With it, a streamed request on a warm connection is one
   * `Effect.async`, as a preloaded one.
   */
  readonly addNow?: (finalizer: Effect.Effect<void>) => boolean
}

/** A Scope as a Holder. @internal */
export const holderOf = (scope: Scope.Scope): Holder => ({ add: (finalizer) => Scope.addFinalizer(scope, finalizer) })

/**
 * `urlopen` without the Scope in the environment: a preloaded request needs none (`null`),
 * a streamed one registers its releases in the holder. httpool's own pools and managers
 * carry it, so managers and the HttpClient adapter need not make a Scope per request.
 *
 * @internal
 */
export const Unscoped: unique symbol = Symbol.for("@httpool/core/Unscoped")

/** @internal */
export interface UnscopedUrlopen {
  readonly [Unscoped]: (
    method: string,
    url: string,
    options: ConnectionPool.UrlopenOptions,
    holder: Holder | null
  ) => Effect.Effect<Response.Response | Response.StreamingResponse, HttpoolError>
}

/** @internal */
export const hasUnscoped = <A extends object>(u: A): u is A & UnscopedUrlopen => Unscoped in u
