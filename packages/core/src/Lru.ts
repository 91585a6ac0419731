/**
 * A least-recently-used container: the policy a PoolManager keeps its pools by (urllib3's
 * `RecentlyUsedContainer`).
 *
 * `Lru` is an immutable value with pure functions (each returns what left the container
 * together with the new container), so its behaviour is checked without running any
 * effect. `LruRef` holds one behind a lock for concurrent use: it creates a missing value
 * once however many fibers ask for it, and disposes every value that leaves.
 *
 * Keys are compared with `Equal.equals` and `Hash.hash`, so `Data` values (such as a
 * `PoolKey`) work as keys.
 *
 * @example
 * import * as Option from "effect/Option"
 * import { Lru } from "@httpool/core"
 *
 * let lru = Lru.empty<string, number>(2)
 * ;[, lru] = Lru.set(lru, "a", 1)
 * ;[, lru] = Lru.set(lru, "b", 2)
 * ;[, lru] = Lru.get(lru, "a") // "a" is now the most recently used
 * const [evicted, next] = Lru.set(lru, "c", 3)
 * evicted // Option.some(["b", 2])
 * Lru.keys(next) // ["a", "c"]
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import type { Inspectable } from "effect/Inspectable"
import type * as Option from "effect/Option"
import type { Pipeable } from "effect/Pipeable"
import type * as Scope from "effect/Scope"
import type * as Types from "effect/Types"
import * as internal from "./internal/lru.js"

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
 * An immutable LRU container holding at most `capacity` entries. Iterating it yields
 * `[key, value]` from the least to the most recently used.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lru<in out K, out V> extends Iterable<[K, V]>, Pipeable, Inspectable {
  readonly [TypeId]: {
    readonly _K: Types.Invariant<K>
    readonly _V: Types.Covariant<V>
  }
  /** The most entries it keeps; 0 keeps nothing. */
  readonly capacity: number
}

/**
 * An empty container keeping at most `capacity` entries. A capacity of 0 (or less, or
 * `NaN`) keeps nothing; a fractional one is rounded down; `Infinity` never evicts.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: <K, V>(capacity: number) => Lru<K, V> = internal.empty

/**
 * @since 0.1.0
 * @category refinements
 */
export const isLru: (u: unknown) => u is Lru<unknown, unknown> = internal.isLru

/**
 * The number of entries held.
 *
 * @since 0.1.0
 * @category getters
 */
export const size: <K, V>(self: Lru<K, V>) => number = internal.size

/**
 * Whether a key is held; does not refresh it.
 *
 * @since 0.1.0
 * @category getters
 */
export const has: {
  <K>(key: K): <V>(self: Lru<K, V>) => boolean
  <K, V>(self: Lru<K, V>, key: K): boolean
} = internal.has

/**
 * The value held for a key, without refreshing it.
 *
 * @since 0.1.0
 * @category getters
 */
export const peek: {
  <K>(key: K): <V>(self: Lru<K, V>) => Option.Option<V>
  <K, V>(self: Lru<K, V>, key: K): Option.Option<V>
} = internal.peek

/**
 * The value held for a key, and the container with that key made the most recently used.
 * A missing key gives `None` and the container unchanged. The result is shaped for
 * `Ref.modify`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const get: {
  <K>(key: K): <V>(self: Lru<K, V>) => readonly [Option.Option<V>, Lru<K, V>]
  <K, V>(self: Lru<K, V>, key: K): readonly [Option.Option<V>, Lru<K, V>]
} = internal.get

/**
 * Stores a value as the most recently used, returning what left the container (at most one
 * entry) and the new container:
 *
 * - a new key past capacity evicts the least recently used entry;
 * - an existing key is replaced without evicting anything; the replaced `[key, value]` is
 *   what left (urllib3 disposes it too), unless it is the very value being stored, which is
 *   only refreshed;
 * - with capacity 0 the entry given is what left, at once.
 *
 * @example
 * import { Lru } from "@httpool/core"
 *
 * const [left] = Lru.set(Lru.empty<string, number>(0), "a", 1)
 * left // Option.some(["a", 1])
 *
 * @since 0.1.0
 * @category combinators
 */
export const set: {
  <K, V>(key: K, value: V): (self: Lru<K, V>) => readonly [Option.Option<readonly [K, V]>, Lru<K, V>]
  <K, V>(self: Lru<K, V>, key: K, value: V): readonly [Option.Option<readonly [K, V]>, Lru<K, V>]
} = internal.set

/**
 * Removes a key, returning its value (`None` when it was not held) and the new container.
 *
 * @since 0.1.0
 * @category combinators
 */
export const remove: {
  <K>(key: K): <V>(self: Lru<K, V>) => readonly [Option.Option<V>, Lru<K, V>]
  <K, V>(self: Lru<K, V>, key: K): readonly [Option.Option<V>, Lru<K, V>]
} = internal.remove

/**
 * Empties the container, returning every entry it held (least recently used first) and an
 * empty container of the same capacity.
 *
 * @since 0.1.0
 * @category combinators
 */
export const clear: <K, V>(self: Lru<K, V>) => readonly [ReadonlyArray<readonly [K, V]>, Lru<K, V>] = internal.clear

/**
 * The keys, from the least to the most recently used (the next to be evicted first).
 *
 * @since 0.1.0
 * @category getters
 */
export const keys: <K, V>(self: Lru<K, V>) => Array<K> = internal.keys

/**
 * The values, from the least to the most recently used.
 *
 * @since 0.1.0
 * @category getters
 */
export const values: <K, V>(self: Lru<K, V>) => Array<V> = internal.values

/**
 * The `[key, value]` entries, from the least to the most recently used.
 *
 * @since 0.1.0
 * @category getters
 */
export const entries: <K, V>(self: Lru<K, V>) => Array<readonly [K, V]> = internal.entries

/**
 * Options of {@link makeRef}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RefOptions<K, V> {
  /** The most entries kept (a PoolManager's `numPools`, 10 by default there). */
  readonly capacity: number
  /**
   * Runs for every value that leaves: evicted, replaced, removed or cleared. It runs after
   * the container's lock is released (so it may use the container), uninterruptibly, in
   * the fiber whose operation pushed the value out; a failure or defect is logged at debug
   * level and never reaches that fiber. Default: nothing.
   */
  readonly dispose?: ((key: K, value: V) => Effect.Effect<void, unknown>) | undefined
}

/**
 * An `Lru` in a `Ref` behind a lock, for concurrent use (a PoolManager's `pools`).
 *
 * Every operation that changes the container holds the lock; reads (`peek`, `keys`,
 * `size`, `snapshot`) see the latest value without waiting. Values that leave are passed
 * to the `dispose` option.
 *
 * @since 0.1.0
 * @category models
 */
export interface LruRef<K, V> {
  /** The capacity, normalized as {@link empty} does. */
  readonly capacity: number
  /** The current container. */
  readonly snapshot: Effect.Effect<Lru<K, V>>
  readonly size: Effect.Effect<number>
  /** Least recently used first. */
  readonly keys: Effect.Effect<ReadonlyArray<K>>
  /** The value for a key, without refreshing it. */
  readonly peek: (key: K) => Effect.Effect<Option.Option<V>>
  /** The value for a key, refreshing it. */
  readonly get: (key: K) => Effect.Effect<Option.Option<V>>
  /**
   * The value for a key, refreshed; when the key is missing, runs `create` under the lock
   * and stores its value, so concurrent callers for one key run `create` once. Storing may
   * evict (and dispose) the least recently used entry; with capacity 0 the new value is
   * returned and disposed at once.
   *
   * Waiting for the lock can be interrupted. `create` runs uninterruptibly, as the
   * acquisition of an `acquireRelease` does, so a value it makes is never lost: it is
   * stored (and disposed when it leaves) even if the caller is interrupted meanwhile. Wrap
   * it in `Effect.interruptible` to allow interrupting it; an interrupted or failed
   * `create` stores nothing. Keep `create` short: every other change waits for it.
   */
  readonly getOrCreate: <E, R>(key: K, create: Effect.Effect<V, E, R>) => Effect.Effect<V, E, R>
  /**
   * A lookup in one step, without the lock: when the key is present its recency is refreshed
   * and `acquire` runs on the value in that same step; when it is missing, `miss` runs
   * instead (`undefined` without one: then `getOrCreateWith` creates it). The hot path of a
   * PoolManager request.
   */
  readonly hitWith: <A, B = undefined>(key: K, acquire: (value: V) => A, miss?: () => B) => Effect.Effect<A | B>
  /**
   * As `getOrCreate`, and `acquire` runs on the value in the same synchronous step that
   * finds or stores it: before anything this call evicted is disposed and before any other
   * fiber can evict the value. A PoolManager counts a lease on its pool here, so an evicted
   * pool is never closed under a request that just obtained it. A key that is present is
   * found without taking the lock, so lookups never wait for a `create` of another key.
   * Run the call uninterruptibly when what `acquire` did must be undone on interruption.
   */
  readonly getOrCreateWith: <A, E, R>(
    key: K,
    create: Effect.Effect<V, E, R>,
    acquire: (value: V) => A
  ) => Effect.Effect<A, E, R>
  /**
   * As `getOrCreateWith`, for a value made in one synchronous step: finding the key, making
   * the value when it is missing, storing it and running `acquire` on it are one atomic
   * update, with no lock to wait for; what storing evicted is disposed after, uninterruptibly.
   * A `Left` from `make` fails the call and stores nothing. A PoolManager makes its own pools
   * this way.
   */
  readonly getOrMakeWith: <A, E>(
    key: K,
    make: () => Either.Either<V, E>,
    acquire: (value: V) => A
  ) => Effect.Effect<A, E>
  /** Stores a value as the most recently used; disposes what it evicted or replaced. */
  readonly set: (key: K, value: V) => Effect.Effect<void>
  /** Removes a key and disposes its value, which it also returns. */
  readonly remove: (key: K) => Effect.Effect<Option.Option<V>>
  /** Removes everything, disposing each value, least recently used first. */
  readonly clear: Effect.Effect<void>
}

/**
 * Makes an empty `LruRef`.
 *
 * @example
 * import * as Effect from "effect/Effect"
 * import { Lru } from "@httpool/core"
 *
 * const program = Effect.gen(function* () {
 *   const pools = yield* Lru.makeRef<string, { readonly host: string }>({
 *     capacity: 10,
 *     dispose: (host) => Effect.log(`closing the pool for ${host}`)
 *   })
 *   return yield* pools.getOrCreate("example.com", Effect.succeed({ host: "example.com" }))
 * })
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeRef: <K, V>(options: RefOptions<K, V>) => Effect.Effect<LruRef<K, V>> = internal.makeRef

/**
 * Makes an empty `LruRef` that is cleared (every value disposed) when the Scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeRefScoped: <K, V>(options: RefOptions<K, V>) => Effect.Effect<LruRef<K, V>, never, Scope.Scope> =
  internal.makeRefScoped
