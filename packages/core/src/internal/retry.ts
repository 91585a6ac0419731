import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { dual } from "effect/Function"
import * as Hash from "effect/Hash"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import * as Predicate from "effect/Predicate"
import * as Random from "effect/Random"
import {
  type HttpoolError,
  InvalidHeader,
  isConnectTimeoutError,
  MaxRetryError,
  ResponseError,
  ValueError
} from "../Errors.js"
import type * as api from "../Retry.js"
import { decodeSeconds, describeValue } from "./timeout.js"
import { redactUrl } from "./errors.js"

/** @internal */
export const TypeId: api.TypeId = Symbol.for("@httpool/core/Retry") as api.TypeId

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** @internal */
export const DEFAULT_ALLOWED_METHODS: ReadonlyArray<string> = Data.array([
  "DELETE",
  "GET",
  "HEAD",
  "OPTIONS",
  "PUT",
  "TRACE"
])

/** @internal */
export const RETRY_AFTER_STATUS_CODES: ReadonlyArray<number> = Data.array([413, 429, 503])

/** @internal */
export const DEFAULT_REMOVE_HEADERS_ON_REDIRECT: ReadonlyArray<string> = Data.array([
  "authorization",
  "cookie",
  "proxy-authorization"
])

/** @internal */
export const DEFAULT_BACKOFF_MAX: Duration.Duration = decodeSeconds(120)

/** @internal */
export const DEFAULT_RETRY_AFTER_MAX: Duration.Duration = decodeSeconds(21600)

// ---------------------------------------------------------------------------
// RequestHistory
// ---------------------------------------------------------------------------

/** @internal */
export const makeRequestHistory = (fields: {
  readonly method?: string | null | undefined
  readonly url?: string | null | undefined
  readonly error?: HttpoolError | null | undefined
  readonly status?: number | null | undefined
  readonly redirectLocation?: string | null | undefined
}): api.RequestHistory =>
  Data.struct({
    method: fields.method ?? null,
    url: fields.url === undefined || fields.url === null ? null : redactUrl(fields.url),
    error: fields.error ?? null,
    status: fields.status ?? null,
    redirectLocation: fields.redirectLocation ?? null
  }) as api.RequestHistory

// ---------------------------------------------------------------------------
// The value
// ---------------------------------------------------------------------------

type Fields = { -readonly [K in Exclude<keyof api.Retry, symbol | "pipe" | "toJSON" | "toString">]: api.Retry[K] }

type FieldName = keyof Fields

const FIELD_NAMES: ReadonlyArray<FieldName> = [
  "total",
  "connect",
  "read",
  "redirect",
  "status",
  "other",
  "allowedMethods",
  "statusForcelist",
  "backoffFactor",
  "backoffMax",
  "backoffJitter",
  "raiseOnRedirect",
  "raiseOnStatus",
  "history",
  "respectRetryAfterHeader",
  "removeHeadersOnRedirect",
  "retryAfterMax"
]

const fieldsOf = (self: api.Retry): Fields => {
  const out: Record<string, unknown> = {}
  for (const name of FIELD_NAMES) out[name] = self[name]
  return out as Fields
}

/**
 * `self` following up to `redirects` redirects (and raising past them), its other counts
 * kept: HttpoolFetch's policy, whose redirect count is fetch's `maxRedirects`.
 *
 * @internal
 */
export const withRedirects = (self: api.Retry, redirects: number): api.Retry =>
  fromFields({ ...fieldsOf(self), redirect: redirects, raiseOnRedirect: true })

const RetryProto = {
  [TypeId]: TypeId,
  [Equal.symbol](this: api.Retry, that: unknown): boolean {
    return isRetryPolicy(that) && FIELD_NAMES.every((name) => Equal.equals(this[name], that[name]))
  },
  [Hash.symbol](this: api.Retry): number {
    return Hash.cached(this, Hash.structure(fieldsOf(this)))
  },
  pipe(...args: Array<unknown>) {
    return pipeArguments(this, args as unknown as IArguments)
  },
  toJSON(this: api.Retry) {
    return { _id: "Retry", ...fieldsOf(this) }
  },
  toString(this: api.Retry) {
    return Inspectable.format(this.toJSON())
  },
  [Inspectable.NodeInspectSymbol](this: api.Retry) {
    return this.toJSON()
  }
}

const fromFields = (fields: Fields): api.Retry => {
  const self = Object.create(RetryProto)
  for (const name of FIELD_NAMES) self[name] = fields[name]
  return self
}

/** @internal */
export const isRetryPolicy = (u: unknown): u is api.Retry => Predicate.hasProperty(u, TypeId)

const sortedUnique = <A extends string | number>(values: Iterable<A>): ReadonlyArray<A> =>
  Data.array(Array.from(new Set(values)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))

/** @internal */
export const make = (input: number | false | api.RetryOptions = {}): api.Retry => {
  const options: api.RetryOptions = typeof input === "object" ? input : { total: input }
  const total = options.total === undefined ? 10 : options.total
  let redirect = options.redirect ?? null
  let raiseOnRedirect = options.raiseOnRedirect ?? true
  // `false` for total or redirect: no redirects are followed and the 3xx is returned.
  if (redirect === false || total === false) {
    redirect = 0
    raiseOnRedirect = false
  }
  return fromFields({
    total,
    connect: options.connect ?? null,
    read: options.read ?? null,
    redirect,
    status: options.status ?? null,
    other: options.other ?? null,
    allowedMethods:
      options.allowedMethods === undefined
        ? DEFAULT_ALLOWED_METHODS
        : options.allowedMethods === null
          ? null
          : sortedUnique(options.allowedMethods),
    statusForcelist: sortedUnique(options.statusForcelist ?? []),
    backoffFactor: decodeSeconds(options.backoffFactor ?? 0),
    backoffMax: options.backoffMax === undefined ? DEFAULT_BACKOFF_MAX : decodeSeconds(options.backoffMax),
    backoffJitter: decodeSeconds(options.backoffJitter ?? 0),
    raiseOnRedirect,
    raiseOnStatus: options.raiseOnStatus ?? true,
    history: Data.array(Array.from(options.history ?? [], makeRequestHistory)),
    respectRetryAfterHeader: options.respectRetryAfterHeader ?? true,
    removeHeadersOnRedirect:
      options.removeHeadersOnRedirect === undefined
        ? DEFAULT_REMOVE_HEADERS_ON_REDIRECT
        : sortedUnique(Array.from(options.removeHeadersOnRedirect, (name) => name.toLowerCase())),
    retryAfterMax: options.retryAfterMax === undefined ? DEFAULT_RETRY_AFTER_MAX : decodeSeconds(options.retryAfterMax)
  })
}

/** @internal */
export const DEFAULT: api.Retry = make(3)

const invalid = (field: string, value: unknown, expected: string): ValueError =>
  new ValueError({ message: `Retry option ${field} was ${describeValue(value)}, but it must be ${expected}.` })

const isCount = (u: unknown): boolean => typeof u === "number" && !Number.isNaN(u)

const isCollectionOf = (u: unknown, item: (x: unknown) => boolean): boolean =>
  (Array.isArray(u) || u instanceof Set) && Array.from(u as Iterable<unknown>).every(item)

const isSecondsOrDuration = (u: unknown): boolean => {
  if (typeof u === "number") return !Number.isNaN(u) && u >= 0
  if (typeof u === "string" || typeof u === "bigint" || Array.isArray(u) || Duration.isDuration(u)) {
    return Option.isSome(Duration.decodeUnknown(u)) && !String(u).trimStart().startsWith("-")
  }
  return false
}

const CHECKS: ReadonlyArray<readonly [keyof api.RetryOptions, (u: unknown) => boolean, string]> = [
  ["total", (u) => u === null || u === false || isCount(u), "a number, false or null"],
  ["connect", (u) => u === null || u === false || isCount(u), "a number, false or null"],
  ["read", (u) => u === null || u === false || isCount(u), "a number, false or null"],
  ["redirect", (u) => u === null || u === false || isCount(u), "a number, false or null"],
  ["status", (u) => u === null || isCount(u), "a number or null"],
  ["other", (u) => u === null || isCount(u), "a number or null"],
  [
    "allowedMethods",
    (u) => u === null || isCollectionOf(u, (x) => typeof x === "string"),
    "a list of method names or null"
  ],
  [
    "statusForcelist",
    (u) => u === null || isCollectionOf(u, (x) => Number.isInteger(x)),
    "a list of status codes or null"
  ],
  ["backoffFactor", isSecondsOrDuration, "a number of seconds >= 0 or a Duration"],
  ["backoffMax", isSecondsOrDuration, "a number of seconds >= 0 or a Duration"],
  ["backoffJitter", isSecondsOrDuration, "a number of seconds >= 0 or a Duration"],
  ["raiseOnRedirect", Predicate.isBoolean, "a boolean"],
  ["raiseOnStatus", Predicate.isBoolean, "a boolean"],
  ["history", (u) => u === null || isCollectionOf(u, (x) => Predicate.isObject(x)), "a list of RequestHistory or null"],
  ["respectRetryAfterHeader", Predicate.isBoolean, "a boolean"],
  ["removeHeadersOnRedirect", (u) => isCollectionOf(u, (x) => typeof x === "string"), "a list of header names"],
  ["retryAfterMax", isSecondsOrDuration, "a number of seconds >= 0 or a Duration"]
]

/** @internal */
export const validate = (input: unknown): Either.Either<api.Retry, ValueError> => {
  if (isRetryPolicy(input)) return Either.right(input)
  if (input === false || isCount(input)) return Either.right(make(input as number | false))
  if (!Predicate.isObject(input) || Array.isArray(input) || typeof input === "function") {
    return Either.left(
      new ValueError({
        message: `retries was ${describeValue(input)}, but it must be a number, false, a Retry or Retry options.`
      })
    )
  }
  const options = input as Record<string, unknown>
  for (const [field, check, expected] of CHECKS) {
    const value = options[field]
    if (value !== undefined && !check(value)) return Either.left(invalid(field, value, expected))
  }
  return Either.right(make(options as api.RetryOptions))
}

/** @internal */
export const from = (
  retries: api.Input,
  fallback?: api.Input,
  redirect: boolean = true
): Either.Either<api.Retry, ValueError> => {
  if (retries === undefined || retries === null) {
    retries = fallback === undefined || fallback === null ? DEFAULT : fallback
  }
  if (isRetryPolicy(retries)) return Either.right(retries)
  // A number (or false) is urllib3's legacy form: `redirect` decides whether it also follows redirects.
  if (retries === false || isCount(retries)) {
    return Either.right(make({ total: retries as number | false, redirect: redirect ? null : false }))
  }
  return validate(retries)
}

const pyValue = (value: number | false | null): string =>
  value === null ? "None" : value === false ? "False" : String(value)

/** @internal */
export const describe = (self: api.Retry): string =>
  `Retry(total=${pyValue(self.total)}, connect=${pyValue(self.connect)}, read=${pyValue(self.read)}, redirect=${pyValue(
    self.redirect
  )}, status=${pyValue(self.status)})`

// ---------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------

/** @internal */
export const isExhausted = (self: api.Retry): boolean => {
  for (const count of [self.total, self.connect, self.read, self.redirect, self.status, self.other]) {
    if (typeof count === "number" && count < 0) return true
  }
  return false
}

/** `isMethodRetryable` as a plain function. */
const methodRetryable = (self: api.Retry, method: string): boolean => {
  const allowed = self.allowedMethods
  return allowed === null || allowed.length === 0 || allowed.includes(method.toUpperCase())
}

/** @internal */
export const isMethodRetryable = dual<
  (method: string) => (self: api.Retry) => boolean,
  (self: api.Retry, method: string) => boolean
>(2, methodRetryable)

/** @internal */
export const isRetry = dual<
  (method: string, status: number, hasRetryAfter?: boolean) => (self: api.Retry) => boolean,
  (self: api.Retry, method: string, status: number, hasRetryAfter?: boolean) => boolean
>(
  (args) => isRetryPolicy(args[0]),
  (self, method, status, hasRetryAfter = false) => isRetryNow(self, method, status, hasRetryAfter)
)

/**
 * Whether a Retry-After header could make a response of `status` retried under `self`: only
 * then is the header looked for (see `isRetryNow`).
 *
 * @internal
 */
export const heedsRetryAfter = (self: api.Retry, status: number): boolean =>
  typeof self.total === "number" &&
  self.total !== 0 &&
  self.respectRetryAfterHeader &&
  RETRY_AFTER_STATUS_CODES.includes(status)

/**
 * `isRetry` as a plain function, the checks of the status first: the request loop asks it of
 * every response, and almost every answer is not retried.
 *
 * @internal
 */
export const isRetryNow = (self: api.Retry, method: string, status: number, hasRetryAfter: boolean): boolean => {
  // As urllib3: a Retry-After answer is retried only while `total` is a non-zero number.
  if (!self.statusForcelist.includes(status) && !(hasRetryAfter && heedsRetryAfter(self, status))) return false
  return methodRetryable(self, method)
}

/** @internal */
export const removesHeaderOnRedirect = dual<
  (name: string) => (self: api.Retry) => boolean,
  (self: api.Retry, name: string) => boolean
>(2, (self, name) => self.removeHeadersOnRedirect.includes(name.toLowerCase()))

const isConnectionError = (error: HttpoolError): boolean =>
  isConnectTimeoutError(error._tag === "ProxyError" ? error.error : error)

const isReadError = (error: HttpoolError): boolean =>
  error._tag === "ReadTimeoutError" || error._tag === "ProtocolError"

/** @internal */
export const increment: {
  <E extends HttpoolError = never>(
    options: api.IncrementOptions<E>
  ): (self: api.Retry) => Either.Either<api.Retry, MaxRetryError | E>
  <E extends HttpoolError = never>(
    self: api.Retry,
    options: api.IncrementOptions<E>
  ): Either.Either<api.Retry, MaxRetryError | E>
} = dual(
  2,
  <E extends HttpoolError>(
    self: api.Retry,
    options: api.IncrementOptions<E>
  ): Either.Either<api.Retry, MaxRetryError | E> => {
    const method = options.method ?? null
    const url = options.url ?? null
    const response = options.response ?? null
    const error = options.error ?? null

    // Retries switched off: the error itself is the outcome.
    if (self.total === false && error !== null) return Either.left(error)

    const total = self.total === null ? null : self.total === false ? -1 : self.total - 1
    let { connect, read, redirect, status: statusCount, other } = self
    let cause = "too many error responses"
    let status: number | null = null
    let redirectLocation: string | null = null

    if (error !== null) {
      if (isConnectionError(error)) {
        if (connect === false) return Either.left(error)
        if (connect !== null) connect -= 1
      } else if (isReadError(error)) {
        // The request may have reached the server: only methods allowed to repeat are retried.
        if (read === false || method === null || !isMethodRetryable(self, method)) return Either.left(error)
        if (read !== null) read -= 1
      } else if (other !== null) {
        other -= 1
      }
    } else if (response?.redirectLocation) {
      if (redirect !== null) redirect -= 1
      cause = "too many redirects"
      redirectLocation = response.redirectLocation
      status = response.status
    } else if (response?.status) {
      if (statusCount !== null) statusCount -= 1
      cause = `too many ${response.status} error responses`
      status = response.status
    }

    const next = fromFields({
      ...fieldsOf(self),
      total,
      connect,
      read,
      redirect,
      status: statusCount,
      other,
      history: Data.array([...self.history, makeRequestHistory({ method, url, error, status, redirectLocation })])
    })

    if (isExhausted(next)) {
      return Either.left(
        new MaxRetryError({
          pool: options.pool ?? null,
          url: url ?? "",
          reason: error ?? new ResponseError({ message: cause, status })
        })
      )
    }
    return Either.right(next)
  }
)

// ---------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------

/** @internal */
export const backoffTime = (self: api.Retry, random: number = 0): Duration.Duration => {
  // Only the latest run of failures counts; a redirect starts the count again.
  let consecutive = 0
  for (let i = self.history.length - 1; i >= 0 && self.history[i].redirectLocation === null; i--) consecutive++
  if (consecutive <= 1) return Duration.zero
  const factor = Duration.toMillis(self.backoffFactor)
  let millis = factor === 0 ? 0 : factor * 2 ** (consecutive - 1)
  const jitter = Duration.toMillis(self.backoffJitter)
  if (jitter !== 0) millis += random * jitter
  return Duration.millis(Math.max(0, Math.min(Duration.toMillis(self.backoffMax), millis)))
}

const SECONDS = /^\s*[0-9]+\s*$/

/** @internal */
export const parseRetryAfter = dual<
  (value: string, now: number) => (self: api.Retry) => Either.Either<Duration.Duration, InvalidHeader>,
  (self: api.Retry, value: string, now: number) => Either.Either<Duration.Duration, InvalidHeader>
>(3, (self, value, now) => {
  let millis: number
  if (SECONDS.test(value)) {
    millis = Number(value.trim()) * 1000
  } else {
    const date = parseHttpDate(value)
    if (date === null) {
      return Either.left(
        new InvalidHeader({
          message: `Retry-After header is neither a number of seconds nor an HTTP-date: ${JSON.stringify(value)}`
        })
      )
    }
    millis = date - now
  }
  return Either.right(Duration.millis(Math.min(Math.max(millis, 0), Duration.toMillis(self.retryAfterMax))))
})

/** @internal */
export const sleepDuration = (
  self: api.Retry,
  options: api.SleepOptions
): Either.Either<Duration.Duration, InvalidHeader> => {
  const retryAfter = options.response?.retryAfter
  if (self.respectRetryAfterHeader && retryAfter !== null && retryAfter !== undefined) {
    const parsed = parseRetryAfter(self, retryAfter, options.now)
    // A Retry-After of 0 (or a date already past) falls through to the backoff.
    if (Either.isLeft(parsed) || !Duration.isZero(parsed.right)) return parsed
  }
  return Either.right(backoffTime(self, options.random ?? 0))
}

/** @internal */
export const sleep = (self: api.Retry, response?: api.RetryResponse | null): Effect.Effect<void, InvalidHeader> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const random = Duration.isZero(self.backoffJitter) ? 0 : yield* Random.next
    const duration = yield* sleepDuration(self, { response: response ?? null, now, random })
    if (!Duration.isZero(duration)) yield* Effect.sleep(duration)
  })

// ---------------------------------------------------------------------------
// HTTP-date (RFC 9110 section 5.6.7)
// ---------------------------------------------------------------------------

const DAY = "(?:mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?"
const MONTH = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
const TIME = "(\\d{1,2}):(\\d{2})(?::(\\d{2}))?"
const ZONE = "(gmt|utc|ut|z|est|edt|cst|cdt|mst|mdt|pst|pdt|ast|adt|[+-]\\d{4})"

/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(
  `^(?:${DAY},?\\s+)?(\\d{1,2})\\s+${MONTH}\\s+(\\d{2}|\\d{4})\\s+${TIME}(?:\\s+${ZONE})?$`,
  "i"
)
/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const RFC_850 = new RegExp(`^(?:${DAY},?\\s+)?(\\d{1,2})-${MONTH}-(\\d{2}|\\d{4})\\s+${TIME}(?:\\s+${ZONE})?$`, "i")
/** `Sun Nov  6 08:49:37 1994` */
const ASCTIME = new RegExp(`^(?:${DAY}\\s+)?${MONTH}\\s+(\\d{1,2})\\s+${TIME}\\s+(\\d{4})(?:\\s+${ZONE})?$`, "i")

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

const ZONE_MINUTES: Record<string, number> = {
  gmt: 0,
  utc: 0,
  ut: 0,
  z: 0,
  ast: -240,
  adt: -180,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420
}

const zoneMinutes = (zone: string | undefined): number => {
  if (zone === undefined) return 0
  const named = ZONE_MINUTES[zone.toLowerCase()]
  if (named !== undefined) return named
  const sign = zone[0] === "-" ? -1 : 1
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)))
}

const daysInMonth = (year: number, month: number): number => {
  const date = new Date(0)
  date.setUTCFullYear(year, month + 1, 0)
  return date.getUTCDate()
}

const toEpochMillis = (
  dayText: string,
  monthText: string,
  yearText: string,
  hourText: string,
  minuteText: string,
  secondText: string | undefined,
  zone: string | undefined
): number | null => {
  let year = Number(yearText)
  // Two-digit years as Python's email.utils reads them: 69-99 are 19xx, 00-68 are 20xx.
  if (year < 100) year += year > 68 ? 1900 : 2000
  const month = MONTHS.indexOf(monthText.toLowerCase())
  const day = Number(dayText)
  const hour = Number(hourText)
  const minute = Number(minuteText)
  const second = secondText === undefined ? 0 : Number(secondText)
  if (day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 60) return null
  const date = new Date(0)
  date.setUTCFullYear(year, month, day)
  date.setUTCHours(hour, minute, second, 0)
  return date.getTime() - zoneMinutes(zone) * 60_000
}

/**
 * Reads an HTTP-date in any of its three forms (IMF-fixdate, RFC 850, asctime) into
 * milliseconds since the epoch; a date without a zone is UTC. Returns null for anything
 * else, including dates that do not exist (31 Feb).
 *
 * @internal
 */
export const parseHttpDate = (value: string): number | null => {
  const text = value.trim()
  let match = IMF_FIXDATE.exec(text) ?? RFC_850.exec(text)
  if (match !== null) return toEpochMillis(match[1], match[2], match[3], match[4], match[5], match[6], match[7])
  match = ASCTIME.exec(text)
  if (match !== null) return toEpochMillis(match[2], match[1], match[6], match[3], match[4], match[5], match[7])
  return null
}
