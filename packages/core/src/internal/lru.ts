import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as HashMap from "effect/HashMap"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Order from "effect/Order"
import { pipeArguments } from "effect/Pipeable"
import * as Predicate from "effect/Predicate"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as SortedMap from "effect/SortedMap"
import type * as Lru from "../Lru.js"

/** @internal */
export const TypeId: Lru.TypeId = Symbol.for("@httpool/core/Lru") as Lru.TypeId

/** A stored entry; `tick` orders entries from least to most recently used. */
interface Entry<K, V> {
  readonly key: K
  readonly value: V
  readonly tick: number
}

/**
 * `byKey` finds an entry by `Equal`/`Hash` in O(1); `byTick` (a red-black tree) keeps
 * recency, so refreshing and evicting are O(log n).
 */
interface LruImpl<K, V> extends Lru.Lru<K, V> {
  readonly byKey: HashMap.HashMap<K, Entry<K, V>>
  readonly byTick: SortedMap.SortedMap<number, Entry<K, V>>
  /** The tick the next insertion or refresh takes. */
  readonly nextTick: number
}

const variance = {
  _K: (_: never) => _,
  _V: (_: never) => _
}

const Proto = {
  [TypeId]: variance,
  *[Symbol.iterator]<K, V>(this: LruImpl<K, V>): Generator<[K, V]> {
    for (const entry of SortedMap.values(this.byTick)) yield [entry.key, entry.value]
  },
  toJSON<K, V>(this: LruImpl<K, V>): unknown {
    return {
      _id: "Lru",
      capacity: this.capacity,
      entries: Array.from(this, ([k, v]) => [Inspectable.toJSON(k), Inspectable.toJSON(v)])
    }
  },
  toString<K, V>(this: LruImpl<K, V>): string {
    return Inspectable.format(this.toJSON())
  },
  [Inspectable.NodeInspectSymbol]<K, V>(this: LruImpl<K, V>): unknown {
    return this.toJSON()
  },
  pipe(...args: Array<unknown>) {
    return pipeArguments(this, args as unknown as IArguments)
  }
}

const makeImpl = <K, V>(
  capacity: number,
  byKey: HashMap.HashMap<K, Entry<K, V>>,
  byTick: SortedMap.SortedMap<number, Entry<K, V>>,
  nextTick: number
): LruImpl<K, V> => {
  const self = Object.create(Proto)
  self.capacity = capacity
  self.byKey = byKey
  self.byTick = byTick
  self.nextTick = nextTick
  return self
}

const emptyByTick = SortedMap.empty<number, never>(Order.number)

const normalizeCapacity = (capacity: number): number =>
  Number.isNaN(capacity) || capacity <= 0 ? 0 : Math.floor(capacity)

/** @internal */
export const empty = <K, V>(capacity: number): Lru.Lru<K, V> =>
  makeImpl<K, V>(normalizeCapacity(capacity), HashMap.empty(), emptyByTick, 0)

/** @internal */
export const isLru = (u: unknown): u is Lru.Lru<unknown, unknown> => Predicate.hasProperty(u, TypeId)

/** @internal */
export const size = <K, V>(self: Lru.Lru<K, V>): number => HashMap.size((self as LruImpl<K, V>).byKey)

/** @internal */
export const has: {
  <K>(key: K): <V>(self: Lru.Lru<K, V>) => boolean
  <K, V>(self: Lru.Lru<K, V>, key: K): boolean
} = dual(2, <K, V>(self: Lru.Lru<K, V>, key: K): boolean => HashMap.has((self as LruImpl<K, V>).byKey, key))

/** @internal */
export const peek: {
  <K>(key: K): <V>(self: Lru.Lru<K, V>) => Option.Option<V>
  <K, V>(self: Lru.Lru<K, V>, key: K): Option.Option<V>
} = dual(
  2,
  <K, V>(self: Lru.Lru<K, V>, key: K): Option.Option<V> =>
    Option.map(HashMap.get((self as LruImpl<K, V>).byKey, key), (entry) => entry.value)
)

/** Moves an entry to the most recently used end, storing `key` and `value` in it. */
const touch = <K, V>(self: LruImpl<K, V>, entry: Entry<K, V>, key: K, value: V): LruImpl<K, V> => {
  const next: Entry<K, V> = { key, value, tick: self.nextTick }
  return makeImpl(
    self.capacity,
    HashMap.set(self.byKey, key, next),
    SortedMap.set(SortedMap.remove(self.byTick, entry.tick), next.tick, next),
    self.nextTick + 1
  )
}

/** @internal */
export const get: {
  <K>(key: K): <V>(self: Lru.Lru<K, V>) => readonly [Option.Option<V>, Lru.Lru<K, V>]
  <K, V>(self: Lru.Lru<K, V>, key: K): readonly [Option.Option<V>, Lru.Lru<K, V>]
} = dual(2, <K, V>(self: Lru.Lru<K, V>, key: K): readonly [Option.Option<V>, Lru.Lru<K, V>] => {
  const impl = self as LruImpl<K, V>
  const found = HashMap.get(impl.byKey, key)
  if (Option.isNone(found)) return [Option.none(), self]
  const entry = found.value
  // Already the most recently used: nothing to move (the common case on a hot path).
  if (entry.tick === impl.nextTick - 1) return [Option.some(entry.value), self]
  return [Option.some(entry.value), touch(impl, entry, entry.key, entry.value)]
})

/** @internal */
export const set: {
  <K, V>(key: K, value: V): (self: Lru.Lru<K, V>) => readonly [Option.Option<readonly [K, V]>, Lru.Lru<K, V>]
  <K, V>(self: Lru.Lru<K, V>, key: K, value: V): readonly [Option.Option<readonly [K, V]>, Lru.Lru<K, V>]
} = dual(3, <K, V>(self: Lru.Lru<K, V>, key: K, value: V): readonly [Option.Option<readonly [K, V]>, Lru.Lru<K, V>] => {
  const impl = self as LruImpl<K, V>
  const found = HashMap.get(impl.byKey, key)
  if (Option.isSome(found)) {
    const old = found.value
    const next = touch(impl, old, key, value)
    // The very value already held is only refreshed: disposing it would dispose what stays.
    return [old.value === value ? Option.none() : Option.some([old.key, old.value] as const), next]
  }
  if (impl.capacity === 0) return [Option.some([key, value] as const), self]
  const entry: Entry<K, V> = { key, value, tick: impl.nextTick }
  let byKey = HashMap.set(impl.byKey, key, entry)
  let byTick = SortedMap.set(impl.byTick, entry.tick, entry)
  let evicted: Option.Option<readonly [K, V]> = Option.none()
  if (HashMap.size(byKey) > impl.capacity) {
    const oldest = Option.getOrThrow(SortedMap.headOption(byTick))[1]
    byKey = HashMap.remove(byKey, oldest.key)
    byTick = SortedMap.remove(byTick, oldest.tick)
    evicted = Option.some([oldest.key, oldest.value] as const)
  }
  return [evicted, makeImpl(impl.capacity, byKey, byTick, impl.nextTick + 1)]
})

/** @internal */
export const remove: {
  <K>(key: K): <V>(self: Lru.Lru<K, V>) => readonly [Option.Option<V>, Lru.Lru<K, V>]
  <K, V>(self: Lru.Lru<K, V>, key: K): readonly [Option.Option<V>, Lru.Lru<K, V>]
} = dual(2, <K, V>(self: Lru.Lru<K, V>, key: K): readonly [Option.Option<V>, Lru.Lru<K, V>] => {
  const impl = self as LruImpl<K, V>
  const found = HashMap.get(impl.byKey, key)
  if (Option.isNone(found)) return [Option.none(), self]
  const entry = found.value
  return [
    Option.some(entry.value),
    makeImpl(
      impl.capacity,
      HashMap.remove(impl.byKey, entry.key),
      SortedMap.remove(impl.byTick, entry.tick),
      impl.nextTick
    )
  ]
})

/** @internal */
export const entries = <K, V>(self: Lru.Lru<K, V>): Array<readonly [K, V]> => Array.from(self)

/** @internal */
export const keys = <K, V>(self: Lru.Lru<K, V>): Array<K> =>
  Array.from(SortedMap.values((self as LruImpl<K, V>).byTick), (entry) => entry.key)

/** @internal */
export const values = <K, V>(self: Lru.Lru<K, V>): Array<V> =>
  Array.from(SortedMap.values((self as LruImpl<K, V>).byTick), (entry) => entry.value)

/** @internal */
export const clear = <K, V>(self: Lru.Lru<K, V>): readonly [ReadonlyArray<readonly [K, V]>, Lru.Lru<K, V>] => [
  entries(self),
  empty(self.capacity)
]

// ---------------------------------------------------------------------------
// LruRef
// ---------------------------------------------------------------------------

type Left<K, V> = ReadonlyArray<readonly [K, V]>

const nothingLeft: Left<never, never> = []

const leftOf = <K, V>(option: Option.Option<readonly [K, V]>): Left<K, V> =>
  Option.isSome(option) ? [option.value] : nothingLeft

/** @internal */
export const makeRef = <K, V>(options: Lru.RefOptions<K, V>): Effect.Effect<Lru.LruRef<K, V>> =>
  Effect.gen(function* () {
    const state = yield* Ref.make(empty<K, V>(options.capacity))
    const lock = yield* Effect.makeSemaphore(1)
    const dispose = options.dispose

    const disposeOne = ([key, value]: readonly [K, V]): Effect.Effect<void> =>
      Effect.ignoreLogged(Effect.suspend(() => dispose!(key, value)))
    // One entry (an eviction) goes without `forEach`'s own steps: a manager that makes and
    // evicts a pool per request pays them on every request.
    const disposeAll = (left: Left<K, V>): Effect.Effect<void> =>
      dispose === undefined || left.length === 0
        ? Effect.void
        : left.length === 1
          ? disposeOne(left[0]!)
          : Effect.forEach(left, disposeOne, { discard: true })

    // The critical section. Only waiting for the lock is interruptible; the body (with
    // `create`, like the acquisition of an `acquireRelease`) runs uninterruptibly, so a value
    // that was created is always stored, or, if it left at once, disposed. What the body
    // pushed out of the container is disposed after the lock is released, still
    // uninterruptibly, so dispose may use this same container without deadlocking.
    const locked = <A, E, R>(body: Effect.Effect<readonly [A, Left<K, V>], E, R>): Effect.Effect<A, E, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.zipRight(restore(lock.take(1)), Effect.ensuring(body, lock.release(1))).pipe(
          Effect.flatMap(([result, left]) => Effect.as(disposeAll(left), result))
        )
      )

    // One atomic step: `getOrMakeWith` changes the state without the lock.
    const update = <A>(f: (lru: Lru.Lru<K, V>) => readonly [A, Left<K, V>, Lru.Lru<K, V>]) =>
      locked<A, never, never>(
        Ref.modify(state, (lru) => {
          const [result, left, next] = f(lru)
          return [[result, left] as const, next]
        })
      )

    /** What a lookup without the lock returns when the key is missing. */
    const missing: unique symbol = Symbol("missing") as never

    const getOrCreateWith = <A, E, R>(
      key: K,
      create: Effect.Effect<V, E, R>,
      acquire: (value: V) => A
    ): Effect.Effect<A, E, R> => {
      // Only lock holders add or remove keys; a hit only refreshes recency, so it needs no lock.
      const hit = Ref.modify(state, (lru): readonly [A | typeof missing, Lru.Lru<K, V>] => {
        const [found, refreshed] = get(lru, key)
        return Option.isSome(found) ? [acquire(found.value), refreshed] : [missing, lru]
      })
      return Effect.flatMap(hit, (result) =>
        result !== missing
          ? Effect.succeed(result)
          : locked(
              Effect.flatMap(Ref.get(state), (lru) => {
                const [found] = get(lru, key)
                if (Option.isSome(found)) {
                  return Ref.modify(state, (current) => {
                    const [, refreshed] = get(current, key)
                    return [[acquire(found.value), nothingLeft] as const, refreshed]
                  })
                }
                return Effect.flatMap(create, (value) =>
                  // Lookups may have refreshed entries meanwhile: store into the current state.
                  Ref.modify(state, (current) => {
                    const [evicted, next] = set(current, key, value)
                    return [[acquire(value), leftOf(evicted)] as const, next]
                  })
                )
              })
            )
      )
    }

    const hitWith = <A, B = undefined>(key: K, acquire: (value: V) => A, miss?: () => B): Effect.Effect<A | B> =>
      Ref.modify(state, (lru): readonly [A | B, Lru.Lru<K, V>] => {
        const [found, refreshed] = get(lru, key)
        return Option.isSome(found) ? [acquire(found.value), refreshed] : [miss?.() as B, lru]
      })

    const getOrMakeWith = <A, E>(
      key: K,
      make: () => Either.Either<V, E>,
      acquire: (value: V) => A
    ): Effect.Effect<A, E> =>
      Effect.uninterruptible(
        Effect.suspend(() => {
          let left: Left<K, V> = nothingLeft
          let failed: { readonly error: E } | null = null
          const step = Ref.modify(state, (lru): readonly [A | undefined, Lru.Lru<K, V>] => {
            const [found, refreshed] = get(lru, key)
            if (Option.isSome(found)) return [acquire(found.value), refreshed]
            const made = make()
            if (Either.isLeft(made)) {
              failed = { error: made.left }
              return [undefined, lru]
            }
            const [evicted, next] = set(lru, key, made.right)
            left = leftOf(evicted)
            return [acquire(made.right), next]
          })
          return Effect.flatMap(step, (result) =>
            failed !== null
              ? Effect.fail(failed.error)
              : left.length === 0
                ? Effect.succeed(result as A)
                : Effect.as(disposeAll(left), result as A)
          )
        })
      )

    const self: Lru.LruRef<K, V> = {
      hitWith,
      getOrMakeWith,
      capacity: normalizeCapacity(options.capacity),
      snapshot: Ref.get(state),
      size: Effect.map(Ref.get(state), size),
      keys: Effect.map(Ref.get(state), keys),
      peek: (key) => Effect.map(Ref.get(state), peek(key)),
      get: (key) =>
        update((lru) => {
          const [found, next] = get(lru, key)
          return [found, nothingLeft, next]
        }),
      getOrCreate: (key, create) => getOrCreateWith(key, create, (value) => value),
      getOrCreateWith,
      set: (key, value) =>
        update((lru) => {
          const [left, next] = set(lru, key, value)
          return [undefined, leftOf(left), next]
        }),
      remove: (key) =>
        update((lru) => {
          const [found, next] = remove(lru, key)
          return [found, Option.isSome(found) ? [[key, found.value] as const] : nothingLeft, next]
        }),
      clear: update((lru) => {
        const [left, next] = clear(lru)
        return [undefined, left, next]
      })
    }
    return self
  })

/** @internal */
export const makeRefScoped = <K, V>(
  options: Lru.RefOptions<K, V>
): Effect.Effect<Lru.LruRef<K, V>, never, Scope.Scope> => Effect.acquireRelease(makeRef(options), (ref) => ref.clear)
