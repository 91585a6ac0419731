import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Connector from "../../Connector.js"
import {
  type HttpoolError,
  isConnectTimeoutError,
  type PoolInfo,
  ReadTimeoutError,
  unableToConnectToProxy,
  type ValueError
} from "../../Errors.js"
import * as Headers from "../../Headers.js"
import type * as Response from "../../Response.js"
import * as Timeout from "../../Timeout.js"
import { cancelable, cancelableIn } from "../cancelable.js"
import * as internalHeaders from "../headers.js"
import type * as leasing from "../leasing.js"
import type * as Metrics from "../metrics.js"
import type { PreparedBody } from "../request/body.js"
import * as body from "../request/body.js"
import type * as decoding from "../request/decoding.js"
import * as loop from "../request/loop.js"
import { METHODS_NOT_EXPECTING_BODY, type WireHeaders, wireHeaders } from "../request/wire.js"
import * as response from "../response.js"
import { record } from "../record.js"

const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"])

/** What a pool's exchange works with, fixed when the pool is made. @internal */
export interface Settings {
  readonly pool: PoolInfo
  /** `scheme://host:port`, the pool's label in metrics and connection info. */
  readonly label: string
  readonly leases: leasing.Leasing
  readonly metrics: Metrics.PoolMetrics
  readonly counters: { numRequests: number }
  readonly decoding: decoding.Decoding
  readonly timeout: Timeout.Timeout
  /** Milliseconds a blocking pool waits for a connection; null: forever. */
  readonly poolTimeout: number | null
  /**
   * The headers of the forwarding proxy this pool's connections go to, added to every request
   * (failing to reach the proxy is a ProxyError); null for a pool that is not a proxy's.
   */
  readonly proxyHeaders: Headers.Headers | null
}

/** The timeouts of one call on this pool, in milliseconds (null: none). */
interface Limits {
  readonly timeout: Timeout.Timeout
  readonly connect: number | null
  readonly read: number | null
  readonly total: number | null
  readonly pool: number | null
}

const millisOf = (duration: Duration.Duration | null): number | null =>
  duration === null ? null : Duration.toMillis(duration)

const limitsOf = (timeout: Timeout.Timeout, pool: number | null): Limits =>
  record({
    timeout,
    connect: millisOf(Timeout.connectTimeout(timeout)),
    read: millisOf(Timeout.readTimeout(timeout, null)),
    total: millisOf(timeout.total),
    pool
  })

/** Seconds (a number) or a Duration as milliseconds; null and undefined are null. @internal */
export const toMillis = (value: number | Duration.Duration | null | undefined): number | null =>
  value === null || value === undefined ? null : typeof value === "number" ? value * 1000 : Duration.toMillis(value)

/** Releases a lease exactly once: the first call decides whether the connection is reused. */
interface Guard {
  readonly release: (reusable: boolean) => Effect.Effect<void>
}

/** A send that failed on `lease`, or a stale connection's 408 to send again. */
type Outcome =
  | Sent
  | { readonly _tag: "Failed"; readonly failure: Connector.SendFailure; readonly lease: leasing.Lease }
  | { readonly _tag: "Stale" }

const stale: Outcome = { _tag: "Stale" }

/** A request as it goes to the connector (a class instance: see request/attempt.ts). */
class WireRequestOf implements Connector.WireRequest {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly headers: ReadonlyArray<string>,
    readonly body: string | Uint8Array | AsyncIterable<Uint8Array> | null,
    readonly readTimeout: number | null,
    readonly connectTimeout: number | null,
    readonly preload: boolean,
    readonly chunked: boolean,
    readonly replayable: boolean
  ) {}
}

class Sent {
  readonly _tag = "Sent"
  constructor(
    readonly res: Connector.WireResponse,
    readonly lease: leasing.Lease,
    readonly guard: Guard | null
  ) {}
}

const EMPTY = new Uint8Array(0)

/**
 * The exchange of a pool: one request on one leased connection. The lease is taken and
 * paired with its release in one uninterruptible step: a preloaded response gives its
 * connection back before the exchange returns, a streamed one registers the release in the
 * call's holder, so neither a failure nor an interruption can keep it. A request is sent
 * again once on a fresh connection when that is safe: the reused connection failed before
 * any of the response arrived and the method is idempotent or nothing of the request was
 * written, or it answered 408 (the server gave up on the idle connection as the request
 * went out, so the request was never processed; browsers do the same).
 *
 * @internal
 */
export const make = (settings: Settings): loop.Exchanger => {
  const { leases, metrics, counters, pool } = settings
  const defaults = limitsOf(settings.timeout, settings.poolTimeout)

  // The limits of the last timeouts asked for: a client that passes its own on every call
  // (the HttpClient layer does) passes the same values.
  let lastTimeout: loop.Call["opts"]["timeout"]
  let lastPoolTimeout: loop.Call["opts"]["poolTimeout"]
  let lastLimits: Either.Either<Limits, HttpoolError> | undefined
  const limitsFor = (opts: loop.Call["opts"]): Either.Either<Limits, HttpoolError> => {
    if (opts.timeout === undefined && opts.poolTimeout === undefined) return Either.right(defaults)
    if (lastLimits !== undefined && opts.timeout === lastTimeout && opts.poolTimeout === lastPoolTimeout) {
      return lastLimits
    }
    lastTimeout = opts.timeout
    lastPoolTimeout = opts.poolTimeout
    lastLimits = limitsOfCall(opts)
    return lastLimits
  }
  const limitsOfCall = (opts: loop.Call["opts"]): Either.Either<Limits, HttpoolError> => {
    let timeout = settings.timeout
    if (opts.timeout !== undefined) {
      const given = Timeout.from(opts.timeout, settings.timeout)
      if (Either.isLeft(given)) return Either.left(given.left)
      timeout = given.right
    }
    return Either.right(
      limitsOf(timeout, opts.poolTimeout === undefined ? settings.poolTimeout : toMillis(opts.poolTimeout))
    )
  }

  // The wire header lists of the last headers value seen (the pool's or a manager's own, the
  // same object on every request), for methods without and with a body.
  let wireCache: {
    readonly headers: Headers.Headers
    readonly hostLine: string
    readonly lists: [
      Either.Either<WireHeaders, ValueError> | undefined,
      Either.Either<WireHeaders, ValueError> | undefined
    ]
  } | null = null
  let lastUncached: Headers.Headers | null = null
  const wireFor = (outgoing: loop.Outgoing, chunked: boolean) => {
    const { method, hostLine } = outgoing
    const headers =
      settings.proxyHeaders === null ? outgoing.headers : Headers.merge(outgoing.headers, settings.proxyHeaders)
    const prepared = outgoing.body
    if (chunked || prepared.isStream || prepared.length !== null) {
      return wireHeaders(headers, method, prepared, chunked, hostLine)
    }
    if (wireCache === null || wireCache.headers !== outgoing.headers || wireCache.hostLine !== hostLine) {
      // A headers value met once (a request's own, say with a trace header) is not cached:
      // only one met twice in a row replaces the cache.
      if (outgoing.headers !== lastUncached) {
        lastUncached = outgoing.headers
        return wireHeaders(headers, method, prepared, chunked, hostLine)
      }
      lastUncached = null
      wireCache = record({
        headers: outgoing.headers,
        hostLine,
        lists: Array.of(undefined, undefined) as [undefined, undefined]
      })
    }
    const slot = METHODS_NOT_EXPECTING_BODY.has(method) ? 0 : 1
    const cached = wireCache.lists[slot]
    if (cached !== undefined) return cached
    const built = wireHeaders(headers, method, prepared, chunked, hostLine)
    if (Either.isRight(built)) wireCache.lists[slot] = built
    return built
  }

  const attachPool = (error: HttpoolError): HttpoolError => {
    if (error._tag === "ReadTimeoutError" && error.pool === null) {
      return new ReadTimeoutError({ pool, url: error.url, reason: error.reason })
    }
    if (settings.proxyHeaders !== null && (isConnectTimeoutError(error) || error._tag === "SSLError")) {
      return unableToConnectToProxy(error)
    }
    return error
  }

  const timedOutIdle = (res: Connector.WireResponse, lease: leasing.Lease, fresh: boolean): boolean =>
    res.status === 408 && lease.reused && !fresh

  const sendOnce = (
    outgoing: loop.Outgoing,
    wire: WireHeaders,
    payloadOf: PreparedBody,
    call: loop.Call,
    limits: Limits,
    fresh: boolean
  ): Effect.Effect<loop.Exchanged, HttpoolError> =>
    Effect.suspend(() => {
      const payload = payloadOf.next()
      if (Either.isLeft(payload)) return Effect.fail(payload.left)
      const request = new WireRequestOf(
        outgoing.method,
        outgoing.target,
        wire.list,
        body.framed(payload.right, wire.chunked),
        limits.read,
        limits.connect,
        call.preload,
        wire.chunked,
        !fresh && !payloadOf.isStream && IDEMPOTENT_METHODS.has(outgoing.method)
      )
      const exchanged = Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(leases.acquire(restore, limits.pool, fresh), (lease) => {
          counters.numRequests++
          const send = restore(lease.slot.connection.send(request))
          const failed = (cause: Cause.Cause<Connector.SendFailure>, release: Effect.Effect<void>) =>
            Effect.zipRight(
              release,
              Option.match(Cause.failureOption(cause), {
                onSome: (failure): Effect.Effect<Outcome> => Effect.succeed({ _tag: "Failed", failure, lease }),
                // Interrupted (or a defect): nothing to decide, it goes on as it is.
                onNone: () => Effect.failCause(cause as Cause.Cause<never>)
              })
            )
          const holder = call.holder
          if (holder === null) {
            return Effect.matchCauseEffect(send, {
              onFailure: (cause) => failed(cause, leases.release(lease, false)),
              onSuccess: (res): Effect.Effect<Outcome> =>
                timedOutIdle(res, lease, fresh)
                  ? Effect.as(leases.release(lease, false), stale)
                  : Effect.as(leases.release(lease, true), new Sent(res, lease, null))
            })
          }
          const guard = new LeaseGuard(leases, lease)
          return Effect.zipRight(
            holder.add(guard.release(false)),
            Effect.matchCauseEffect(send, {
              onFailure: (cause) => failed(cause, guard.release(false)),
              onSuccess: (res): Effect.Effect<Outcome> =>
                timedOutIdle(res, lease, fresh)
                  ? Effect.as(guard.release(false), stale)
                  : res.body !== null && holder.releaseEarly === true
                    ? // The whole body is here: the connection goes back now.
                      Effect.as(guard.release(true), new Sent(res, lease, null))
                    : Effect.succeed(new Sent(res, lease, guard))
            })
          )
        })
      )
      return Effect.flatMap(exchanged, (outcome) => decide(outcome, outgoing, wire, payloadOf, call, limits, fresh))
    })

  /** What follows an outcome: the response, a replay on a fresh connection, or the failure. */
  const decide = (
    outcome: Outcome,
    outgoing: loop.Outgoing,
    wire: WireHeaders,
    payloadOf: PreparedBody,
    call: loop.Call,
    limits: Limits,
    fresh: boolean
  ): Effect.Effect<loop.Exchanged, HttpoolError> => {
    switch (outcome._tag) {
      case "Sent":
        return Effect.succeed(exchangedOf(outcome, call.preload))
      case "Stale":
        return sendOnce(outgoing, wire, payloadOf, call, limits, true)
      case "Failed": {
        const { failure, lease } = outcome
        const replayable =
          !fresh &&
          lease.reused &&
          !failure.responseStarted &&
          (IDEMPOTENT_METHODS.has(outgoing.method) || !failure.requestSent)
        return replayable
          ? sendOnce(outgoing, wire, payloadOf, call, limits, true)
          : Effect.fail(attachPool(failure.error))
      }
    }
  }

  /** The raw body of a streamed response, read from its connection, which goes back when the body ends. */
  const sourceOf = (res: Connector.WireResponse, guard: Guard): response.BodySource =>
    res.body === null ? new ReadFrom(res, guard, attachPool) : new HeldWhole(res.body, guard)

  /**
   * A preloaded request on a warm connection as one `Effect.async`: the idle connection is
   * leased, the request started, and the connection given back in the completion callback,
   * all in synchronous steps; interruption cancels the request, drops the connection and
   * gives the lease back. Anything else (no idle connection, a wait, a connector without
   * `begin`) goes the general way, `sendOnce`.
   */
  const warm = <A>(
    outgoing: loop.Outgoing,
    wire: WireHeaders,
    call: loop.Call,
    limits: Limits,
    then: loop.Then<A>,
    held: loop.Held | null
  ): Effect.Effect<A, HttpoolError> => {
    const send = new WarmSend(warmSteps, outgoing, wire, call, limits, then)
    // Under a caller's mask (`held`), the wait shares it, and the caller's lease is given back after.
    return held === null ? cancelable(send.register) : cancelableIn(held.restore, send.register, held)
  }

  const exchangeThen = <A>(
    outgoing: loop.Outgoing,
    call: loop.Call,
    then: loop.Then<A>,
    held: loop.Held | null = null
  ): Effect.Effect<A, HttpoolError> => {
    const limits = limitsFor(call.opts)
    if (Either.isLeft(limits)) return heldAround(held, then.onFailure(limits.left))
    const wire = wireFor(outgoing, call.chunked)
    if (Either.isLeft(wire)) return heldAround(held, then.onFailure(wire.left))
    if ((call.preload || call.holder?.addNow !== undefined) && !outgoing.body.isStream && limits.right.total === null) {
      return warm(outgoing, wire.right, call, limits.right, then, held)
    }
    const sent = sendOnce(outgoing, wire.right, outgoing.body, call, limits.right, false)
    const bounded =
      limits.right.total === null
        ? sent
        : Effect.timeoutFail(sent, {
            duration: Duration.millis(limits.right.total),
            onTimeout: () =>
              new ReadTimeoutError({
                pool,
                url: outgoing.url,
                reason: `Read timed out. (total timeout=${Duration.format(limits.right.timeout.total!)})`
              })
          })
    return heldAround(held, loop.matchThen(bounded, then))
  }

  const plain = record<loop.Then<loop.Exchanged>>({ onSuccess: Effect.succeed, onFailure: Effect.fail })

  const exchange = (outgoing: loop.Outgoing, call: loop.Call): Effect.Effect<loop.Exchanged, HttpoolError> =>
    Effect.suspend(() => exchangeThen(outgoing, call, plain))

  const exchangedOf = ({ res, lease, guard }: Sent, preloaded = true): loop.Exchanged => {
    metrics.response(res.status)
    const connection = lease.slot.connection
    return new loop.ExchangedOf(
      res.status,
      res.reason,
      internalHeaders.fromFlat(res.headers),
      new response.ConnectionInfoOf(
        settings.label,
        connection.id,
        lease.reused,
        lease.waitedMillis,
        connection.remoteAddress?.() ?? null
      ),
      guard === null && preloaded ? (res.body ?? EMPTY) : null,
      guard !== null ? sourceOf(res, guard) : preloaded ? null : whole(res.body ?? EMPTY),
      false,
      res.headAt
    )
  }

  /** What a `WarmSend` does through the pool: its steps that are not the warm request's own. */
  // The pool's records are made by `record`, not as literals: see there.
  const warmSteps = record<WarmSteps>({
    leases,
    counters,
    exchangedOf,
    onward: (outcome, outgoing, wire, call, limits, then) =>
      loop.matchThen(
        outcome === null
          ? sendOnce(outgoing, wire, outgoing.body, call, limits, false)
          : decide(outcome, outgoing, wire, outgoing.body, call, limits, false),
        then
      ),
    timedOutIdle
  })

  return record({ info: pool, metrics, decoding: settings.decoding, exchange, exchangeThen })
}

/** `effect` with a caller's `held` lease given back after it (see `loop.Held`); as it is without one. */
const heldAround = <A>(
  held: loop.Held | null,
  effect: Effect.Effect<A, HttpoolError>
): Effect.Effect<A, HttpoolError> => (held === null ? effect : held.around(effect))

/** What a warm request needs of its pool (see `WarmSend`). */
interface WarmSteps {
  readonly leases: leasing.Leasing
  readonly counters: { numRequests: number }
  readonly exchangedOf: (sent: Sent, preloaded?: boolean) => loop.Exchanged
  /**
   * The request sent the general way (`sendOnce`) when `outcome` is null, else what follows a
   * stale or failed first send (`decide`); either going on with `then`.
   */
  readonly onward: <A>(
    outcome: Outcome | null,
    outgoing: loop.Outgoing,
    wire: WireHeaders,
    call: loop.Call,
    limits: Limits,
    then: loop.Then<A>
  ) => Effect.Effect<A, HttpoolError>
  readonly timedOutIdle: (res: Connector.WireResponse, lease: leasing.Lease, fresh: boolean) => boolean
}

/**
 * A preloaded request on a warm connection as one wait: the idle connection is leased, the
 * request started, and the connection given back in the completion callback, all in
 * synchronous steps; interruption cancels the request, drops the connection and gives the
 * lease back. Anything else (no idle connection, a connector without `begin`) goes the
 * general way. One instance per request holds what its steps share (a class: see
 * request/attempt.ts; its steps are methods, not closures made per request).
 */
class WarmSend<A> {
  private lease: leasing.Lease | null = null
  private settled = false
  private cancel: Effect.Effect<void> | undefined = undefined
  private resume: ((effect: Effect.Effect<A, HttpoolError>) => void) | null = null
  constructor(
    readonly steps: WarmSteps,
    readonly outgoing: loop.Outgoing,
    readonly wire: WireHeaders,
    readonly call: loop.Call,
    readonly limits: Limits,
    readonly then: loop.Then<A>
  ) {}

  /** The wait's registration: leases an idle connection and starts the request on it. */
  readonly register = (resume: (effect: Effect.Effect<A, HttpoolError>) => void): Effect.Effect<void> | undefined => {
    const { steps, outgoing, wire, call, limits } = this
    const lease = steps.leases.tryAcquire()
    const begin = lease?.slot.connection.begin
    if (lease === null || begin === undefined) {
      const back = lease === null ? null : steps.leases.releaseNow(lease, true)
      const general = steps.onward(null, outgoing, wire, call, limits, this.then)
      resume(back === null ? general : Effect.zipRight(back, general))
      return undefined
    }
    this.lease = lease
    const payload = outgoing.body.next()
    const request = new WireRequestOf(
      outgoing.method,
      outgoing.target,
      wire.list,
      body.framed(Either.isRight(payload) ? payload.right : null, wire.chunked),
      limits.read,
      limits.connect,
      call.preload,
      wire.chunked,
      IDEMPOTENT_METHODS.has(outgoing.method)
    )
    steps.counters.numRequests++
    this.resume = resume
    this.cancel = begin(request, this.sent) ?? undefined
    return Effect.suspend(this.interrupted)
  }

  /** The connector's answer. */
  private readonly sent = (sent: Effect.Effect<Connector.WireResponse, Connector.SendFailure>): void => {
    if (this.settled) return
    this.settled = true
    const resume = this.resume!
    // Nothing of the request is needed here any more (see `Ending` in cancelable.ts).
    this.resume = null
    this.cancel = undefined
    // A connector that settles synchronously resumes with an Exit: decided here at once.
    resume(
      Exit.isExit(sent)
        ? this.settle(sent as Exit.Exit<Connector.WireResponse, Connector.SendFailure>)
        : Effect.flatMap(Effect.exit(sent), (exit) => this.settle(exit))
    )
  }

  /** The fiber was interrupted while the request was out. */
  private readonly interrupted = (): Effect.Effect<void> => {
    if (this.settled) return Effect.void
    this.settled = true
    return Effect.zipRight(this.cancel ?? Effect.void, this.steps.leases.release(this.lease!, false))
  }

  /** What follows the send's outcome, the lease given back as the outcome says. */
  private settle(exit: Exit.Exit<Connector.WireResponse, Connector.SendFailure>): Effect.Effect<A, HttpoolError> {
    const { steps, outgoing, wire, call, limits, then } = this
    const lease = this.lease!
    if (Exit.isSuccess(exit) && !steps.timedOutIdle(exit.value, lease, false)) return this.answered(exit.value, lease)
    const back = steps.leases.releaseNow(lease, false)
    const failure = Exit.isSuccess(exit) ? null : Cause.failureOption(exit.cause)
    const next =
      failure === null
        ? steps.onward(stale, outgoing, wire, call, limits, then)
        : Option.isSome(failure)
          ? steps.onward({ _tag: "Failed", failure: failure.value, lease }, outgoing, wire, call, limits, then)
          : Effect.failCause((exit as Exit.Failure<never, never>).cause)
    return back === null ? next : Effect.zipRight(back, next)
  }

  /** The answer: a preloaded one gives its connection back now, a streamed one when read. */
  private answered(res: Connector.WireResponse, lease: leasing.Lease): Effect.Effect<A, HttpoolError> {
    const { steps, call, then } = this
    const holder = call.holder
    if (holder === null || (res.body !== null && holder.releaseEarly === true)) {
      const back = steps.leases.releaseNow(lease, true)
      const next = then.onSuccess(steps.exchangedOf(new Sent(res, lease, null), call.preload))
      return back === null ? next : Effect.zipRight(back, next)
    }
    const guard = new LeaseGuard(steps.leases, lease)
    if (holder.addNow?.(guard.release(false)) !== true) {
      // The holder closed while the request was out: the response is not wanted any more.
      return Effect.zipRight(guard.release(false), Effect.interrupt)
    }
    return then.onSuccess(steps.exchangedOf(new Sent(res, lease, guard), false))
  }
}

// Bodies and guards are class instances, made per response (see request/attempt.ts).

/** The body of `res`, read from its connection. */
class ReadFrom implements response.BodySource {
  constructor(
    readonly res: Connector.WireResponse,
    readonly guard: Guard,
    readonly attachPool: (error: HttpoolError) => HttpoolError
  ) {}
  // Built when read: most callers read `data` and never pay for a Stream. A stream takes
  // every chunk that has arrived in one pull when the connector can hand several over.
  readonly stream = (): Stream.Stream<Uint8Array, Response.BodyError> => {
    const { attachPool, guard, res } = this
    const chunks =
      res.readMany === undefined
        ? Stream.repeatEffectOption(
            res.read.pipe(
              Effect.mapError((failure) => Option.some(attachPool(failure.error) as Response.BodyError)),
              Effect.flatMap((chunk) => (chunk === null ? Effect.fail(Option.none()) : Effect.succeed(chunk)))
            )
          )
        : Stream.repeatEffectChunkOption(
            res.readMany.pipe(
              Effect.mapError((failure) => Option.some(attachPool(failure.error) as Response.BodyError)),
              Effect.flatMap((chunks) =>
                chunks === null ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(chunks))
              )
            )
          )
    return chunks.pipe(
      Stream.onEnd(guard.release(true)),
      Stream.onError(() => guard.release(false))
    )
  }
  // Reading the whole body needs no Stream: a loop over `read` is several times cheaper.
  readonly data = () =>
    readAll(this.res, this.attachPool).pipe(Effect.onExit((exit) => this.guard.release(Exit.isSuccess(exit))))
  readonly drain = () => Effect.flatMap(drain(this.res), (clean) => this.guard.release(clean))
}

/** A streamed response whose body had all arrived with its head: nothing left to read. */
class Whole implements response.BodySource {
  constructor(readonly whole: Uint8Array) {}
  readonly stream = () => (this.whole.length === 0 ? Stream.empty : Stream.succeed(this.whole))
  readonly data = () => Effect.succeed(this.whole)
  readonly drain = () => Effect.void
}

const whole = (bytes: Uint8Array): response.BodySource => new Whole(bytes)

/** A body that arrived whole with its head, its connection held until the body is taken. */
class HeldWhole implements response.BodySource {
  constructor(
    readonly bytes: Uint8Array,
    readonly guard: Guard
  ) {}
  readonly stream = () =>
    (this.bytes.length === 0 ? Stream.empty : Stream.succeed(this.bytes)).pipe(Stream.onEnd(this.guard.release(true)))
  readonly data = () => Effect.as(this.guard.release(true), this.bytes)
  readonly drain = () => this.guard.release(true)
}

/** Releases `lease` exactly once. */
class LeaseGuard implements Guard {
  private released = false
  constructor(
    readonly leases: leasing.Leasing,
    readonly lease: leasing.Lease
  ) {}
  readonly release = (reusable: boolean): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (this.released) return Effect.void
      this.released = true
      return this.leases.release(this.lease, reusable)
    })
}

/** Reads a streamed body to its end into one array. */
const readAll = (
  res: Connector.WireResponse,
  attachPool: (error: HttpoolError) => HttpoolError
): Effect.Effect<Uint8Array, Response.BodyError> =>
  Effect.gen(function* () {
    const chunks: Array<Uint8Array> = []
    let length = 0
    for (;;) {
      const chunk = yield* Effect.mapError(res.read, (failure) => attachPool(failure.error) as Response.BodyError)
      if (chunk === null) break
      chunks.push(chunk)
      length += chunk.length
    }
    if (chunks.length === 1) return chunks[0]
    const out = new Uint8Array(length)
    let offset = 0
    for (const chunk of chunks) {
      out.set(chunk, offset)
      offset += chunk.length
    }
    return out
  })

/** Reads a streamed body to its end; true when it ended cleanly. */
const drain = (res: Connector.WireResponse): Effect.Effect<boolean> =>
  Effect.gen(function* () {
    for (;;) {
      const chunk = yield* res.read
      if (chunk === null) return true
    }
  }).pipe(Effect.catchAll(() => Effect.as(res.abort, false)))
