import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as HashMap from "effect/HashMap"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import * as Predicate from "effect/Predicate"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import type * as Lru from "../Lru.js"

/** @internal */
export const TypeId: Lru.TypeId = Symbol.for("@httpool/core/Lru") as Lru.TypeId

/** A stored entry; `tick` orders entries from least to most recently used. */
interface Entry<K, V> {
  readonly key: K
  readonly value: V
  readonly tick: number
}

/** A cell of an immutable singly linked list. */
interface Cell<T> {
  readonly head: T
  readonly tail: Cell<T> | null
}

/**
 * `byKey` finds an entry by `Equal`/`Hash` in O(1). Recency is a persistent queue of entries,
 * oldest first: `front` is read from its head; `back` holds newer entries, newest first, and
 * is reversed into `front` once `front` runs out. Storing or refreshing an entry pushes a new
 * one onto `back` (one cell); the entry it replaces, or one removed, stays queued but is no
 * longer current (`byKey` holds another object, or none) and is skipped when it reaches the
 * front, or dropped when the queue is compacted. Every operation is O(1) amortised: no
 * balanced tree to rebuild a path of on each refresh and eviction.
 */
interface LruImpl<K, V> extends Lru.Lru<K, V> {
  readonly byKey: HashMap.HashMap<K, Entry<K, V>>
  readonly front: Cell<Entry<K, V>> | null
  readonly back: Cell<Entry<K, V>> | null
  /** Entries in `front` and `back`, current or not. */
  readonly queued: number
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
    for (const entry of currentOf(this)) yield [entry.key, entry.value]
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
  front: Cell<Entry<K, V>> | null,
  back: Cell<Entry<K, V>> | null,
  queued: number,
  nextTick: number
): LruImpl<K, V> => {
  const self = Object.create(Proto)
  self.capacity = capacity
  self.byKey = byKey
  self.front = front
  self.back = back
  self.queued = queued
  self.nextTick = nextTick
  return self
}

const reverse = <T>(cell: Cell<T> | null): Cell<T> | null => {
  let out: Cell<T> | null = null
  for (let c = cell; c !== null; c = c.tail) out = { head: c.head, tail: out }
  return out
}

/** Whether `entry` is the one `byKey` holds for its key (not replaced, not removed). */
const isCurrent = <K, V>(byKey: HashMap.HashMap<K, Entry<K, V>>, entry: Entry<K, V>): boolean => {
  const found = HashMap.get(byKey, entry.key)
  return Option.isSome(found) && found.value === entry
}

/** The current entries of a queue, least recently used first. */
const current = <K, V>(
  byKey: HashMap.HashMap<K, Entry<K, V>>,
  front: Cell<Entry<K, V>> | null,
  back: Cell<Entry<K, V>> | null
): Array<Entry<K, V>> => {
  const out: Array<Entry<K, V>> = []
  for (let c = front; c !== null; c = c.tail) if (isCurrent(byKey, c.head)) out.push(c.head)
  for (let c = reverse(back); c !== null; c = c.tail) if (isCurrent(byKey, c.head)) out.push(c.head)
  return out
}

const currentOf = <K, V>(self: LruImpl<K, V>): Array<Entry<K, V>> => current(self.byKey, self.front, self.back)

/**
 * `entry` queued as the most recently used, in a container whose `byKey` holds it already.
 * When stale entries outnumber current ones (plus some slack), the queue is rebuilt from the
 * current ones.
 */
const enqueue = <K, V>(self: LruImpl<K, V>, byKey: HashMap.HashMap<K, Entry<K, V>>, entry: Entry<K, V>) => {
  const queued = self.queued + 1
  const back: Cell<Entry<K, V>> = { head: entry, tail: self.back }
  if (queued <= 2 * HashMap.size(byKey) + 16) {
    return makeImpl(self.capacity, byKey, self.front, back, queued, entry.tick + 1)
  }
  const live = current(byKey, self.front, back)
  let front: Cell<Entry<K, V>> | null = null
  for (let i = live.length - 1; i >= 0; i--) front = { head: live[i]!, tail: front }
  return makeImpl(self.capacity, byKey, front, null, live.length, entry.tick + 1)
}

/** The least recently used current entry (there is one), and the queue without it or anything older. */
const dropOldest = <K, V>(
  self: LruImpl<K, V>,
  byKey: HashMap.HashMap<K, Entry<K, V>>
): readonly [Entry<K, V>, LruImpl<K, V>] => {
  let front = self.front
  let back = self.back
  let queued = self.queued
  for (;;) {
    if (front === null) {
      front = reverse(back)
      back = null
    }
    const entry = front!.head
    front = front!.tail
    queued--
    if (isCurrent(byKey, entry)) {
      return [entry, makeImpl(self.capacity, HashMap.remove(byKey, entry.key), front, back, queued, self.nextTick)]
    }
  }
}

const normalizeCapacity = (capacity: number): number =>
  Number.isNaN(capacity) || capacity <= 0 ? 0 : Math.floor(capacity)

/** @internal */
export const empty = <K, V>(capacity: number): Lru.Lru<K, V> =>
  makeImpl<K, V>(normalizeCapacity(capacity), HashMap.empty(), null, null, 0, 0)

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

/** Makes `key` the most recently used, holding `value`. */
const touch = <K, V>(self: LruImpl<K, V>, key: K, value: V): LruImpl<K, V> => {
  const next: Entry<K, V> = { key, value, tick: self.nextTick }
  return enqueue(self, HashMap.set(self.byKey, key, next), next)
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
  return [Option.some(entry.value), touch(impl, entry.key, entry.value)]
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
    const next = touch(impl, key, value)
    // The very value already held is only refreshed: disposing it would dispose what stays.
    return [old.value === value ? Option.none() : Option.some([old.key, old.value] as const), next]
  }
  if (impl.capacity === 0) return [Option.some([key, value] as const), self]
  const entry: Entry<K, V> = { key, value, tick: impl.nextTick }
  const byKey = HashMap.set(impl.byKey, key, entry)
  const stored = enqueue(impl, byKey, entry)
  if (HashMap.size(byKey) <= impl.capacity) return [Option.none(), stored]
  const [oldest, next] = dropOldest(stored, byKey)
  return [Option.some([oldest.key, oldest.value] as const), next]
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
  const byKey = HashMap.remove(impl.byKey, entry.key)
  // The removed entry stays queued, no longer current; an empty container starts afresh.
  return [
    Option.some(entry.value),
    HashMap.size(byKey) === 0
      ? makeImpl(impl.capacity, byKey, null, null, 0, impl.nextTick)
      : makeImpl(impl.capacity, byKey, impl.front, impl.back, impl.queued, impl.nextTick)
  ]
})

/** @internal */
export const entries = <K, V>(self: Lru.Lru<K, V>): Array<readonly [K, V]> => Array.from(self)

/** @internal */
export const keys = <K, V>(self: Lru.Lru<K, V>): Array<K> => currentOf(self as LruImpl<K, V>).map((entry) => entry.key)

/** @internal */
export const values = <K, V>(self: Lru.Lru<K, V>): Array<V> =>
  currentOf(self as LruImpl<K, V>).map((entry) => entry.value)

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
