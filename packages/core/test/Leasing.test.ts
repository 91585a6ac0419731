import type * as Connector from "@httpool/core/Connector"
import { EmptyPoolError } from "@httpool/core/Errors"
import * as leasing from "../src/internal/leasing.js"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

/** A connection that only counts being closed. */
const connection = (id: number, closed: Array<number>): Connector.Connection => ({
  id,
  send: () => Effect.die("not sent"),
  isConnected: () => true,
  close: Effect.sync(() => {
    closed.push(id)
  })
})

/** A limiter of `cap` connections across pools, waiting in arrival order. */
const capped = (cap: number) => {
  let open = 0
  const waiters: Array<() => void> = []
  const limiter: leasing.Limiter = {
    acquire: (restore, poolTimeout) =>
      Effect.suspend(() => {
        if (open < cap) {
          open++
          return Effect.succeed(null)
        }
        const wait = Effect.async<null>((resume) => {
          const wake = () => {
            open++
            resume(Effect.succeed(null))
          }
          waiters.push(wake)
          return Effect.sync(() => {
            const at = waiters.indexOf(wake)
            if (at >= 0) waiters.splice(at, 1)
          })
        })
        return restore(
          poolTimeout === null
            ? wait
            : Effect.timeoutFail(wait, {
                duration: Duration.millis(poolTimeout),
                onTimeout: () =>
                  new EmptyPoolError({
                    pool: { scheme: "http", host: "cap", port: null },
                    reason: "No connection left under the cap."
                  })
              })
        )
      }),
    release: () => {
      open--
      waiters.shift()?.()
    }
  }
  return { limiter, open: () => open }
}

describe("leasing with a limiter shared by pools", () => {
  it.live("a pool waits for a connection another pool closes, and gives its place back on failure", () =>
    Effect.gen(function* () {
      const closed: Array<number> = []
      const cap = capped(1)
      let next = 0
      const make = (host: string) =>
        leasing.make({
          pool: { scheme: "http", host, port: 80 },
          maxsize: 1,
          block: false,
          maxConnectionAge: null,
          open: () => connection(++next, closed),
          limiter: cap.limiter
        })
      const a = yield* make("a")
      const b = yield* make("b")
      const first = yield* Effect.uninterruptibleMask((restore) => a.acquire(restore, null, false))
      expect(cap.open()).toBe(1)
      // No place left: b's acquire waits, and a timed one fails without keeping a slot.
      const timedOut = yield* Effect.flip(Effect.uninterruptibleMask((restore) => b.acquire(restore, 20, false)))
      expect(timedOut._tag).toBe("EmptyPoolError")
      expect(yield* b.inUseCount).toBe(0)
      const started = yield* Deferred.make<void>()
      const waiting = yield* Effect.fork(
        Effect.uninterruptibleMask((restore) =>
          Effect.zipRight(Deferred.succeed(started, undefined), b.acquire(restore, null, false))
        )
      )
      yield* Deferred.await(started)
      // a's connection goes back idle: still open, still counted.
      yield* a.release(first, true)
      expect(cap.open()).toBe(1)
      // Closing a closes its idle connection: b gets the place.
      yield* a.close
      const second = yield* Fiber.join(waiting)
      expect(second.slot.connection.id).toBe(2)
      expect(closed).toEqual([1])
      yield* b.release(second, false)
      expect(closed).toEqual([1, 2])
      expect(cap.open()).toBe(0)
    })
  )
})

describe("leasing in block mode", () => {
  const blocking = (closed: Array<number>, maxsize = 1) => {
    let next = 0
    return leasing.make({
      pool: { scheme: "http", host: "h", port: 80 },
      maxsize,
      block: true,
      maxConnectionAge: null,
      open: () => connection(++next, closed)
    })
  }
  const acquire = (leases: leasing.Leasing, poolTimeout: number | null = null) =>
    Effect.uninterruptibleMask((restore) => leases.acquire(restore, poolTimeout, false))
  /**
   * Waits, on no clock, until `fiber` is blocked (for `acquire`: queued as a waiter) or done.
   * The signal tests wait on instead of a fixed sleep.
   */
  const untilBlocked = <A, E>(fiber: Fiber.RuntimeFiber<A, E>): Effect.Effect<void> =>
    Effect.flatMap(Fiber.status(fiber), (status) =>
      status._tag === "Running" ? Effect.zipRight(Effect.yieldNow(), untilBlocked(fiber)) : Effect.void
    )

  it.live("a waiter is served before fibers that loop on the pool take the slot again (first come, first served)", () =>
    Effect.gen(function* () {
      const leases = yield* blocking([])
      let served = 0
      let stop = false
      // Two fibers take the slot, wait for the event loop (as a request does), give it back, and
      // take it again at once.
      const io = Effect.async<void>((resume) => {
        setImmediate(() => resume(Effect.void))
      })
      // Completed once the loopers have gone round a few times: the waiter arrives among them.
      const looping = yield* Deferred.make<void>()
      const loop = Effect.gen(function* () {
        while (!stop && served < 20_000) {
          const lease = yield* acquire(leases)
          yield* io
          served++
          if (served === 20) yield* Deferred.succeed(looping, undefined)
          yield* leases.release(lease, true)
        }
      })
      const loopers = yield* Effect.forkAll([loop, loop])
      yield* Deferred.await(looping)
      const before = served
      const lease = yield* acquire(leases, 2000)
      const ahead = served - before
      stop = true
      yield* leases.release(lease, true)
      yield* Fiber.join(loopers)
      // Ahead of the waiter: at most the looper holding the slot and the one already waiting.
      expect(ahead).toBeLessThanOrEqual(2)
      expect(yield* leases.inUseCount).toBe(0)
    })
  )

  it.live(
    "waiters are served in arrival order; one that gives up leaves the queue; a newcomer queues behind them",
    () =>
      Effect.gen(function* () {
        const leases = yield* blocking([])
        const held = yield* acquire(leases)
        const order: Array<string> = []
        const waiter = (name: string) =>
          Effect.fork(
            Effect.gen(function* () {
              const lease = yield* acquire(leases)
              order.push(name)
              yield* Effect.yieldNow()
              yield* leases.release(lease, true)
            })
          )
        // Each waiter is queued before the next one comes.
        const a = yield* waiter("a")
        yield* untilBlocked(a)
        const b = yield* waiter("b")
        yield* untilBlocked(b)
        const c = yield* waiter("c")
        yield* untilBlocked(c)
        // b gives up while waiting. The holder gives the slot back and asks again at once: it
        // queues behind a and c instead of taking the slot a was woken for.
        yield* Fiber.interrupt(b)
        const again = yield* Effect.zipRight(leases.release(held, true), acquire(leases, 1000))
        order.push("again")
        yield* leases.release(again, true)
        yield* Fiber.join(a)
        yield* Fiber.join(c)
        expect(order).toEqual(["a", "c", "again"])
        expect(yield* leases.inUseCount).toBe(0)
        expect(yield* leases.idleCount).toBe(1)
      })
  )

  it.live("a waiter woken for a slot and interrupted before taking it gives the slot to the next waiter", () =>
    Effect.gen(function* () {
      const leases = yield* blocking([])
      const held = yield* acquire(leases)
      const first = yield* Effect.fork(acquire(leases))
      yield* untilBlocked(first)
      const second = yield* Effect.fork(acquire(leases, 2000))
      yield* untilBlocked(second)
      // Release and interrupt in one synchronous step: the slot is handed to `first` as it dies.
      yield* Effect.zipRight(leases.release(held, true), Fiber.interrupt(first))
      const lease = yield* Fiber.join(second)
      expect(lease.slot.connection.id).toBe(1)
      yield* leases.release(lease, true)
      expect(yield* leases.inUseCount).toBe(0)
    })
  )

  it.live("a waiter that times out leaves no slot reserved, and closing wakes every waiter with ClosedPoolError", () =>
    Effect.gen(function* () {
      const leases = yield* blocking([], 1)
      const held = yield* acquire(leases)
      const timedOut = yield* Effect.flip(acquire(leases, 20))
      expect(timedOut._tag).toBe("EmptyPoolError")
      const waiting = yield* Effect.fork(acquire(leases))
      yield* untilBlocked(waiting)
      yield* leases.close
      const closedError = yield* Effect.flip(Fiber.join(waiting))
      expect(closedError._tag).toBe("ClosedPoolError")
      yield* leases.release(held, true)
      expect(yield* leases.inUseCount).toBe(0)
    })
  )
})

describe("closing a pool", () => {
  it.live("closes the leased connections now; their leases still come back and free the limiter once each", () =>
    Effect.gen(function* () {
      const closed: Array<number> = []
      const cap = capped(3)
      let next = 0
      const leases = yield* leasing.make({
        pool: { scheme: "http", host: "a", port: 80 },
        maxsize: 3,
        block: false,
        maxConnectionAge: null,
        open: () => connection(++next, closed),
        limiter: cap.limiter
      })
      const take = Effect.uninterruptibleMask((restore) => leases.acquire(restore, null, false))
      const first = yield* take
      const second = yield* take
      const third = yield* take
      yield* leases.release(third, true)
      expect(cap.open()).toBe(3)
      yield* leases.close
      // The idle one and both in use.
      expect([...closed].sort()).toEqual([1, 2, 3])
      closed.length = 0
      // In-use places stay taken until their leases come back.
      expect(cap.open()).toBe(2)
      yield* leases.release(first, true)
      const rest = leases.releaseNow(second, true)
      expect(rest).not.toBeNull()
      if (rest !== null) yield* rest
      expect(cap.open()).toBe(0)
      // Given back to a closed pool, they are closed (again: closing is idempotent).
      expect([...closed].sort()).toEqual([1, 2])
      expect(yield* leases.inUseCount).toBe(0)
      expect(yield* leases.idleCount).toBe(0)
    })
  )
})
