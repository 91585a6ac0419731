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
          return Effect.void
        }
        const wait = Effect.async<void>((resume) => {
          const wake = () => {
            open++
            resume(Effect.void)
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
