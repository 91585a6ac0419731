import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as ConnectionLimit from "../ConnectionLimit.js"
import { EmptyPoolError, type PoolInfo } from "../Errors.js"
import type * as leasing from "./leasing.js"
import * as Metrics from "./metrics.js"

/**
 * A request of some pool waiting for a place under the cap. It joins the queue in the same
 * synchronous step that found no place, so no place can free up unseen in between.
 */
interface Waiter {
  /** The pool it waits for, and whether it may be handed an idle connection of that pool. */
  readonly pool: PoolInfo
  readonly reuse: boolean
  /** A place was handed to this waiter; `closeFirst` closes the idle connection it came from. */
  granted: boolean
  closeFirst: Effect.Effect<void>
  /** Or a connection of its own pool that went idle, handed over with its place. */
  handed: leasing.Slot | null
  /**
   * The waiting fiber's `resume` once it is suspended; null before that. Kept as it is rather
   * than wrapped: V8 puts a function literal stored into a property in the old generation.
   */
  wake: ((effect: Effect.Effect<void>) => void) | null
}

/** A new place, no connection handed over. */
const newPlace: Effect.Effect<leasing.Slot | null> = Effect.succeed(null)

/** @internal */
export const ConnectionLimitTypeId: ConnectionLimit.TypeId = Symbol.for(
  "@httpool/core/ConnectionLimit"
) as ConnectionLimit.TypeId

/** The shared limit and the limiter each pool of it is given. @internal */
export interface Limit extends ConnectionLimit.ConnectionLimit {
  readonly limiter: leasing.Limiter
}

const emptyError = (pool: PoolInfo, max: number) =>
  new EmptyPoolError({
    pool,
    reason: `No connection left under maxTotalConnections (${max}) and none freed up in time.`
  })

/**
 * A cap on connections across pools. Its state (places given, waiters, idle connections by
 * last use) is plain data touched only in synchronous steps of the pools that share it, as a
 * pool's own leasing is: a place is taken, handed on or given back in the same step that
 * decides it, so a place freed while a request joins the queue cannot be missed.
 *
 * - `acquire`: a free place, or the place of the least recently used idle connection of any
 *   pool sharing the cap (closed by the caller before it opens its own), or a wait in one
 *   queue for all pools, first come first served, up to the request's poolTimeout.
 * - `release`: a connection closed; its place goes to the oldest waiter, or is free.
 * - `parked` / `unparked`: a connection went idle in its pool / left the idle list. While
 *   requests wait, a connection that goes idle goes to the oldest waiter at once: reused
 *   when that waiter is of the same pool, otherwise closed and its place handed over; so no
 *   connection sits idle while a request waits for a place.
 *
 * @internal
 */
export const unsafeMake = (max: number): Limit => {
  /** Places given: connections open or being opened under the cap. */
  let open = 0
  const waiters: Array<Waiter> = []
  /**
   * Idle connections of the pools sharing the cap, least recently parked first (a Map keeps
   * insertion order), each with the function of its pool that takes it out and closes it.
   */
  const idle = new Map<leasing.Slot, (slot: leasing.Slot) => Effect.Effect<void>>()

  const grant = (waiter: Waiter, closeFirst: Effect.Effect<void>, handed: leasing.Slot | null) => {
    waiter.granted = true
    waiter.closeFirst = closeFirst
    waiter.handed = handed
    Metrics.limitWaiters(-1)
    if (waiter.wake !== null) waiter.wake(Effect.void)
  }

  /** A connection under the cap closed: its place goes to the oldest waiter, or is free. */
  const handOn = () => {
    const waiter = waiters.shift()
    if (waiter !== undefined) return grant(waiter, Effect.void, null)
    open--
    Metrics.limitOpened(-1)
  }

  /** Takes the least recently used idle connection out of its pool: its place is the caller's. */
  const evictOldest = (): Effect.Effect<void> | null => {
    for (const [slot, evict] of idle) {
      idle.delete(slot)
      return evict(slot)
    }
    return null
  }

  const waitFor = (waiter: Waiter, poolTimeout: number | null, pool: PoolInfo): Effect.Effect<void, EmptyPoolError> => {
    const wait = Effect.async<void>((resume) => {
      if (waiter.granted) return resume(Effect.void)
      waiter.wake = resume
    })
    return poolTimeout === null
      ? wait
      : Effect.timeoutFail(wait, { duration: Duration.millis(poolTimeout), onTimeout: () => emptyError(pool, max) })
  }

  const acquire: leasing.Limiter["acquire"] = (restore, poolTimeout, pool, reuse) =>
    Effect.suspend((): Effect.Effect<leasing.Slot | null, EmptyPoolError> => {
      if (waiters.length === 0) {
        if (open < max) {
          open++
          Metrics.limitOpened(1)
          return newPlace
        }
        const evicted = evictOldest()
        if (evicted !== null) return Effect.as(evicted, null)
      }
      const waiter: Waiter = { pool, reuse, granted: false, closeFirst: Effect.void, handed: null, wake: null }
      waiters.push(waiter)
      Metrics.limitWaiters(1)
      // Runs uninterruptibly (the pool's mask): whatever ended the wait, a place handed to
      // this waiter is either taken or passed on, never lost.
      const granted = () => Effect.as(waiter.closeFirst, waiter.handed)
      return Effect.matchCauseEffect(restore(waitFor(waiter, poolTimeout, pool)), {
        onSuccess: granted,
        onFailure: (cause) => {
          if (waiter.granted) {
            // The place came as the poolTimeout ran out: take it after all.
            if (!Cause.isInterrupted(cause)) return granted()
            // Interrupted: the connection it came with is closed all the same, and the place passed on.
            return Effect.zipRight(
              waiter.handed === null ? waiter.closeFirst : waiter.handed.connection.close,
              Effect.suspend(() => {
                handOn()
                return Effect.failCause(cause)
              })
            )
          }
          const at = waiters.indexOf(waiter)
          if (at >= 0) {
            waiters.splice(at, 1)
            Metrics.limitWaiters(-1)
          }
          return Effect.failCause(cause)
        }
      })
    })

  const limiter: leasing.Limiter = {
    acquire,
    release: handOn,
    parked: (slot, evict, pool) => {
      const waiter = waiters.shift()
      if (waiter === undefined) {
        idle.set(slot, evict)
        return false
      }
      if (waiter.pool === pool && waiter.reuse) grant(waiter, Effect.void, slot)
      else grant(waiter, evict(slot), null)
      return true
    },
    unparked: (slot) => {
      idle.delete(slot)
    }
  }

  return {
    [ConnectionLimitTypeId]: ConnectionLimitTypeId,
    max,
    limiter,
    stats: Effect.sync(() => ({ max, open, idle: idle.size, waiting: waiters.length }))
  }
}

/** A cap as given: a number is rounded down, at least 1; null, absent or Infinity is no cap. @internal */
export const normalize = (max: number | null | undefined): number | null =>
  max === null || max === undefined || Number.isNaN(max) || max === Number.POSITIVE_INFINITY
    ? null
    : Math.max(1, Math.floor(max))

/** @internal */
export const make = (max: number): Effect.Effect<ConnectionLimit.ConnectionLimit> =>
  Effect.sync(() => unsafeMake(normalize(max) ?? Number.MAX_SAFE_INTEGER))

/** The cap of a manager's `maxTotalConnections`, or null for none. @internal */
export const fromOption = (max: number | null | undefined): Limit | null => {
  const normalized = normalize(max)
  return normalized === null ? null : unsafeMake(normalized)
}

/** The limiter of a limit made here. @internal */
export const limiterOf = (limit: ConnectionLimit.ConnectionLimit): leasing.Limiter => (limit as Limit).limiter
