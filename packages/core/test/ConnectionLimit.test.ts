import type * as Connector from "@httpool/core/Connector"
import * as ConnectionLimit from "@httpool/core/ConnectionLimit"
import * as connectionLimit from "../src/internal/connectionLimit.js"
import * as leasing from "../src/internal/leasing.js"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

/** Connections numbered in the order they are opened, recording which were closed. */
const world = () => {
  let next = 0
  const closed: Array<number> = []
  const open = (): Connector.Connection => {
    const id = ++next
    return {
      id,
      send: () => Effect.die("not sent"),
      isConnected: () => !closed.includes(id),
      close: Effect.sync(() => {
        closed.push(id)
      })
    }
  }
  return { closed, open, opened: () => next }
}

const poolOf = (
  w: ReturnType<typeof world>,
  limit: connectionLimit.Limit,
  host: string,
  options: { readonly maxsize?: number; readonly block?: boolean } = {}
) =>
  leasing.unsafeMake({
    pool: { scheme: "http", host, port: 80 },
    maxsize: options.maxsize ?? 4,
    block: options.block ?? false,
    maxConnectionAge: null,
    open: w.open,
    limiter: limit.limiter
  })

const acquire = (pool: leasing.Leasing, poolTimeout: number | null = null) =>
  Effect.uninterruptibleMask((restore) => pool.acquire(restore, poolTimeout, false))

/** Starts an acquire and returns once it waits under the cap (`waiting` grew to `expected`). */
const waitingAcquire = (limit: connectionLimit.Limit, pool: leasing.Leasing, expected: number) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(acquire(pool))
    while ((yield* limit.stats).waiting < expected) yield* Effect.yieldNow()
    return fiber
  })

const idOf = (lease: leasing.Lease) => lease.slot.connection.id

describe("ConnectionLimit", () => {
  it.effect("make rounds the cap down, at least 1", () =>
    Effect.gen(function* () {
      expect((yield* ConnectionLimit.make(3.7)).max).toBe(3)
      expect((yield* ConnectionLimit.make(0)).max).toBe(1)
      expect(connectionLimit.fromOption(null)).toBeNull()
      expect(connectionLimit.fromOption(Number.POSITIVE_INFINITY)).toBeNull()
    })
  )

  it.effect("never opens more than the cap across pools", () =>
    Effect.gen(function* () {
      const w = world()
      const limit = connectionLimit.unsafeMake(2)
      const a = poolOf(w, limit, "a")
      const b = poolOf(w, limit, "b")
      yield* acquire(a)
      yield* acquire(b)
      expect(yield* limit.stats).toEqual({ max: 2, open: 2, idle: 0, waiting: 0 })
      const third = yield* waitingAcquire(limit, a, 1)
      expect(w.opened()).toBe(2)
      yield* Fiber.interrupt(third)
    })
  )

  it.effect("serves waiters of different pools first come, first served", () =>
    Effect.gen(function* () {
      const w = world()
      const limit = connectionLimit.unsafeMake(1)
      const pools = ["a", "b", "c", "d"].map((host) => poolOf(w, limit, host))
      const first = yield* acquire(pools[0])
      const served: Array<string> = []
      const fibers: Array<Fiber.RuntimeFiber<leasing.Lease, unknown>> = []
      // d, then b, then c, then a again wait for the one place.
      for (const [i, n] of [3, 1, 2, 0].entries()) {
        const pool = pools[n]
        fibers.push(
          yield* waitingAcquire(
            limit,
            {
              ...pool,
              acquire: (restore, timeout, fresh) =>
                Effect.tap(pool.acquire(restore, timeout, fresh), () => served.push("abcd"[n]))
            },
            i + 1
          )
        )
      }
      let lease = first
      let owner = pools[0]
      for (const [i, n] of [3, 1, 2, 0].entries()) {
        // Each connection closes (not reusable): its place goes to the oldest waiter.
        yield* owner.release(lease, false)
        lease = yield* Fiber.join(fibers[i])
        owner = pools[n]
      }
      expect(served).toEqual(["d", "b", "c", "a"])
      yield* owner.release(lease, false)
      expect(yield* limit.stats).toEqual({ max: 1, open: 0, idle: 0, waiting: 0 })
    })
  )

  it.live("fails with EmptyPoolError when no place frees up within poolTimeout, keeping nothing", () =>
    Effect.gen(function* () {
      const w = world()
      const limit = connectionLimit.unsafeMake(1)
      const a = poolOf(w, limit, "a")
      const b = poolOf(w, limit, "b")
      yield* acquire(a)
      const error = yield* Effect.flip(acquire(b, 20))
      expect(error._tag).toBe("EmptyPoolError")
      expect(error.pool.host).toBe("b")
      expect(error.message).toContain("maxTotalConnections (1)")
      expect(yield* limit.stats).toEqual({ max: 1, open: 1, idle: 0, waiting: 0 })
      expect(yield* b.inUseCount).toBe(0)
      expect(w.opened()).toBe(1)
    })
  )

  it.effect("closes the least recently used idle connection of another pool to make room", () =>
    Effect.gen(function* () {
      const w = world()
      const limit = connectionLimit.unsafeMake(2)
      const a = poolOf(w, limit, "a")
      const b = poolOf(w, limit, "b")
      const c = poolOf(w, limit, "c")
      const fromA = yield* acquire(a)
      const fromB = yield* acquire(b)
      yield* a.release(fromA, true)
      yield* b.release(fromB, true)
      expect(yield* limit.stats).toEqual({ max: 2, open: 2, idle: 2, waiting: 0 })
      // a's connection went idle first: it makes room for c.
      const fromC = yield* acquire(c)
      expect(idOf(fromC)).toBe(3)
      expect(w.closed).toEqual([1])
      expect(yield* a.idleCount).toBe(0)
      expect(yield* b.idleCount).toBe(1)
      expect(yield* limit.stats).toEqual({ max: 2, open: 2, idle: 1, waiting: 0 })
      // b reuses its own idle connection without touching the cap.
      const again = yield* acquire(b)
      expect(idOf(again)).toBe(2)
      expect(yield* limit.stats).toEqual({ max: 2, open: 2, idle: 0, waiting: 0 })
    })
  )

  it.effect("a connection that goes idle while a request waits is closed and its place handed on", () =>
    Effect.gen(function* () {
      const w = world()
      const limit = connectionLimit.unsafeMake(1)
      const a = poolOf(w, limit, "a")
      const b = poolOf(w, limit, "b")
      const fromA = yield* acquire(a)
      const waiting = yield* waitingAcquire(limit, b, 1)
      yield* a.release(fromA, true)
      const fromB = yield* Fiber.join(waiting)
      expect(idOf(fromB)).toBe(2)
      expect(w.closed).toEqual([1])
      expect(yield* a.idleCount).toBe(0)
      expect(yield* limit.stats).toEqual({ max: 1, open: 1, idle: 0, waiting: 0 })
    })
  )

  it.effect("a connection that goes idle while a request of its own pool waits is handed to it, not reopened", () =>
    Effect.gen(function* () {
      const w = world()
      const limit = connectionLimit.unsafeMake(1)
      const a = poolOf(w, limit, "a")
      const first = yield* acquire(a)
      const waiting = yield* waitingAcquire(limit, a, 1)
      yield* a.release(first, true)
      const second = yield* Fiber.join(waiting)
      expect(idOf(second)).toBe(1)
      expect(second.reused).toBe(true)
      expect(w.closed).toEqual([])
      expect(w.opened()).toBe(1)
      expect(yield* a.inUseCount).toBe(1)
      expect(yield* a.idleCount).toBe(0)
      expect(yield* limit.stats).toEqual({ max: 1, open: 1, idle: 0, waiting: 0 })
    })
  )

  it.effect("the oldest waiter comes first even when a younger one could reuse the connection", () =>
    Effect.gen(function* () {
      const w = world()
      const limit = connectionLimit.unsafeMake(1)
      const a = poolOf(w, limit, "a")
      const b = poolOf(w, limit, "b")
      const fromA = yield* acquire(a)
      const forB = yield* waitingAcquire(limit, b, 1)
      const forA = yield* waitingAcquire(limit, a, 2)
      // a's connection goes idle: b waited longest, so it is closed for b.
      yield* a.release(fromA, true)
      const fromB = yield* Fiber.join(forB)
      expect(idOf(fromB)).toBe(2)
      expect(w.closed).toEqual([1])
      expect(yield* limit.stats).toEqual({ max: 1, open: 1, idle: 0, waiting: 1 })
      // Then b's goes idle and is closed for a's request.
      yield* b.release(fromB, true)
      const again = yield* Fiber.join(forA)
      expect(idOf(again)).toBe(3)
      expect(w.closed).toEqual([1, 2])
    })
  )

  it.effect("an interrupted waiter leaves the queue and takes no place", () =>
    Effect.gen(function* () {
      const w = world()
      const limit = connectionLimit.unsafeMake(1)
      const a = poolOf(w, limit, "a")
      const b = poolOf(w, limit, "b")
      const c = poolOf(w, limit, "c")
      const fromA = yield* acquire(a)
      const first = yield* waitingAcquire(limit, b, 1)
      const second = yield* waitingAcquire(limit, c, 2)
      yield* Fiber.interrupt(first)
      expect(yield* limit.stats).toEqual({ max: 1, open: 1, idle: 0, waiting: 1 })
      expect(yield* b.inUseCount).toBe(0)
      // The place goes to the waiter still there.
      yield* a.release(fromA, false)
      const fromC = yield* Fiber.join(second)
      expect(idOf(fromC)).toBe(2)
      yield* c.release(fromC, false)
      expect(yield* limit.stats).toEqual({ max: 1, open: 0, idle: 0, waiting: 0 })
      expect(w.opened()).toBe(2)
    })
  )

  it.effect(
    "a pool closed while its request waits fails it with ClosedPoolError once granted, and the place passes on",
    () =>
      Effect.gen(function* () {
        const w = world()
        const limit = connectionLimit.unsafeMake(1)
        const a = poolOf(w, limit, "a")
        const b = poolOf(w, limit, "b")
        const fromA = yield* acquire(a)
        const waiting = yield* waitingAcquire(limit, b, 1)
        yield* b.close
        yield* a.release(fromA, false)
        const exit = yield* Fiber.await(waiting)
        expect(exit._tag).toBe("Failure")
        expect(String(exit)).toContain("ClosedPoolError")
        expect(yield* limit.stats).toEqual({ max: 1, open: 0, idle: 0, waiting: 0 })
        expect(w.opened()).toBe(1)
      })
  )

  it.effect("closing a pool frees its places, idle ones included", () =>
    Effect.gen(function* () {
      const w = world()
      const limit = connectionLimit.unsafeMake(3)
      const a = poolOf(w, limit, "a")
      const one = yield* acquire(a)
      const two = yield* acquire(a)
      yield* a.release(one, true)
      expect(yield* limit.stats).toEqual({ max: 3, open: 2, idle: 1, waiting: 0 })
      yield* a.close
      yield* a.release(two, true)
      expect(yield* limit.stats).toEqual({ max: 3, open: 0, idle: 0, waiting: 0 })
      expect([...new Set(w.closed)].sort()).toEqual([1, 2])
    })
  )
})
