import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { dual } from "effect/Function"
import * as Hash from "effect/Hash"
import * as Inspectable from "effect/Inspectable"
import { pipeArguments } from "effect/Pipeable"
import * as Predicate from "effect/Predicate"
import { ValueError } from "../Errors.js"
import type * as api from "../Timeout.js"

/** @internal */
export const TypeId: api.TypeId = Symbol.for("@httpool/core/Timeout") as api.TypeId

// ---------------------------------------------------------------------------
// Durations given as seconds
// ---------------------------------------------------------------------------

/**
 * One representation per length of time, so that two equal durations also hash alike
 * (`Duration.millis(1000)` and `Duration.seconds(1)` are equal but, left alone, may be
 * stored as millis and as nanos with different hashes).
 *
 * @internal
 */
export const canonical = (duration: Duration.Duration): Duration.Duration =>
  Duration.isFinite(duration) ? Duration.millis(Duration.toMillis(duration)) : Duration.infinity

/**
 * A `DurationInput` in which a plain number counts seconds rather than milliseconds.
 * Throws on an input `Duration.decode` does not understand; callers that take unknown
 * input use {@link decodeSecondsUnknown}.
 *
 * @internal
 */
export const decodeSeconds = (input: Duration.DurationInput): Duration.Duration =>
  canonical(typeof input === "number" ? Duration.seconds(input) : Duration.decode(input))

const isDurationLike = (u: unknown): u is Duration.DurationInput =>
  Duration.isDuration(u) ||
  typeof u === "bigint" ||
  typeof u === "string" ||
  (Array.isArray(u) && u.length === 2 && u.every((part) => typeof part === "number"))

/**
 * A short, one-line rendering of any value for error messages.
 *
 * @internal
 */
export const describeValue = (u: unknown): string => {
  if (typeof u === "string") return JSON.stringify(u)
  if (Duration.isDuration(u)) return `Duration(${Duration.format(u)})`
  if (typeof u === "function") return `[function ${u.name === "" ? "anonymous" : u.name}]`
  if (typeof u === "object" && u !== null) {
    try {
      const json = JSON.stringify(u)
      if (json !== undefined) return json
    } catch {
      // A value JSON cannot render (a cycle, a bigint inside) is named by its kind below.
    }
    return Object.prototype.toString.call(u)
  }
  return String(u)
}

const invalid = (field: string, value: unknown, problem: string): ValueError =>
  new ValueError({ message: `Timeout value ${field} was ${describeValue(value)}, but ${problem}` })

const KINDS = "it must be a positive number of seconds, a Duration, or null for no limit."

/**
 * Validates one timeout field: `null`/`undefined` is no limit; a positive finite number
 * is seconds; any other `DurationInput` must decode to a positive finite duration.
 *
 * @internal
 */
export const validateField = (field: string, value: unknown): Either.Either<Duration.Duration | null, ValueError> => {
  if (value === null || value === undefined) return Either.right(null)
  if (typeof value === "boolean") return Either.left(invalid(field, value, `a timeout cannot be a boolean: ${KINDS}`))
  if (typeof value === "number") {
    if (Number.isNaN(value)) return Either.left(invalid(field, value, KINDS))
    if (value <= 0)
      return Either.left(invalid(field, value, "a timeout must be greater than 0 (use null for no limit)."))
    const duration = decodeSeconds(value)
    // Huge numbers of seconds overflow to an infinite number of milliseconds.
    if (!Duration.isFinite(duration)) {
      return Either.left(invalid(field, value, "a timeout must be finite (use null for no limit)."))
    }
    return Duration.isZero(duration)
      ? Either.left(invalid(field, value, "a timeout must be greater than 0 (use null for no limit)."))
      : Either.right(duration)
  }
  if (!isDurationLike(value)) return Either.left(invalid(field, value, KINDS))
  const decoded = Duration.decodeUnknown(value)
  if (decoded._tag === "None") return Either.left(invalid(field, value, KINDS))
  const duration = decoded.value
  if (Duration.isZero(duration)) {
    return Either.left(invalid(field, value, "a timeout must be greater than 0 (use null for no limit)."))
  }
  if (!Duration.isFinite(duration)) {
    return Either.left(invalid(field, value, "a timeout must be finite (use null for no limit)."))
  }
  return Either.right(canonical(duration))
}

// ---------------------------------------------------------------------------
// The value
// ---------------------------------------------------------------------------

const TimeoutProto = {
  [TypeId]: TypeId,
  [Equal.symbol](this: api.Timeout, that: unknown): boolean {
    return (
      isTimeout(that) &&
      Equal.equals(this.total, that.total) &&
      Equal.equals(this.connect, that.connect) &&
      Equal.equals(this.read, that.read)
    )
  },
  [Hash.symbol](this: api.Timeout): number {
    return Hash.cached(this, Hash.structure({ total: this.total, connect: this.connect, read: this.read }))
  },
  pipe(...args: Array<unknown>) {
    return pipeArguments(this, args as unknown as IArguments)
  },
  toJSON(this: api.Timeout) {
    return { _id: "Timeout", total: this.total, connect: this.connect, read: this.read }
  },
  toString(this: api.Timeout & Inspectable.Inspectable) {
    return Inspectable.format(this.toJSON())
  },
  [Inspectable.NodeInspectSymbol](this: api.Timeout & Inspectable.Inspectable) {
    return this.toJSON()
  }
}

const unsafeFromFields = (
  total: Duration.Duration | null,
  connect: Duration.Duration | null,
  read: Duration.Duration | null
): api.Timeout => {
  const self = Object.create(TimeoutProto)
  self.total = total
  self.connect = connect
  self.read = read
  return self
}

/** @internal */
export const isTimeout = (u: unknown): u is api.Timeout => Predicate.hasProperty(u, TypeId)

/** @internal */
export const NONE: api.Timeout = unsafeFromFields(null, null, null)

/**
 * A pool's timeout when it is given none: connect 10 s, read 300 s, no total (the limits of
 * undici, Node's own fetch). A silent peer ends in a typed error instead of hanging a program.
 *
 * @internal
 */
export const DEFAULT: api.Timeout = unsafeFromFields(
  null,
  canonical(Duration.seconds(10)),
  canonical(Duration.seconds(300))
)

const fromOptions = (options: api.TimeoutOptions): Either.Either<api.Timeout, ValueError> =>
  Either.gen(function* () {
    // Fields are checked in urllib3's order, so the first complaint names the same field.
    const connect = yield* validateField("connect", options.connect)
    const read = yield* validateField("read", options.read)
    const total = yield* validateField("total", options.total)
    return unsafeFromFields(total, connect, read)
  })

const isOptions = (u: unknown): u is api.TimeoutOptions =>
  typeof u === "object" && u !== null && !Array.isArray(u) && !Duration.isDuration(u) && !isTimeout(u)

/** @internal */
export const make = (input?: Duration.DurationInput | api.TimeoutOptions): Either.Either<api.Timeout, ValueError> => {
  if (input === undefined) return Either.right(NONE)
  if (isOptions(input)) return fromOptions(input)
  return fromOptions({ connect: input, read: input })
}

/** @internal */
export const unsafeMake = (input?: Duration.DurationInput | api.TimeoutOptions): api.Timeout =>
  Either.getOrThrowWith(make(input), (error) => error)

/** @internal */
export const merge = dual<
  (fallback: api.Timeout) => (self: api.Timeout) => api.Timeout,
  (self: api.Timeout, fallback: api.Timeout) => api.Timeout
>(2, (self, fallback) => {
  const total = self.total ?? fallback.total
  const connect = self.connect ?? fallback.connect
  const read = self.read ?? fallback.read
  if (total === self.total && connect === self.connect && read === self.read) return self
  if (total === fallback.total && connect === fallback.connect && read === fallback.read) return fallback
  return unsafeFromFields(total, connect, read)
})

const hasNoLimit = (self: api.Timeout): boolean => self.total === null && self.connect === null && self.read === null

/** @internal */
export const from = (input: api.Input, fallback: api.Timeout): Either.Either<api.Timeout, ValueError> => {
  if (input === undefined) return Either.right(fallback)
  if (input === null) return Either.right(NONE)
  if (isTimeout(input)) return Either.right(hasNoLimit(input) ? NONE : merge(input, fallback))
  return Either.map(make(input), (given) => merge(given, fallback))
}

// ---------------------------------------------------------------------------
// Effective timeouts
// ---------------------------------------------------------------------------

/** @internal */
export const connectTimeout = (self: api.Timeout): Duration.Duration | null => {
  if (self.total === null) return self.connect
  if (self.connect === null) return self.total
  return Duration.min(self.connect, self.total)
}

/** @internal */
export const readTimeout = dual<
  (connectElapsed: Duration.Duration | null) => (self: api.Timeout) => Duration.Duration | null,
  (self: api.Timeout, connectElapsed: Duration.Duration | null) => Duration.Duration | null
>(2, (self, connectElapsed) => {
  const { read, total } = self
  if (total !== null && read !== null) {
    if (connectElapsed === null) return read
    // Duration.subtract never goes below zero.
    return Duration.min(Duration.subtract(total, connectElapsed), read)
  }
  if (total !== null) return connectElapsed === null ? total : Duration.subtract(total, connectElapsed)
  return read
})
