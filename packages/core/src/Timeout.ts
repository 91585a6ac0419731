/**
 * How long a request may take: to connect, between two reads of the response, and in
 * total. urllib3's `Timeout`, as an immutable value compared by value.
 *
 * A plain number is **seconds**, as in urllib3 (`Timeout.make(5)`: connect and read 5 s
 * each). Any other `Duration.DurationInput` is accepted too (`"250 millis"`,
 * `Duration.minutes(1)`). Each field holds a `Duration`, or `null` for no limit.
 *
 * A pool given no timeout uses {@link DEFAULT}: connect 10 s, read 300 s, no total, so a
 * silent peer ends in a typed error rather than a hang. A request's timeout is merged over
 * its pool's field by field (see {@link from}); `null` or {@link NONE} lifts every limit.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Either from "effect/Either"
import type * as Equal from "effect/Equal"
import type * as Inspectable from "effect/Inspectable"
import type * as Pipeable from "effect/Pipeable"
import type { ValueError } from "./Errors.js"
import * as internal from "./internal/timeout.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A timeout configuration. Two `Timeout`s with the same limits are `Equal.equals` and hash
 * alike, so they give one pool (urllib3 compares its `Timeout` objects by identity).
 *
 * @since 0.1.0
 * @category models
 */
export interface Timeout extends Equal.Equal, Pipeable.Pipeable, Inspectable.Inspectable {
  readonly [TypeId]: TypeId
  /** Deadline for connecting plus reading the response; `null`: none. */
  readonly total: Duration.Duration | null
  /** Longest wait for the connection to be established; `null`: no limit. */
  readonly connect: Duration.Duration | null
  /** Longest wait between two reads of the response (an inactivity timer); `null`: no limit. */
  readonly read: Duration.Duration | null
}

/**
 * The fields of {@link make}. Each is a positive number of **seconds**, another
 * `Duration.DurationInput` (`"500 millis"`, `Duration.seconds(2)`), or `null`/absent for
 * no limit of its own. As a pool or request option, a field without a limit takes the one
 * underneath (the pool's, or {@link DEFAULT}'s for a pool).
 *
 * @since 0.1.0
 * @category models
 */
export interface TimeoutOptions {
  /** Deadline for the whole exchange. `Timeout.make`'s default: null. A pool's default: none. */
  readonly total?: Duration.DurationInput | null | undefined
  /** `Timeout.make`'s default: null. A pool's default: 10 s (see `DEFAULT`). */
  readonly connect?: Duration.DurationInput | null | undefined
  /** `Timeout.make`'s default: null. A pool's default: 300 s (see `DEFAULT`). */
  readonly read?: Duration.DurationInput | null | undefined
}

/**
 * What a pool or request option `timeout` accepts, normalised by {@link from} over a
 * fallback (for a request: the pool's timeout; for a pool: {@link DEFAULT}):
 *
 * - absent (`undefined`): the fallback (urllib3's `_DEFAULT_TIMEOUT` argument);
 * - `null`, or a `Timeout` without any limit such as {@link NONE}: no limits at all
 *   (urllib3's `timeout=None`);
 * - a number of seconds or another `DurationInput` t: connect = read = t, the fallback's
 *   total (urllib3's `Timeout.from_float`);
 * - a {@link TimeoutOptions} object or a {@link Timeout}: its limits, and the fallback's
 *   for the fields it leaves without one.
 *
 * @since 0.1.0
 * @category models
 */
export type Input = Duration.DurationInput | Timeout | TimeoutOptions | null | undefined

/**
 * Builds a `Timeout`, validating every field. A single value t (a number of seconds or a
 * `DurationInput`) means connect = read = t with no total, like a pool's `timeout=5` in
 * urllib3. (urllib3's positional `Timeout(5)` sets `total` instead; write
 * `Timeout.make({ total: 5 })` for that.)
 *
 * Fails with a `ValueError` naming the field for a value <= 0, NaN, an infinity, a
 * boolean, or anything that is not a number or a `DurationInput`. Use `null` for "no
 * limit". The result is an `Either`, which `Effect.gen` can `yield*`.
 *
 * @example
 * import * as Either from "effect/Either"
 * import { Timeout } from "@httpool/core"
 *
 * Timeout.make({ connect: 2, read: "7 seconds" }) // Right(Timeout)
 * Timeout.make({ total: -1 }) // Left(ValueError("Timeout value total was -1, ..."))
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (input?: Duration.DurationInput | TimeoutOptions) => Either.Either<Timeout, ValueError> =
  internal.make

/**
 * {@link make} for inputs known to be valid, such as module-level constants; throws the
 * `ValueError` otherwise.
 *
 * @example
 * import { Timeout } from "@httpool/core"
 *
 * const fast = Timeout.unsafeMake({ connect: 1, read: 2 })
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake: (input?: Duration.DurationInput | TimeoutOptions) => Timeout = internal.unsafeMake

/**
 * Normalises a pool or request `timeout` option (see {@link Input}) over `fallback` (for a
 * request: the pool's timeout): `undefined` gives `fallback`; `null`, or a `Timeout` without
 * any limit, gives {@link NONE}; anything else goes through {@link make} and is
 * {@link merge}d over `fallback`, so a field left without a limit keeps the fallback's. A
 * phase that has a limit somewhere keeps one: a request's `{ read: 5 }` does not lift its
 * pool's connect timeout.
 *
 * @example
 * import { Timeout } from "@httpool/core"
 *
 * const pool = Timeout.unsafeMake({ connect: 3, read: 10, total: 60 })
 * Timeout.from(undefined, pool) // Right(pool)
 * Timeout.from(null, pool) // Right(Timeout.NONE)
 * Timeout.from(2, pool) // Right(connect 2 s, read 2 s, total 60 s)
 * Timeout.from({ read: 5 }, pool) // Right(connect 3 s, read 5 s, total 60 s)
 *
 * @since 0.1.0
 * @category constructors
 */
export const from: (input: Input, fallback: Timeout) => Either.Either<Timeout, ValueError> = internal.from

/**
 * The timeout of a pool that was given none, and what a pool's own timeout is merged over:
 * **connect 10 s, read 300 s, no total**, the limits of undici (Node's own `fetch`).
 * urllib3's default leaves connect and read to Python's socket default, "none" unless a
 * program changes it, so a peer that accepts TCP and never answers hangs a program forever;
 * here it ends in `ConnectTimeoutError` or `ReadTimeoutError`. The read limit is an
 * inactivity timer, so a long download that keeps arriving is never cut; there is no total,
 * since a legitimate transfer may take any time. Pass `timeout: null` (or {@link NONE}) to
 * a pool or a request for no limits at all.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT: Timeout = internal.DEFAULT

/**
 * No limits on connect, read or total: what a pool's or a request's `timeout: null` asks
 * for. Given as a `timeout` option it lifts every limit, the pool's and the defaults.
 *
 * @since 0.1.0
 * @category constants
 */
export const NONE: Timeout = internal.NONE

/**
 * Fills the fields of `self` that have no limit from `fallback`: a phase limited in either
 * keeps a limit, `self`'s when both have one. What a request's timeout does to its pool's.
 *
 * @example
 * import { Timeout } from "@httpool/core"
 *
 * const pool = Timeout.unsafeMake({ connect: 0.5 })
 * Timeout.merge(Timeout.unsafeMake({ read: 2 }), pool) // connect 0.5 s, read 2 s
 *
 * @since 0.2.0
 * @category combinators
 */
export const merge: {
  (fallback: Timeout): (self: Timeout) => Timeout
  (self: Timeout, fallback: Timeout): Timeout
} = internal.merge

/**
 * Whether a value is a `Timeout`.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isTimeout: (u: unknown) => u is Timeout = internal.isTimeout

/**
 * The limit to put on establishing the connection: `connect` when there is no total,
 * `total` when there is no connect limit, otherwise the smaller of the two. `null`: no
 * limit.
 *
 * @example
 * import { Timeout } from "@httpool/core"
 *
 * Timeout.connectTimeout(Timeout.unsafeMake({ connect: 3, total: 2 })) // 2 seconds
 *
 * @since 0.1.0
 * @category getters
 */
export const connectTimeout: (self: Timeout) => Duration.Duration | null = internal.connectTimeout

/**
 * The read (inactivity) limit once the connection took `connectElapsed` to establish:
 *
 * - total and read set: the smaller of `read` and `total - connectElapsed`;
 * - only total set: `total - connectElapsed`;
 * - otherwise `read` (`null`: no limit).
 *
 * The result never goes below zero. **`Duration.zero` means the total deadline has
 * already passed: fail with `ReadTimeoutError` at once, without reading.** Do not hand a
 * zero to a socket or to undici, where 0 means "no timeout". `connectElapsed = null` means
 * the connection was not timed (for instance a pooled connection): `read` applies when
 * set, otherwise the whole `total`.
 *
 * @example
 * import * as Duration from "effect/Duration"
 * import { Timeout } from "@httpool/core"
 *
 * const t = Timeout.unsafeMake({ total: 10, read: 3 })
 * Timeout.readTimeout(t, Duration.seconds(8)) // 2 seconds
 * Timeout.readTimeout(t, Duration.seconds(11)) // zero: already timed out
 *
 * @since 0.1.0
 * @category getters
 */
export const readTimeout: {
  (connectElapsed: Duration.Duration | null): (self: Timeout) => Duration.Duration | null
  (self: Timeout, connectElapsed: Duration.Duration | null): Duration.Duration | null
} = internal.readTimeout
