import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Connector from "../Connector.js"
import { logAnnotations } from "./errors.js"
import { record } from "./record.js"
import { ClosedPoolError, EmptyPoolError, type PoolInfo } from "../Errors.js"

/**
 * A connection together with what the pool knows about it.
 *
 * @internal
 */
export interface Slot {
  readonly connection: Connector.Connection
  readonly createdAt: number
  /** Requests this connection has carried before the current lease. */
  uses: number
  /** Where the slot is in its pool's list of leased slots; -1 when it is not leased. */
  leasedAt: number
}

const newSlot = (connection: Connector.Connection, createdAt: number): Slot =>
  record({ connection, createdAt, uses: 0, leasedAt: -1 })

/**
 * The slots leased right now, in an array: each knows its place, so adding and removing one
 * costs no allocation. (A `Set` would do, but V8 makes a new table as a small Set grows and
 * shrinks, every request, and each old table links to its successor: once one is old, the
 * whole chain, with everything its entries reach, outlives every young collection.)
 */
class LeasedSlots {
  private readonly slots: Array<Slot> = Array.of()
  get size(): number {
    return this.slots.length
  }
  add(slot: Slot): void {
    if (slot.leasedAt !== -1) return
    slot.leasedAt = this.slots.length
    this.slots.push(slot)
  }
  delete(slot: Slot): void {
    const at = slot.leasedAt
    if (at === -1) return
    slot.leasedAt = -1
    const last = this.slots.pop()!
    if (last !== slot) {
      this.slots[at] = last
      last.leasedAt = at
    }
  }
  toArray(): Array<Slot> {
    return this.slots.slice()
  }
}

/**
 * A connection handed to one request. `reused` says whether it had carried a request
 * before and still had its socket open at checkout: only then can a failure before any
 * response byte be blamed on the server closing an idle connection. `waitedMillis` is how
 * long the request waited for a free slot (block mode only; otherwise 0).
 *
 * @internal
 */
export interface Lease {
  readonly slot: Slot
  readonly reused: boolean
  readonly waitedMillis: number
}

/** A `Lease` (a class instance, as every record of a request: see request/attempt.ts). */
class LeaseOf implements Lease {
  constructor(
    readonly slot: Slot,
    readonly reused: boolean,
    readonly waitedMillis: number
  ) {}
}

/** Why a connection left the pool. @internal */
export type DiscardReason = "error" | "closed" | "full" | "expired" | "evicted"

/** What a pool's leasing reports as it goes (metrics hang off these). @internal */
export interface LeasingEvents {
  readonly onLease?: (lease: Lease) => void
  readonly onDiscard?: (reason: DiscardReason) => void
  /** Idle or in-use counts changed. */
  readonly onChange?: (idle: number, inUse: number) => void
}

/**
 * A limit on connections shared by several pools (a cap across a manager's pools): a pool
 * asks it before opening a connection and tells it when one closes. `acquire` may wait (made
 * interruptible by `restore`) and fails with `EmptyPoolError` when it cannot grant in time.
 * A pool also tells it which connections are idle, so that it can close the least recently
 * used one of any pool to make room (see `internal/connectionLimit.ts`).
 * Without one, a pool is limited by its own `maxsize` and `block` alone.
 *
 * @internal
 */
export interface Limiter {
  /**
   * A place for a new connection of `pool`: null, or, when `reuse` allows it, a connection of
   * that same pool that went idle while the request waited, handed over with its place.
   */
  readonly acquire: (
    restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>,
    poolTimeout: number | null,
    pool: PoolInfo,
    reuse: boolean
  ) => Effect.Effect<Slot | null, EmptyPoolError>
  /** A connection opened under the limit has closed. Never fails. */
  readonly release: () => void
  /**
   * A connection of `pool` is going idle. True: the limiter took it at once for a waiting
   * request (handed over, or taken out with `evict` to be closed), so the pool must not keep
   * it. False: it stays idle in its pool, and the limiter may later call `evict` (in a
   * synchronous step) to take it out; its place then passes to whoever the limiter gives it
   * to, who runs the returned effect to close it.
   */
  readonly parked?: (slot: Slot, evict: (slot: Slot) => Effect.Effect<void>, pool: PoolInfo) => boolean
  /** An idle connection left the idle list (taken or closed by its pool). */
  readonly unparked?: (slot: Slot) => void
}

/** @internal */
export interface LeasingOptions {
  readonly pool: PoolInfo
  readonly maxsize: number
  readonly block: boolean
  /** Milliseconds after which a connection is retired at checkout; null: never. */
  readonly maxConnectionAge: number | null
  readonly open: () => Connector.Connection
  readonly events?: LeasingEvents
  /** A limit shared with other pools; default none. */
  readonly limiter?: Limiter | undefined
}

/** @internal */
export interface Leasing {
  /**
   * Takes a connection: the most recently returned idle one, or a new one. With `block`,
   * waits up to `poolTimeout` milliseconds (null: forever) for one of `maxsize` slots, first
   * come first served.
   * `fresh` opens a new connection even when idle ones exist (used to replay a request
   * that failed on a stale one).
   * Call it uninterruptibly and pair it with `release`; it restores interruption only
   * while waiting.
   */
  readonly acquire: (
    restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>,
    poolTimeout: number | null,
    fresh: boolean
  ) => Effect.Effect<Lease, EmptyPoolError | ClosedPoolError>
  /** Gives a lease back: reusable connections go idle, others are closed. Never fails. */
  readonly release: (lease: Lease, reusable: boolean) => Effect.Effect<void>
  /**
   * `acquire` in one synchronous step when it needs no wait and no Effect (a slot is free, no
   * connection to retire first, and under a limiter an idle connection to take): the lease of
   * the most recently returned idle connection or of a new one, or null to go through `acquire`.
   */
  readonly tryAcquire: () => Lease | null
  /**
   * `release` in one synchronous step: the state is updated now, and what is left to do
   * (closing a connection that is not kept) is returned, or null when there is nothing.
   */
  readonly releaseNow: (lease: Lease, reusable: boolean) => Effect.Effect<void> | null
  /**
   * Closes idle connections and the leased ones (their requests fail) now; later acquires fail
   * with ClosedPoolError.
   */
  readonly close: Effect.Effect<void>
  readonly idleCount: Effect.Effect<number>
  readonly inUseCount: Effect.Effect<number>
}

/**
 * A request waiting for a slot of a blocking pool. It joins the queue in the same synchronous
 * step that found no slot free, so no slot can free up unseen in between.
 */
interface Waiter {
  /** A slot was handed to this waiter: it stays counted in use until the waiter takes it. */
  granted: boolean
  /** Granted a slot, or the pool closed: the waiting fiber may go on. */
  woken: boolean
  /**
   * The waiting fiber's `resume` once it is suspended; null before that. Kept as it is rather
   * than wrapped: V8 puts a function literal stored into a property in the old generation.
   */
  wake: ((effect: Effect.Effect<void>) => void) | null
}

const closeConnection = (slot: Slot): Effect.Effect<void> => slot.connection.close

/** No limit beyond the pool's own. */
const unlimited: Limiter = { acquire: () => Effect.succeed(null), release: () => {} }

const noEvents: LeasingEvents = {}

/**
 * The leases of one pool. Its state (idle connections, the count in use, the waiters for a
 * slot) is local to the pool and only touched inside single synchronous steps, so a
 * checkout or a return on a warm connection costs no fiber suspension at all: this is the
 * hot path of every request.
 *
 * @internal
 */
export const make = (options: LeasingOptions): Effect.Effect<Leasing> => Effect.sync(() => unsafeMake(options))

/** `make` as a synchronous step, for a pool built in one. @internal */
export const unsafeMake = (options: LeasingOptions): Leasing => {
  const { maxsize, block, maxConnectionAge } = options
  const events = options.events ?? noEvents
  const limiter = options.limiter ?? unlimited
  /** Idle connections, most recently returned last. */
  const idle: Array<Slot> = Array.of()
  let inUse = 0
  let closed = false
  /** Connections leased right now: closing the pool closes them under their requests. */
  const leased = new LeasedSlots()
  /**
   * Requests waiting for a slot (block mode), oldest first. First come, first served: a
   * slot given back goes to the oldest waiter directly (see `handOn`), and a request that
   * arrives while anyone waits queues behind them, so a fiber that releases and asks again
   * at once never takes the slot a waiter was woken for.
   */
  const waiters: Array<Waiter> = Array.of()

  const closedError = () => new ClosedPoolError({ pool: options.pool, reason: "Pool is closed." })
  const emptyError = () =>
    new EmptyPoolError({
      pool: options.pool,
      reason: "Pool is empty and a new connection can't be opened due to blocking mode."
    })
  const changed = () => events.onChange?.(idle.length, inUse)

  const wakeWaiter = (waiter: Waiter) => {
    waiter.woken = true
    if (waiter.wake !== null) waiter.wake(Effect.void)
  }

  /**
   * A slot was given back: it goes to the oldest waiter, staying counted in use (the waiter
   * takes it without checking again), or it is free when nobody waits.
   */
  const handOn = () => {
    const waiter = waiters.shift()
    if (waiter === undefined) {
      inUse--
      return
    }
    waiter.granted = true
    wakeWaiter(waiter)
  }

  /**
   * Closes connections that leave the pool, giving their places back to the limiter once
   * they are closed (so that a connection opened in their place never overlaps them).
   */
  const closeAll = (slots: ReadonlyArray<Slot>): Effect.Effect<void> => {
    if (slots.length === 0) return Effect.void
    for (let i = 0; i < slots.length; i++) limiter.unparked?.(slots[i])
    // One connection (an evicted pool's usual lot) is closed without `forEach`'s own steps.
    const closing =
      slots.length === 1 ? slots[0]!.connection.close : Effect.forEach(slots, closeConnection, { discard: true })
    if (limiter === unlimited) return closing
    return Effect.zipRight(
      closing,
      Effect.sync(() => {
        for (let i = 0; i < slots.length; i++) limiter.release()
      })
    )
  }
  const closeOne = (slot: Slot): Effect.Effect<void> =>
    limiter === unlimited ? slot.connection.close : Effect.zipRight(slot.connection.close, Effect.sync(limiter.release))
  /** The limiter takes an idle connection to make room: its place is the limiter's to give. */
  const evict = (slot: Slot): Effect.Effect<void> => {
    const at = idle.indexOf(slot)
    if (at >= 0) idle.splice(at, 1)
    events.onDiscard?.("evicted")
    changed()
    return slot.connection.close
  }

  /** Takes a connection for a slot already counted in use. */
  const checkout = (
    restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>,
    poolTimeout: number | null,
    fresh: boolean,
    waitedMillis: number
  ): Effect.Effect<Lease, EmptyPoolError | ClosedPoolError> => {
    let retired: Array<Slot> | null = null
    let slot: Slot | null = null
    const now = maxConnectionAge === null ? 0 : Date.now()
    while (!fresh && idle.length > 0) {
      const candidate = idle.pop()!
      limiter.unparked?.(candidate)
      if (maxConnectionAge !== null && now - candidate.createdAt >= maxConnectionAge) {
        ;(retired ??= []).push(candidate)
        events.onDiscard?.("expired")
      } else {
        slot = candidate
        break
      }
    }
    const retire = retired === null ? Effect.void : closeAll(retired)
    const reusedLease = (slot: Slot): Lease => {
      const lease: Lease = new LeaseOf(slot, slot.uses > 0 && slot.connection.isConnected(), waitedMillis)
      leased.add(slot)
      events.onLease?.(lease)
      changed()
      return lease
    }
    if (slot !== null) {
      const lease = reusedLease(slot)
      return retired === null ? Effect.succeed(lease) : Effect.as(retire, lease)
    }
    const opened = (): Lease => {
      const lease: Lease = new LeaseOf(newSlot(options.open(), now), false, waitedMillis)
      leased.add(lease.slot)
      events.onLease?.(lease)
      changed()
      return lease
    }
    if (limiter === unlimited) return retired === null ? Effect.sync(opened) : Effect.map(retire, opened)
    // A new connection needs the shared limiter's grant; without it the slot is given back.
    return Effect.zipRight(
      retire,
      // Failed or interrupted while waiting, the request gives its slot of this pool back.
      Effect.matchCauseEffect(limiter.acquire(restore, poolTimeout, options.pool, !fresh), {
        onFailure: (cause) =>
          Effect.suspend(() => {
            handOn()
            changed()
            return Effect.failCause(cause)
          }),
        onSuccess: (handed) => {
          if (!closed) return Effect.sync(() => (handed === null ? opened() : reusedLease(handed)))
          // Granted after the pool closed: the place (with a connection handed over) and the
          // slot are given back.
          handOn()
          changed()
          const giveBack = handed === null ? Effect.sync(limiter.release) : closeOne(handed)
          return Effect.zipRight(giveBack, Effect.fail(closedError()))
        }
      })
    )
  }

  /** Suspends until `waiter` is woken; with a poolTimeout, fails with EmptyPoolError after it. */
  const waitFor = (waiter: Waiter, poolTimeout: number | null): Effect.Effect<void, EmptyPoolError> => {
    const wait = Effect.async<void>((resume) => {
      if (waiter.woken) return resume(Effect.void)
      waiter.wake = resume
    })
    return poolTimeout === null
      ? wait
      : Effect.timeoutFail(wait, { duration: Duration.millis(poolTimeout), onTimeout: emptyError })
  }

  const acquire: Leasing["acquire"] = (restore, poolTimeout, fresh) =>
    Effect.suspend((): Effect.Effect<Lease, EmptyPoolError | ClosedPoolError> => {
      if (closed) return Effect.fail(closedError())
      if (!block || (inUse < maxsize && waiters.length === 0)) {
        inUse++
        return checkout(restore, poolTimeout, fresh, 0)
      }
      const startedAt = Date.now()
      const waiter: Waiter = { granted: false, woken: false, wake: null }
      waiters.push(waiter)
      const granted = (): Effect.Effect<Lease, EmptyPoolError | ClosedPoolError> =>
        Effect.suspend((): Effect.Effect<Lease, EmptyPoolError | ClosedPoolError> => {
          if (!closed) return checkout(restore, poolTimeout, fresh, Math.max(0, Date.now() - startedAt))
          // Closed after the slot was handed over: give it back.
          handOn()
          changed()
          return Effect.fail(closedError())
        })
      // Runs uninterruptibly (the caller's mask): whatever ended the wait, a slot handed to
      // this waiter is either taken or passed on, never lost.
      return Effect.matchCauseEffect(restore(waitFor(waiter, poolTimeout)), {
        onSuccess: () => (waiter.granted ? granted() : Effect.fail(closedError())),
        onFailure: (cause) => {
          if (waiter.granted) {
            // The slot came as the poolTimeout ran out: take it after all.
            if (!Cause.isInterrupted(cause)) return granted()
            handOn()
            changed()
          } else {
            const at = waiters.indexOf(waiter)
            if (at >= 0) waiters.splice(at, 1)
          }
          return Effect.failCause(cause)
        }
      })
    })

  const tryAcquire: Leasing["tryAcquire"] = () => {
    // In block mode a newcomer never passes a waiter (first come, first served): while anyone
    // waits every slot is counted in use, handed-over ones included; the second test is a guard.
    if (closed || (block && (inUse >= maxsize || waiters.length > 0))) return null
    const top = idle.length === 0 ? null : idle[idle.length - 1]!
    if (top !== null && maxConnectionAge !== null && Date.now() - top.createdAt >= maxConnectionAge) return null
    let lease: Lease
    if (top === null) {
      // No idle connection: a new one, opened in this step too (under a limiter, only through `acquire`).
      if (limiter !== unlimited) return null
      const createdAt = maxConnectionAge === null ? 0 : Date.now()
      lease = new LeaseOf(newSlot(options.open(), createdAt), false, 0)
    } else {
      idle.pop()
      limiter.unparked?.(top)
      lease = new LeaseOf(top, top.uses > 0 && top.connection.isConnected(), 0)
    }
    inUse++
    leased.add(lease.slot)
    events.onLease?.(lease)
    changed()
    return lease
  }

  const releaseNow: Leasing["releaseNow"] = (lease, reusable) => {
    if (reusable && !closed && idle.length < maxsize) {
      leased.delete(lease.slot)
      lease.slot.uses++
      if (waiters.length > 0 || limiter.parked?.(lease.slot, evict, options.pool) !== true) idle.push(lease.slot)
      handOn()
      changed()
      return null
    }
    return release(lease, reusable)
  }

  const release: Leasing["release"] = (lease, reusable) =>
    Effect.suspend(() => {
      leased.delete(lease.slot)
      let reason: DiscardReason | null = null
      if (!reusable) reason = "error"
      else if (closed) reason = "closed"
      else if (idle.length >= maxsize) reason = "full"
      if (reason === null) {
        lease.slot.uses++
        if (waiters.length > 0 || limiter.parked?.(lease.slot, evict, options.pool) !== true) idle.push(lease.slot)
        handOn()
        changed()
        return Effect.void
      }
      events.onDiscard?.(reason)
      handOn()
      changed()
      const close = closeOne(lease.slot)
      return reason === "full"
        ? Effect.zipRight(
            Effect.logDebug(
              `Connection pool is full, discarding connection: ${options.pool.host}. Connection pool size: ${maxsize}`
            ).pipe(Effect.annotateLogs(logAnnotations("pool.full", options.pool, { "httpool.pool.maxsize": maxsize }))),
            close
          )
        : close
    })

  const close = Effect.suspend(() => {
    closed = true
    const slots = idle.splice(0, idle.length)
    for (let i = 0; i < slots.length; i++) events.onDiscard?.("closed")
    changed()
    // Every waiter wakes to find the pool closed.
    while (waiters.length > 0) wakeWaiter(waiters.shift()!)
    // Connections in use are closed under their requests, which fail (ClosedPoolError) rather
    // than outlive the pool; each lease still comes back, and its release gives the
    // connection's place back to the limiter then.
    const inFlight = leased.size === 0 ? null : leased.toArray()
    const closeIdle = closeAll(slots)
    return inFlight === null
      ? closeIdle
      : Effect.zipRight(closeIdle, Effect.forEach(inFlight, closeConnection, { discard: true }))
  })

  return record({
    acquire,
    release,
    tryAcquire,
    releaseNow,
    close,
    idleCount: Effect.sync(() => idle.length),
    inUseCount: Effect.sync(() => inUse)
  })
}
