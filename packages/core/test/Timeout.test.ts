import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { pipe } from "effect/Function"
import * as Hash from "effect/Hash"
import * as fc from "fast-check"
import { ValueError } from "../src/Errors.js"
import * as Timeout from "../src/Timeout.js"

const seconds = (d: Duration.Duration | null): number | null => (d === null ? null : Duration.toSeconds(d))

const valid = (input?: Duration.DurationInput | Timeout.TimeoutOptions): Timeout.Timeout =>
  Either.getOrThrow(Timeout.make(input))

const failure = (input: unknown): ValueError => {
  const result = Timeout.make(input as Timeout.TimeoutOptions)
  if (Either.isRight(result)) throw new Error(`expected ${String(input)} to be rejected`)
  return result.left
}

describe("Timeout", () => {
  describe("make (item 70)", () => {
    it("takes total, connect and read, a plain number being seconds", () => {
      const t = valid({ total: 10, connect: 2.5, read: 7 })
      expect(seconds(t.total)).toBe(10)
      expect(seconds(t.connect)).toBe(2.5)
      expect(seconds(t.read)).toBe(7)
    })

    it("reads a single value as connect = read = t with no total, like urllib3's from_float", () => {
      const t = valid(5)
      expect(seconds(t.connect)).toBe(5)
      expect(seconds(t.read)).toBe(5)
      expect(t.total).toBeNull()
    })

    it("accepts Effect durations besides seconds", () => {
      const t = valid({ connect: "250 millis", read: Duration.minutes(1), total: [3, 0] })
      expect(Duration.toMillis(t.connect!)).toBe(250)
      expect(seconds(t.read)).toBe(60)
      expect(seconds(t.total)).toBe(3)
      expect(seconds(valid("2 seconds").read)).toBe(2)
    })

    it("leaves absent and null fields without a limit", () => {
      const t = valid({ connect: 1, read: null })
      expect(t.total).toBeNull()
      expect(t.read).toBeNull()
      expect(valid()).toStrictEqual(Timeout.NONE)
      expect(Equal.equals(valid({}), Timeout.NONE)).toBe(true)
    })

    it("compares and hashes by value, whatever unit the input used", () => {
      const a = valid(5)
      const b = valid({ connect: "5000 millis", read: Duration.nanos(5_000_000_000n) })
      expect(Equal.equals(a, b)).toBe(true)
      expect(Hash.hash(a)).toBe(Hash.hash(b))
      expect(Equal.equals(a, valid({ connect: 5, read: 5, total: 5 }))).toBe(false)
      expect(Equal.equals(valid({ connect: 1 }), valid({ read: 1 }))).toBe(false)
    })

    it("is a value with pipe and a readable form", () => {
      const t = Timeout.unsafeMake({ total: 3 })
      expect(Timeout.isTimeout(t)).toBe(true)
      expect(Timeout.isTimeout({ total: null, connect: null, read: null })).toBe(false)
      expect(t.pipe(Timeout.connectTimeout)).toStrictEqual(t.total)
      expect(String(t)).toContain('"_id": "Timeout"')
      expect(JSON.parse(JSON.stringify(t))).toMatchObject({ _id: "Timeout", connect: null, read: null })
    })

    it.effect("is yieldable in Effect.gen, failing with the ValueError", () =>
      Effect.gen(function* () {
        const t = yield* Timeout.make({ read: 2 })
        expect(seconds(t.read)).toBe(2)
        const error = yield* Effect.flip(
          Effect.gen(function* () {
            return yield* Timeout.make({ read: -2 })
          })
        )
        expect(error).toBeInstanceOf(ValueError)
      })
    )
  })

  describe("validation (item 71)", () => {
    const fields = ["total", "connect", "read"] as const

    it.each(fields)("rejects values <= 0 for %s, naming the field", (field) => {
      for (const value of [0, -1, -0.5, Duration.zero, "-5 seconds", "0 millis"]) {
        const error = failure({ [field]: value })
        expect(error).toBeInstanceOf(ValueError)
        expect(error.message).toContain(`Timeout value ${field} was`)
        expect(error.message).toContain("must be greater than 0")
      }
    })

    it.each(fields)("rejects NaN, infinities, booleans and non-numbers for %s", (field) => {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [Number.NaN, "must be a positive number of seconds"],
        [Number.POSITIVE_INFINITY, "must be finite"],
        [Number.NEGATIVE_INFINITY, "must be greater than 0"],
        [Duration.infinity, "must be finite"],
        [true, "cannot be a boolean"],
        [false, "cannot be a boolean"],
        ["5", "must be a positive number of seconds"],
        ["soon", "must be a positive number of seconds"],
        [{}, "must be a positive number of seconds"],
        [[1], "must be a positive number of seconds"],
        [() => 1, "must be a positive number of seconds"],
        [Symbol.iterator, "must be a positive number of seconds"]
      ]
      for (const [value, problem] of cases) {
        const error = failure({ [field]: value })
        expect(error.message).toContain(`Timeout value ${field} was`)
        expect(error.message).toContain(problem)
      }
    })

    it("says what it was given", () => {
      expect(failure({ total: -1 }).message).toBe(
        "Timeout value total was -1, but a timeout must be greater than 0 (use null for no limit)."
      )
      expect(failure({ read: "5" }).message).toBe(
        'Timeout value read was "5", but it must be a positive number of seconds, a Duration, or null for no limit.'
      )
      expect(failure({ connect: true }).message).toBe(
        "Timeout value connect was true, but a timeout cannot be a boolean: it must be a positive number of seconds, a Duration, or null for no limit."
      )
    })

    it("names functions, symbols and unprintable objects in one line", () => {
      expect(failure({ read: function later() {} }).message).toContain("Timeout value read was [function later]")
      expect(failure({ read: Symbol.iterator }).message).toContain("Timeout value read was Symbol(Symbol.iterator)")
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      expect(failure({ read: cyclic }).message).toContain("Timeout value read was [object Object]")
      expect(failure({ read: { a: 1 } }).message).toContain('Timeout value read was {"a":1}')
    })

    it("checks a single value as the connect field first, as urllib3 does", () => {
      expect(failure(-1).message).toContain("Timeout value connect was -1")
      expect(failure(true).message).toContain("Timeout value connect was true")
    })

    it("accepts exactly the positive finite numbers of seconds", () => {
      fc.assert(
        fc.property(fc.double({ noNaN: true }), (value) => {
          const result = Timeout.make({ read: value })
          if (value >= 1e-9 && Number.isFinite(value * 1000)) {
            return (
              Either.isRight(result) && Math.abs(Duration.toSeconds(result.right.read!) - value) <= value * 1e-9 + 1e-9
            )
          }
          // Below a nanosecond the value rounds to zero or not; either way it is no real timeout.
          return (value > 0 && value < 1e-9) || Either.isLeft(result)
        })
      )
    })

    it("throws the ValueError from unsafeMake", () => {
      expect(() => Timeout.unsafeMake({ total: 0 })).toThrow(ValueError)
    })
  })

  describe("from", () => {
    const pool = Timeout.unsafeMake(10)

    it("uses the fallback when the option is absent, and no limits for null", () => {
      expect(Timeout.from(undefined, pool)).toStrictEqual(Either.right(pool))
      const none = Either.getOrThrow(Timeout.from(null, pool))
      expect(none).toBe(Timeout.NONE)
      expect([none.total, none.connect, none.read]).toStrictEqual([null, null, null])
    })

    it("returns a Timeout that sets every field as is and builds one from anything else", () => {
      const t = Timeout.unsafeMake({ total: 1, connect: 1, read: 1 })
      expect(Either.getOrThrow(Timeout.from(t, pool))).toBe(t)
      expect(Equal.equals(Either.getOrThrow(Timeout.from(2, pool)), Timeout.unsafeMake({ connect: 2, read: 2 }))).toBe(
        true
      )
      expect(Either.isLeft(Timeout.from(-1, pool))).toBe(true)
    })

    it("merges a request's timeout over the pool's field by field: a phase limited somewhere keeps a limit", () => {
      const withConnect = Timeout.unsafeMake({ connect: 0.5 })
      const read = Either.getOrThrow(Timeout.from({ read: 0.5 }, withConnect))
      expect([seconds(read.connect), seconds(read.read), seconds(read.total)]).toStrictEqual([0.5, 0.5, null])
      const asValue = Either.getOrThrow(Timeout.from(Timeout.unsafeMake({ read: 0.5 }), withConnect))
      expect(Equal.equals(asValue, read)).toBe(true)
      // A number sets connect and read, and keeps the pool's total.
      const deadline = Timeout.unsafeMake({ connect: 9, total: 30 })
      const number = Either.getOrThrow(Timeout.from(2, deadline))
      expect([seconds(number.connect), seconds(number.read), seconds(number.total)]).toStrictEqual([2, 2, 30])
      // Fields given as null or left out keep the pool's; `{}` is the pool's timeout itself.
      const nulls = Either.getOrThrow(Timeout.from({ connect: null, total: 1 }, pool))
      expect([seconds(nulls.connect), seconds(nulls.read), seconds(nulls.total)]).toStrictEqual([10, 10, 1])
      expect(Either.getOrThrow(Timeout.from({}, pool))).toBe(pool)
      // A Timeout without any limit lifts them all, as null does.
      expect(Either.getOrThrow(Timeout.from(Timeout.NONE, pool))).toBe(Timeout.NONE)
      expect(Either.getOrThrow(Timeout.from(Timeout.unsafeMake({}), pool))).toBe(Timeout.NONE)
    })

    it("merge keeps self's limits and fills the others from the fallback", () => {
      const a = Timeout.unsafeMake({ read: 2 })
      const b = Timeout.unsafeMake({ connect: 1, read: 5 })
      const merged = pipe(a, Timeout.merge(b))
      expect([seconds(merged.connect), seconds(merged.read), merged.total]).toStrictEqual([1, 2, null])
      expect(Timeout.merge(b, Timeout.NONE)).toBe(b)
      expect(Timeout.merge(Timeout.NONE, b)).toBe(b)
      fc.assert(
        fc.property(
          fc.array(fc.option(fc.integer({ min: 1, max: 1000 }), { nil: null }), { minLength: 6, maxLength: 6 }),
          ([t1, c1, r1, t2, c2, r2]) => {
            const self = Timeout.unsafeMake({ total: t1, connect: c1, read: r1 })
            const fallback = Timeout.unsafeMake({ total: t2, connect: c2, read: r2 })
            const m = Timeout.merge(self, fallback)
            return (
              seconds(m.total) === (t1 ?? t2) && seconds(m.connect) === (c1 ?? c2) && seconds(m.read) === (r1 ?? r2)
            )
          }
        )
      )
    })

    it("gives a pool connect 10 s, read 300 s and no total by default, and none for null", () => {
      expect([Timeout.DEFAULT.total, seconds(Timeout.DEFAULT.connect), seconds(Timeout.DEFAULT.read)]).toStrictEqual([
        null,
        10,
        300
      ])
      expect(Either.getOrThrow(Timeout.from(undefined, Timeout.DEFAULT))).toBe(Timeout.DEFAULT)
      const readOnly = Either.getOrThrow(Timeout.from({ read: 5 }, Timeout.DEFAULT))
      expect([seconds(readOnly.connect), seconds(readOnly.read)]).toStrictEqual([10, 5])
      expect(Either.getOrThrow(Timeout.from(null, Timeout.DEFAULT))).toBe(Timeout.NONE)
      expect(Equal.equals(Timeout.DEFAULT, Timeout.NONE)).toBe(false)
    })
  })

  describe("connectTimeout (item 72)", () => {
    // Expected values from urllib3 2.7.0's Timeout(...).connect_timeout.
    const cases: ReadonlyArray<readonly [Timeout.TimeoutOptions, number | null]> = [
      [{ total: 5 }, 5],
      [{ total: 5, connect: 3 }, 3],
      [{ total: 2, connect: 3 }, 2],
      [{ connect: 3 }, 3],
      [{ total: null, connect: null }, null],
      [{}, null],
      [{ total: 5, connect: null }, 5]
    ]
    it.each(cases)("%o gives %s", (options, expected) => {
      expect(seconds(Timeout.connectTimeout(Timeout.unsafeMake(options)))).toBe(expected)
    })
  })

  describe("readTimeout (item 73)", () => {
    // Expected values from urllib3 2.7.0's read_timeout after connecting for `elapsed` seconds.
    const cases: ReadonlyArray<readonly [Timeout.TimeoutOptions, number | null, number | null]> = [
      [{ total: 10, read: 3 }, 2, 3],
      [{ total: 10, read: 3 }, 8, 2],
      [{ total: 10, read: 3 }, 11, 0],
      [{ total: 10 }, 4, 6],
      [{ total: 10 }, 12, 0],
      [{ read: 3 }, 4, 3],
      [{}, 1, null],
      [{ total: 10, read: 3 }, null, 3],
      [{ read: null }, 1, null]
    ]
    it.each(cases)("%o after %s s gives %s", (options, elapsed, expected) => {
      const t = Timeout.unsafeMake(options)
      const result = Timeout.readTimeout(t, elapsed === null ? null : Duration.seconds(elapsed))
      expect(seconds(result)).toBe(expected)
    })

    it("gives the whole total when the connection was not timed", () => {
      expect(seconds(Timeout.readTimeout(Timeout.unsafeMake({ total: 4 }), null))).toBe(4)
    })

    it("gives zero, never less, once the deadline has passed", () => {
      const t = Timeout.unsafeMake({ total: 1, read: 5 })
      const left = pipe(t, Timeout.readTimeout(Duration.seconds(3)))
      expect(left).not.toBeNull()
      expect(Duration.isZero(left!)).toBe(true)
    })

    it("never exceeds read or what is left of total", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 100_000 }),
          fc.integer({ min: 1, max: 100_000 }),
          fc.integer({ min: 0, max: 200_000 }),
          (total, read, elapsed) => {
            const t = Timeout.unsafeMake({ total: Duration.millis(total), read: Duration.millis(read) })
            const result = Duration.toMillis(Timeout.readTimeout(t, Duration.millis(elapsed))!)
            return result === Math.max(0, Math.min(read, total - elapsed))
          }
        )
      )
    })
  })
})
