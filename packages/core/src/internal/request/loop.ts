/**
 * The request loop: the one place where httpool decides what happens to a request after
 * each exchange (redirect, retry, or done) for every entry point: a ConnectionPool's
 * `urlopen`, a PoolManager's or ProxyManager's, and the HttpClient adapter over them. What
 * differs between them is only the `Router`, which turns each attempt into a lease on a pool.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as RuntimeFlags from "effect/RuntimeFlags"
import type * as ConnectionPool from "../../ConnectionPool.js"
import type { HttpoolError, PoolInfo } from "../../Errors.js"
import * as Headers from "../../Headers.js"
import type * as Response from "../../Response.js"
import * as Retry from "../../Retry.js"
import * as retry from "../retry.js"
import type * as Metrics from "../metrics.js"
import * as response from "../response.js"
import * as body from "./body.js"
import * as decoding from "./decoding.js"
import type { Holder } from "./holder.js"
import { type Attempt, make as makeAttempt, type Where, withRetries } from "./attempt.js"
import * as redirect from "./redirect.js"
import { logAnnotations, redactUrl } from "../errors.js"
import { methodError } from "./wire.js"
import * as trace from "./trace.js"
import { type Releasable, releasing } from "../cancelable.js"

/** The settings of one call, fixed over its attempts. @internal */
export interface Call {
  /** The caller's options; each pool reads its timeouts from them. */
  readonly opts: ConnectionPool.UrlopenOptions
  readonly preload: boolean
  /** Where a streamed response's releases go; null when preloading. */
  readonly holder: Holder | null
  readonly decode: boolean
  readonly followRedirects: boolean
  readonly assertSameHost: boolean
  readonly chunked: boolean
  /** The pool of the latest attempt, which a failure of the call counts against (set as attempts go). */
  last: Exchanger | null
  /** The method the caller gave, and `performance.now()` when the call began (`http.client.request.duration`). */
  readonly method: string
  readonly started: number
  /** The call's spans; null unless a real tracer is installed (`trace.ts`). */
  readonly trace: trace.Trace | null
}

/** What a pool is asked to send on one connection. @internal */
export interface Outgoing {
  readonly method: string
  /** The request target as it goes on the request line (origin-form, or absolute-form to a proxy). */
  readonly target: string
  /** The Host of the origin being asked (used unless `headers` has one). */
  readonly hostLine: string
  readonly headers: Headers.Headers
  readonly body: body.PreparedBody
  /** The URL for error messages. */
  readonly url: string
}

/** A response head off one connection, with its body: whole, or a source to read it from. @internal */
export interface Exchanged {
  readonly status: number
  readonly reason: string
  readonly headers: Headers.Headers
  readonly connection: Response.ConnectionInfo | undefined
  /** The whole raw body when the call preloads; null when it streams. */
  readonly body: Uint8Array | null
  /** The raw body of a streamed response; null when preloaded. */
  readonly source: response.BodySource | null
  /** The body arrives decoded already (a pool of someone else's decodes its own). */
  readonly decoded: boolean
  /** When the head was parsed (`performance.now()`), if the connector says. */
  readonly headAt?: number | undefined
}

/** An `Exchanged` (a class instance: see attempt.ts). @internal */
export class ExchangedOf implements Exchanged {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: Headers.Headers,
    readonly connection: Response.ConnectionInfo | undefined,
    readonly body: Uint8Array | null,
    readonly source: response.BodySource | null,
    readonly decoded: boolean,
    readonly headAt: number | undefined
  ) {}
}

/**
 * A pool as the loop sees it: the exchange of one request on one of its connections (taking
 * the connection, replaying on a fresh one when that is safe, giving it back), and what the
 * loop needs to decide and report.
 *
 * @internal
 */
export interface Exchanger {
  readonly info: PoolInfo
  readonly metrics: Metrics.PoolMetrics
  readonly decoding: decoding.Decoding
  readonly exchange: (outgoing: Outgoing, call: Call) => Effect.Effect<Exchanged, HttpoolError>
  /**
   * `exchange` going on with `then` (`Effect.matchEffect` of it): a pool that settles a warm
   * request in its completion callback resumes straight into `then.onSuccess`. With `held`
   * (called uninterruptibly: a preloaded call whose route holds a manager's lease, or a
   * streamed one whose holder took that lease), the exchange restores interruptibility only
   * where it waits, and gives the lease back itself, exactly once, however it ends: the
   * manager's lease and the pool's wait share one mask.
   */
  readonly exchangeThen?: <A>(
    outgoing: Outgoing,
    call: Call,
    then: Then<A>,
    held?: Held | null
  ) => Effect.Effect<A, HttpoolError>
}

/**
 * A lease taken by the caller of an exchange in its own uninterruptible region, for the
 * exchange to give back (see `Exchanger.exchangeThen`). @internal
 */
export class Held implements Releasable {
  private released = false
  constructor(
    /** Restores the interruptibility the caller had before its mask. */
    readonly restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>,
    private readonly giveBack: () => Effect.Effect<void> | null
  ) {}
  /** Gives the lease back, the first time only: what is left to do (closing an evicted pool), or null. */
  release(): Effect.Effect<void> | null {
    if (this.released) return null
    this.released = true
    return this.giveBack()
  }
  /** `effect` run interruptibly (as the caller was), the lease given back when it ends however it ends. */
  around<A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> {
    return releasing(this.restore, effect, this)
  }
}

/** `Effect.matchEffect(effect, then)` for a `Then` whose handlers are methods. @internal */
export const matchThen = <A>(
  effect: Effect.Effect<Exchanged, HttpoolError>,
  then: Then<A>
): Effect.Effect<A, HttpoolError> =>
  Effect.matchEffect(effect, {
    onFailure: (error) => then.onFailure(error),
    onSuccess: (exchanged) => then.onSuccess(exchanged)
  })

/** What follows an exchange. @internal */
export interface Then<A> {
  readonly onSuccess: (exchanged: Exchanged) => Effect.Effect<A, HttpoolError>
  readonly onFailure: (error: HttpoolError) => Effect.Effect<A, HttpoolError>
}

// Records made per request are class instances (see attempt.ts): never allocated old.

class CallOf implements Call {
  readonly preload: boolean
  readonly decode: boolean
  readonly assertSameHost: boolean
  readonly chunked: boolean
  readonly started: number
  last: Exchanger | null = null
  constructor(
    readonly opts: ConnectionPool.UrlopenOptions,
    readonly holder: Holder | null,
    readonly followRedirects: boolean,
    readonly method: string,
    readonly trace: trace.Trace | null
  ) {
    this.preload = holder === null
    this.decode = opts.decodeContent !== false
    this.assertSameHost = opts.assertSameHost !== false
    this.chunked = opts.chunked === true
    this.started = performance.now()
  }
}

class OutgoingOf implements Outgoing {
  constructor(
    readonly method: string,
    readonly target: string,
    readonly hostLine: string,
    readonly headers: Headers.Headers,
    readonly body: body.PreparedBody,
    readonly url: string
  ) {}
}

/** What follows the exchange of `attempt` on `pool` (methods: called as `then.onSuccess(...)`, see `matchThen`). */
class AfterExchange implements Then<AnyResponse> {
  constructor(
    readonly router: Router,
    readonly call: Call,
    readonly attempt: Attempt,
    readonly pool: Exchanger
  ) {}
  onFailure(error: HttpoolError): Effect.Effect<AnyResponse, HttpoolError> {
    return afterError(this.router, this.call, this.attempt, this.pool, error)
  }
  onSuccess(exchanged: Exchanged): Effect.Effect<AnyResponse, HttpoolError> {
    return afterResponse(this.router, this.call, this.attempt, this.pool, exchanged)
  }
}

/** Where one attempt goes: the pool, the target and headers as that pool sends them, and the lease to give back. @internal */
export interface Route {
  readonly pool: Exchanger
  readonly target: string
  readonly headers: Headers.Headers
  /**
   * Gives the pool back (a manager's lease on it) once the exchange, or the streamed body, is
   * done: a synchronous step, returning what is left to do (closing an evicted pool) or null.
   * Null when there is nothing to give back (a pool routing to itself).
   */
  readonly release: (() => Effect.Effect<void> | null) | null
}

/** A `Route` (a class instance: see attempt.ts). @internal */
export class RouteOf implements Route {
  constructor(
    readonly pool: Exchanger,
    readonly target: string,
    readonly headers: Headers.Headers,
    readonly release: (() => Effect.Effect<void> | null) | null
  ) {}
}

/**
 * Turns an attempt into a route: at once (a pool routing to itself), or as an Effect of the
 * route (a manager's pool found, in the one step of its lookup) or of an Effect making it (a
 * pool to create). Runs uninterruptibly: what it leases, the loop releases.
 *
 * @internal
 */
export type Router = (
  attempt: Attempt,
  call: Call
) => RouteOf | Effect.Effect<RouteOf | Effect.Effect<RouteOf, HttpoolError>, HttpoolError>

/** What a call starts from when the caller gives no headers or retries. @internal */
export interface Defaults {
  /** Validated once; an error fails only the calls that give no headers of their own. */
  readonly headers: Either.Either<Headers.Headers, HttpoolError>
  /** Validated once; an error fails only the calls that give no retries of their own. */
  readonly retries: Either.Either<Retry.Retry, HttpoolError>
  /** What `retries` was made from, for a call without redirects to make its own from it. */
  readonly retriesInput: Retry.Input
}

type AnyResponse = Response.Response | Response.StreamingResponse

/** Errors that end a call at once: retrying cannot help. */
const final = (error: HttpoolError): boolean =>
  error._tag === "EmptyPoolError" ||
  error._tag === "ClosedPoolError" ||
  error._tag === "ValueError" ||
  error._tag === "UnrewindableBodyError"

const EMPTY = new Uint8Array(0)

/** A route, told from an Effect making one: routes are `RouteOf` instances (the `Router` type says so). */
const isRoute = <A>(u: RouteOf | A): u is RouteOf => u instanceof RouteOf

/**
 * Validates a call and makes its first attempt. `firstAttempt` builds the URL and target from the
 * caller's URL (a pool takes a path as given; a manager parses an absolute URL).
 *
 * @internal
 */
export const start =
  (router: Router, defaults: () => Defaults, firstAttempt: (url: string) => Either.Either<Where, HttpoolError>) =>
  (
    method: string,
    url: string,
    opts: ConnectionPool.UrlopenOptions,
    holder: Holder | null
  ): Effect.Effect<AnyResponse, HttpoolError> =>
    Effect.withFiberRuntime((fiber, status) => {
      const invalid = methodError(method)
      if (invalid !== null) return Effect.fail(invalid)
      const base = defaults()
      const followRedirects = opts.redirect !== false
      const retries =
        opts.retries !== undefined || !followRedirects
          ? Retry.from(opts.retries, base.retriesInput, followRedirects)
          : base.retries
      if (Either.isLeft(retries)) return Effect.fail(retries.left)
      const headers = opts.headers === undefined ? base.headers : Headers.fromInput(opts.headers)
      if (Either.isLeft(headers)) return Effect.fail(headers.left)
      // The defaults were checked once (`Defaults.headers`); a call's own headers are checked here.
      if (opts.headers !== undefined) {
        const skip = Headers.checkSkipHeader(headers.right)
        if (Either.isLeft(skip)) return Effect.fail(skip.left)
      }
      const prepared = body.prepare(opts.body)
      if (Either.isLeft(prepared)) return Effect.fail(prepared.left)
      const where = firstAttempt(url)
      if (Either.isLeft(where)) return Effect.fail(where.left)
      const call = new CallOf(opts, holder, followRedirects, method, trace.begin(fiber, method, where.right.parsed))
      const first = makeAttempt(method, where.right, headers.right, prepared.right, retries.right)
      if (call.trace !== null) return trace.around(call.trace, step(router, call, first, null))
      // The fiber's interruptibility is known here: the first step masks without asking for it.
      return step(router, call, first, RuntimeFlags.interruptible(status.runtimeFlags))
    })

/** The call ends in `error`: it counts against the pool of the latest attempt. */
const fail = (call: Call, error: HttpoolError): Effect.Effect<never, HttpoolError> => {
  call.last?.metrics.failed(error._tag)
  call.last?.metrics.duration(call.method, error, call.started)
  return Effect.fail(error)
}

// The steps below are plain functions of the router and the call (no closures made per call):
// this is the path of every request.

/**
 * One attempt: routed, then exchanged. `interruptible` is whether the fiber is interruptible
 * now, when the caller knows it (null: the mask finds out).
 */
const step = (
  router: Router,
  call: Call,
  attempt: Attempt,
  interruptible: boolean | null
): Effect.Effect<AnyResponse, HttpoolError> => {
  call.trace?.attempt(attempt)
  const routed = router(attempt, call)
  if (isRoute(routed)) {
    // Routed at once: with nothing to release, the exchange needs no mask of its own.
    if (routed.release === null) return exchange(router, call, attempt, routed, null)
    return interruptible === null
      ? Effect.uninterruptibleMask((restore) => leased(router, call, attempt, routed, restore))
      : Effect.uninterruptible(leased(router, call, attempt, routed, restoreOf(interruptible)))
  }
  if (interruptible === null) {
    return Effect.uninterruptibleMask((restore) => afterRoute(router, call, attempt, routed, restore))
  }
  return Effect.uninterruptible(afterRoute(router, call, attempt, routed, restoreOf(interruptible)))
}

/** What `Effect.uninterruptibleMask` gives its body, for a fiber whose interruptibility is known. */
const restoreOf = (interruptible: boolean): (<A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) =>
  interruptible ? Effect.interruptible : Effect.uninterruptible

const afterRoute = (
  router: Router,
  call: Call,
  attempt: Attempt,
  routed: Effect.Effect<RouteOf | Effect.Effect<RouteOf, HttpoolError>, HttpoolError>,
  restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
): Effect.Effect<AnyResponse, HttpoolError> =>
  Effect.flatMap(routed, (route) =>
    isRoute(route)
      ? leased(router, call, attempt, route, restore)
      : Effect.flatMap(route, (made) => leased(router, call, attempt, made, restore))
  )

/** Pairs a route's lease with its release: after the exchange, or with the streamed body. */
const leased = (
  router: Router,
  call: Call,
  attempt: Attempt,
  route: Route,
  restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
): Effect.Effect<AnyResponse, HttpoolError> => {
  const release = route.release
  if (release === null) return restore(exchange(router, call, attempt, route, null))
  const holder = call.holder
  if (holder === null) {
    const held = new Held(restore, release)
    // A pool that takes the lease waits for its connection in this mask and gives it back.
    return route.pool.exchangeThen === undefined
      ? held.around(exchange(router, call, attempt, route, null))
      : exchange(router, call, attempt, route, held)
  }
  const later = Effect.suspend(() => release() ?? Effect.void)
  if (holder.addNow?.(later) === true) {
    // The holder took the lease at once: the pool's wait can share this mask all the same.
    return route.pool.exchangeThen === undefined
      ? restore(exchange(router, call, attempt, route, null))
      : exchange(router, call, attempt, route, new Held(restore, nothingToRelease))
  }
  return Effect.zipRight(holder.add(later), restore(exchange(router, call, attempt, route, null)))
}

const nothingToRelease = (): null => null

/** The exchange of an attempt on its route, and what follows from its outcome. */
const exchange = (
  router: Router,
  call: Call,
  attempt: Attempt,
  route: Route,
  held: Held | null
): Effect.Effect<AnyResponse, HttpoolError> => {
  const pool = route.pool
  call.last = pool
  const outgoing = new OutgoingOf(
    attempt.method,
    route.target,
    attempt.hostLine,
    route.headers,
    attempt.body,
    attempt.url
  )
  const then = new AfterExchange(router, call, attempt, pool)
  return pool.exchangeThen === undefined
    ? matchThen(pool.exchange(outgoing, call), then)
    : pool.exchangeThen(outgoing, call, then, held)
}

const afterError = (
  router: Router,
  call: Call,
  attempt: Attempt,
  pool: Exchanger,
  error: HttpoolError
): Effect.Effect<AnyResponse, HttpoolError> => {
  call.trace?.failed(error)
  if (final(error)) return fail(call, error)
  const incremented = Retry.increment(attempt.retries, {
    method: attempt.method,
    url: attempt.url,
    error,
    pool: pool.info
  })
  if (Either.isLeft(incremented)) return fail(call, incremented.left)
  const retries = incremented.right
  pool.metrics.retried(error._tag)
  call.trace?.resend(error._tag, attempt.parsed)
  return Retry.sleep(retries).pipe(
    Effect.zipRight(
      Effect.logWarning(
        `Retrying (${Retry.describe(retries)}) after connection broken by '${error._tag}': ${redactUrl(attempt.url)}`
      ).pipe(
        Effect.annotateLogs(
          logAnnotations("retry", pool.info, { "httpool.error": error._tag, "httpool.url": redactUrl(attempt.url) })
        )
      )
    ),
    Effect.zipRight(Effect.suspend(() => step(router, call, withRetries(attempt, retries), null)))
  )
}

const afterResponse = (
  router: Router,
  call: Call,
  attempt: Attempt,
  pool: Exchanger,
  ex: Exchanged
): Effect.Effect<AnyResponse, HttpoolError> => {
  call.trace?.response(ex)
  const location = response.REDIRECT_STATUSES.has(ex.status)
    ? Option.getOrNull(Headers.get(ex.headers, "location"))
    : null
  const head = new response.HeadOf(
    ex.status,
    ex.reason,
    ex.headers,
    attempt.method,
    `${attempt.parsed.scheme ?? "http"}://${attempt.hostLine}${attempt.target}`,
    attempt.retries,
    location,
    ex.connection
  )
  const isRedirect = call.followRedirects && location !== null
  // The Retry-After header is looked for only when it could matter.
  if (
    !isRedirect &&
    !retry.isRetryNow(
      attempt.retries,
      attempt.method,
      ex.status,
      retry.heedsRetryAfter(attempt.retries, ex.status) && Headers.has(ex.headers, "retry-after")
    )
  ) {
    return finish(call, pool, ex, head)
  }
  const drain = ex.source === null ? Effect.void : ex.source.drain()
  const retryResponse: Retry.RetryResponse = {
    status: ex.status,
    redirectLocation: location,
    retryAfter: Option.getOrNull(Headers.get(ex.headers, "retry-after"))
  }
  // As urllib3, a Location that cannot be used fails the call, its response drained first.
  const next = isRedirect
    ? redirect.next(attempt, ex.status, location, attempt.retries, call.opts)
    : Either.right(attempt)
  if (Either.isLeft(next)) return Effect.zipRight(drain, fail(call, next.left))
  const incremented = Retry.increment(attempt.retries, {
    method: attempt.method,
    url: attempt.url,
    response: retryResponse,
    pool: pool.info
  })
  if (Either.isLeft(incremented)) {
    return (isRedirect ? attempt.retries.raiseOnRedirect : attempt.retries.raiseOnStatus)
      ? Effect.zipRight(
          drain,
          Effect.suspend(() => fail(call, incremented.left))
        )
      : finish(call, pool, ex, head)
  }
  pool.metrics.retried(isRedirect ? "redirect" : "status")
  call.trace?.resend(isRedirect ? "redirect" : "status", next.right.parsed)
  return drain.pipe(
    Effect.zipRight(Retry.sleep(incremented.right, retryResponse)),
    Effect.zipRight(Effect.suspend(() => step(router, call, withRetries(next.right, incremented.right), null)))
  )
}

/** The caller's response: a preloaded body decoded now, a streamed one decoded as it is read. */
const finish = (
  call: Call,
  pool: Exchanger,
  ex: Exchanged,
  head: response.Head
): Effect.Effect<AnyResponse, HttpoolError> => {
  pool.metrics.duration(call.method, head.status, call.started)
  const decodes = call.decode && !ex.decoded && !decoding.hasNoBody(head.method, head.status)
  if (ex.source === null) {
    const raw = ex.body ?? EMPTY
    return decodes && raw.length > 0 && Headers.has(head.headers, "content-encoding")
      ? decoding.decodeAll(pool.decoding, head.headers, raw).pipe(
          // A redirect's body is only drained, as in urllib3: it never fails the request.
          head.redirectLocation === null
            ? Effect.tapError((error) => Effect.sync(() => call.last?.metrics.failed(error._tag)))
            : Effect.orElseSucceed(() => raw),
          Effect.map((data) => response.makeResponse(head, data))
        )
      : Effect.succeed(response.makeResponse(head, raw))
  }
  const source = ex.source
  if (!decodes || !Headers.has(head.headers, "content-encoding")) {
    return Effect.succeed(response.makeStreamingResponse(head, source))
  }
  return Effect.succeed(
    response.makeStreamingResponse(head, {
      stream: () => decoding.decodeStream(pool.decoding, head.headers, source.stream()),
      data: () =>
        Effect.flatMap(source.data(), (bytes) =>
          bytes.length === 0 ? Effect.succeed(bytes) : decoding.decodeAll(pool.decoding, head.headers, bytes)
        ),
      drain: source.drain
    })
  )
}

/** Where an httpool pool keeps its exchange, for the managers that lease it. @internal */
export const ExchangerId: unique symbol = Symbol.for("@httpool/core/Exchanger")

/** @internal */
export interface HasExchanger {
  readonly [ExchangerId]: Exchanger
}

/** @internal */
export const hasExchanger = <A extends object>(u: A): u is A & HasExchanger => ExchangerId in u
