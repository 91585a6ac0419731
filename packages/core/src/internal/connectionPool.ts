import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as ConnectionPool from "../ConnectionPool.js"
import * as Connector from "../Connector.js"
import {
  DecodeError,
  HostChangedError,
  type HttpoolError,
  type InvalidHeader,
  type LocationParseError,
  LocationValueError,
  isConnectTimeoutError,
  type PoolInfo,
  ProxySchemeUnknown,
  ReadTimeoutError,
  UnrewindableBodyError,
  unableToConnectToProxy,
  ValueError
} from "../Errors.js"
import * as Headers from "../Headers.js"
import type * as Response from "../Response.js"
import * as Retry from "../Retry.js"
import * as Timeout from "../Timeout.js"
import * as Url from "../Url.js"
import * as internalHeaders from "./headers.js"
import * as leasing from "./leasing.js"
import * as Metrics from "./metrics.js"
import * as requestMethods from "./requestMethods.js"
import * as response from "./response.js"

/** The User-Agent sent when neither the request nor the pool sets one. @internal */
export const DEFAULT_USER_AGENT = "httpool/0.1.0"

/** @internal */
export const DEFAULT_MAX_DECODED_SIZE = 64 * 1024 * 1024

const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"])
const METHODS_NOT_EXPECTING_BODY: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "DELETE",
  "TRACE",
  "OPTIONS",
  "CONNECT"
])
const CONTENT_HEADERS_DROPPED_ON_303 = [
  "Content-Encoding",
  "Content-Language",
  "Content-Location",
  "Content-Type",
  "Content-Length",
  "Digest",
  "Last-Modified"
]
const MAX_STACKED_ENCODINGS = 5

/** What a 303 drops along with the body when the request becomes a GET. @internal */
export const dropContentHeaders = (headers: Headers.Headers): Headers.Headers =>
  CONTENT_HEADERS_DROPPED_ON_303.reduce((h, name) => Headers.remove(h, name), headers)
const INVALID_METHOD = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/
const encoder = new TextEncoder()

/** @internal */
export const toMillis = (value: number | Duration.Duration | null | undefined): number | null =>
  value === null || value === undefined ? null : typeof value === "number" ? value * 1000 : Duration.toMillis(value)

/** Validates a method: a non-empty token (no space, CR, LF or NUL). @internal */
export const checkMethod = (method: string): Effect.Effect<void, ValueError> => {
  const error = methodError(method)
  return error === null ? Effect.void : Effect.fail(error)
}

/** The error for a method that is not a token, or null. @internal */
export const methodError = (method: string): ValueError | null =>
  method.length === 0 || INVALID_METHOD.test(method)
    ? new ValueError({ message: `Method cannot contain non-token characters ${JSON.stringify(method)}` })
    : null

// ---------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------

interface PreparedBody {
  /** What to send on this attempt, or an error when it cannot be sent again. */
  readonly next: () => Either.Either<string | Uint8Array | AsyncIterable<Uint8Array> | null, UnrewindableBodyError>
  readonly length: number | null
  readonly isStream: boolean
}

const isAsyncIterable = (u: unknown): u is AsyncIterable<Uint8Array> =>
  typeof u === "object" && u !== null && Symbol.asyncIterator in u

const prepareBody = (body: ConnectionPool.Body | undefined): Either.Either<PreparedBody, ValueError> => {
  if (body === undefined || body === null) return Either.right(noBody)
  if (typeof body === "string") {
    const bytes = encoder.encode(body)
    return Either.right({ next: () => Either.right(bytes), length: bytes.length, isStream: false })
  }
  if (body instanceof Uint8Array) {
    return Either.right({ next: () => Either.right(body), length: body.length, isStream: false })
  }
  if (Stream.StreamTypeId in body) {
    const stream = body as Stream.Stream<Uint8Array, unknown>
    return Either.right({ next: () => Either.right(Stream.toAsyncIterable(stream)), length: null, isStream: true })
  }
  if (isAsyncIterable(body)) {
    let used = false
    return Either.right({
      next: () => {
        if (used) {
          return Either.left(
            new UnrewindableBodyError({
              message: "Unable to record file position for rewinding request body during a redirect/retry."
            })
          )
        }
        used = true
        return Either.right(body)
      },
      length: null,
      isStream: true
    })
  }
  return Either.left(
    new ValueError({
      message: `Unsupported body type ${Object.prototype.toString.call(body)}: use a string, Uint8Array, Stream or AsyncIterable`
    })
  )
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes
}

// ---------------------------------------------------------------------------
// Headers on the wire
// ---------------------------------------------------------------------------

/** @internal */
export const hostHeader = (scheme: string, host: string, port: number): string => {
  const name = host.includes(":") ? `[${host}]` : host.endsWith(".") ? host.slice(0, -1) : host
  return port === Url.defaultPort(scheme) ? name : `${name}:${port}`
}

interface WireHeaders {
  readonly list: ReadonlyArray<string>
  readonly chunked: boolean
}

/**
 * The header lines of a request, in urllib3's order: Accept-Encoding (identity unless
 * given), User-Agent (unless given), then the caller's in their order and case. The Host
 * line is the connection's, unless the caller gives one. Framing is undici's, from the
 * body; a caller's Transfer-Encoding asks for chunked framing.
 */
const wireHeaders = (
  headers: Headers.Headers,
  method: string,
  body: PreparedBody,
  chunked: boolean,
  hostLine: string
): Either.Either<WireHeaders, ValueError> => {
  let hasHost = false
  let hasAcceptEncoding = false
  let hasUserAgent = false
  let hasContentLength = false
  let wantsChunked = chunked
  const lines: Array<string> = []
  for (const [name, value] of headers) {
    const lower = name.toLowerCase()
    if (lower === "host") hasHost = true
    else if (lower === "accept-encoding") hasAcceptEncoding = true
    else if (lower === "user-agent") hasUserAgent = true
    else if (lower === "content-length") hasContentLength = true
    if (value === Headers.SKIP_HEADER) continue
    if (lower === "transfer-encoding") {
      if (value.toLowerCase() !== "chunked") {
        return Either.left(new ValueError({ message: `Unsupported Transfer-Encoding ${JSON.stringify(value)}` }))
      }
      wantsChunked = true
      continue
    }
    if (lower === "keep-alive" || lower === "upgrade" || lower === "expect") {
      return Either.left(new ValueError({ message: `The ${name} header cannot be set on a request` }))
    }
    lines.push(name, value)
  }
  const prefix: Array<string> = []
  if (!hasHost) prefix.push("Host", hostLine)
  if (!hasAcceptEncoding) prefix.push("Accept-Encoding", "identity")
  if (!hasContentLength && !wantsChunked && body.length === null && !body.isStream) {
    if (!METHODS_NOT_EXPECTING_BODY.has(method)) prefix.push("Content-Length", "0")
  }
  if (!hasUserAgent) prefix.push("User-Agent", DEFAULT_USER_AGENT)
  return Either.right({ list: prefix.length === 0 ? lines : prefix.concat(lines), chunked: wantsChunked })
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

const contentEncodings = (
  headers: Headers.Headers,
  decoder: Connector.ContentDecoder
): Either.Either<ReadonlyArray<string>, DecodeError> => {
  const value = Headers.get(headers, "content-encoding")
  if (Option.isNone(value)) return Either.right([])
  const encodings = value.value
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e.length > 0)
  // As urllib3: a header naming no encoding we decode passes the body through untouched.
  if (!encodings.some((e) => decoder.supported.has(e))) return Either.right([])
  if (encodings.length > MAX_STACKED_ENCODINGS) {
    return Either.left(
      new DecodeError({
        message: `Too many content encodings in the chain: ${encodings.length} > ${MAX_STACKED_ENCODINGS}`
      })
    )
  }
  // Decoded last-applied first; decoding stops at an encoding we do not understand, which
  // is then passed through. `identity` changes nothing.
  const known: Array<string> = []
  for (let i = encodings.length - 1; i >= 0; i--) {
    if (encodings[i] === "identity") continue
    if (!decoder.supported.has(encodings[i])) break
    known.push(encodings[i])
  }
  return Either.right(known)
}

const hasNoBody = (method: string, status: number) =>
  method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200)

// ---------------------------------------------------------------------------
// The pool
// ---------------------------------------------------------------------------

interface Resolved {
  readonly scheme: "http" | "https"
  readonly host: string
  readonly port: number
}

const resolveOrigin = (options: ConnectionPool.Options): Either.Either<Resolved, ValueError | LocationValueError> => {
  const scheme = options.scheme ?? "http"
  if (scheme !== "http" && scheme !== "https") {
    return Either.left(new ValueError({ message: `A ConnectionPool's scheme is http or https, not ${scheme}` }))
  }
  let host = options.host.trim().toLowerCase()
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1)
  if (host.length === 0) return Either.left(new LocationValueError({ message: "No host specified." }))
  const port = options.port ?? Url.defaultPort(scheme)!
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Either.left(new ValueError({ message: `Invalid port ${port}` }))
  }
  return Either.right({ scheme, host, port })
}

const tlsOf = (options: ConnectionPool.TlsOptions): Connector.TlsOptions => ({
  caCerts: options.caCerts ?? null,
  caCertDir: options.caCertDir ?? null,
  caCertData: options.caCertData ?? null,
  certFile: options.certFile ?? null,
  keyFile: options.keyFile ?? null,
  keyPassword: options.keyPassword ?? null,
  certReqs: options.certReqs ?? null,
  assertHostname: options.assertHostname ?? null,
  assertFingerprint: options.assertFingerprint ?? null,
  serverHostname: options.serverHostname ?? null,
  sslMinimumVersion: options.sslMinimumVersion ?? null,
  sslMaximumVersion: options.sslMaximumVersion ?? null
})

/**
 * Where a streamed response's releases are registered: a Scope's `addFinalizer`, or a
 * lighter holder of the caller's own (the HttpClient adapter's), which runs them when the
 * response is done with.
 *
 * @internal
 */
export interface Holder {
  readonly add: (finalizer: Effect.Effect<void>) => Effect.Effect<void>
}

/** A Scope as a Holder. @internal */
export const holderOf = (scope: Scope.Scope): Holder => ({ add: (finalizer) => Scope.addFinalizer(scope, finalizer) })

/**
 * `urlopen` without the Scope in the environment: a preloaded request needs none (`null`),
 * a streamed one registers its release in the holder. httpool's own pools and managers
 * carry it, so managers and the HttpClient adapter need not make a Scope per request.
 *
 * @internal
 */
export const Unscoped: unique symbol = Symbol.for("@httpool/core/Unscoped")

/** @internal */
export interface UnscopedUrlopen {
  readonly [Unscoped]: (
    method: string,
    url: string,
    options: ConnectionPool.UrlopenOptions,
    holder: Holder | null
  ) => Effect.Effect<Response.Response | Response.StreamingResponse, HttpoolError>
}

/** @internal */
export const hasUnscoped = <A extends object>(u: A): u is A & UnscopedUrlopen => Unscoped in u

/** @internal */
export const make = (options: ConnectionPool.Options) =>
  Effect.gen(function* () {
    const connector = yield* Connector.Connector
    const origin = yield* resolveOrigin(options)
    const pool: PoolInfo = { scheme: origin.scheme, host: origin.host, port: origin.port }
    const defaultTimeout = yield* Timeout.from(options.timeout, Timeout.DEFAULT)
    const defaultRetries = yield* Retry.from(options.retries, Retry.DEFAULT, true)
    const defaultHeaders = yield* Headers.fromInput(options.headers)
    const maxsize = options.maxsize ?? 1
    if (!Number.isInteger(maxsize) || maxsize < 1) {
      return yield* Effect.fail(new ValueError({ message: `maxsize must be a positive integer, got ${maxsize}` }))
    }
    const defaultPoolTimeout = toMillis(options.poolTimeout)
    const maxDecodedSize = options.maxDecodedSize ?? DEFAULT_MAX_DECODED_SIZE
    const hostLine = hostHeader(origin.scheme, origin.host, origin.port)
    const proxy = yield* resolveProxy(options, origin)
    const baseTarget: Omit<Connector.ConnectionTarget, "connectTimeout"> = {
      scheme: origin.scheme,
      host: origin.host,
      port: origin.port,
      sourceAddress: options.sourceAddress ?? null,
      tls:
        origin.scheme !== "https"
          ? null
          : proxy !== null && proxy.forward
            ? tlsOf(options.proxyConfig ?? {})
            : tlsOf(options),
      tunnel: proxy?.tunnel ?? null
    }
    const counters = { numConnections: 0, numRequests: 0 }
    const poolLabel = Metrics.poolLabel(origin.scheme, origin.host, origin.port)
    const metrics = Metrics.forPool(poolLabel)
    const events: Connector.ConnectionEvents = {
      onSocket: () => {
        counters.numConnections++
        metrics.opened()
      }
    }
    const connectTimeoutOf = (timeout: Timeout.Timeout) => {
      const connect = Timeout.connectTimeout(timeout)
      return connect === null ? null : Duration.toMillis(connect)
    }
    const leases = yield* leasing.make({
      pool,
      maxsize,
      block: options.block ?? false,
      maxConnectionAge: toMillis(options.maxConnectionAge),
      open: () => connector.open({ ...baseTarget, connectTimeout: connectTimeoutOf(defaultTimeout) }, events),
      events: {
        onLease: (lease) => metrics.waited(lease.waitedMillis),
        onDiscard: metrics.discarded,
        onChange: metrics.counts
      }
    })
    yield* Effect.addFinalizer(() => leases.close)

    const isSameHost = (url: string): boolean => {
      if (url.startsWith("/")) return true
      const parsed = Url.parse(url)
      if (Either.isLeft(parsed)) return false
      const u = parsed.right
      if (u.host === null) return false
      const scheme = u.scheme ?? "http"
      const port = u.port ?? Url.defaultPort(scheme)
      return scheme === origin.scheme && Url.hostname(u) === origin.host && port === origin.port
    }

    const absoluteUrl = (target: string) => `${origin.scheme}://${hostLine}${target}`
    const forwarding = proxy !== null && proxy.forward

    /** What a request carries from one attempt to the next (redirects change it). */
    interface Attempt {
      readonly method: string
      readonly url: string
      readonly headers: Headers.Headers
      readonly body: PreparedBody
      readonly retries: Retry.Retry
    }

    /** The settings of one `urlopen` call, fixed over its attempts. */
    interface Call {
      readonly preload: boolean
      readonly decode: boolean
      readonly followRedirects: boolean
      readonly assertSameHost: boolean
      readonly chunked: boolean
      readonly timeout: Timeout.Timeout
      readonly connectTimeout: number | null
      readonly readTimeout: number | null
      readonly total: number | null
      readonly poolTimeout: number | null
      /** Where a streamed response's connection is held; null when preloading. */
      readonly holder: Holder | null
    }

    /** A response on the wire, with the lease that carried it. */
    interface Sent {
      readonly res: Connector.WireResponse
      readonly lease: leasing.Lease
      /** Gives a streamed response's connection back; null once preloaded (already given back). */
      readonly guard: Guard | null
    }

    /** A send that failed on `lease`. */
    interface Failed {
      readonly failure: Connector.SendFailure
      readonly lease: leasing.Lease
    }

    /**
     * A 408 on a reused connection: the server gave up on the idle connection (the 408 was
     * on its way, or already waiting in the socket) as the request went out, so the request
     * was never processed. It is sent again on a fresh connection, whatever its method, as
     * browsers do; a 408 on a fresh connection is the server's answer and goes to the caller.
     */
    const STALE: unique symbol = Symbol("stale")
    interface Stale {
      readonly [STALE]: true
    }
    const stale: Stale = { [STALE]: true }
    const timedOutIdle = (res: Connector.WireResponse, lease: leasing.Lease, fresh: boolean): boolean =>
      res.status === 408 && lease.reused && !fresh

    // The wire header lists of the last headers value seen (the pool's or a manager's own,
    // the same object on every request), for methods without and with a body.
    let wireCache: {
      readonly headers: Headers.Headers
      readonly lists: [WireHeaders | undefined, WireHeaders | undefined]
    } | null = null
    const wireFor = (
      headers: Headers.Headers,
      method: string,
      body: PreparedBody,
      chunked: boolean
    ): Either.Either<WireHeaders, ValueError> => {
      const sent = forwarding ? Headers.merge(headers, proxy.headers) : headers
      if (chunked || body.isStream || body.length !== null) return wireHeaders(sent, method, body, chunked, hostLine)
      if (wireCache === null || wireCache.headers !== headers) wireCache = { headers, lists: [undefined, undefined] }
      const slot = METHODS_NOT_EXPECTING_BODY.has(method) ? 0 : 1
      const cached = wireCache.lists[slot]
      if (cached !== undefined) return Either.right(cached)
      const built = wireHeaders(sent, method, body, chunked, hostLine)
      if (Either.isRight(built)) wireCache.lists[slot] = built.right
      return built
    }

    /**
     * One request on one leased connection; replays once on a fresh connection when that is
     * safe. The lease is taken and paired with its release in one uninterruptible step:
     * a preloaded response gives its connection back before this returns, a streamed one
     * registers the release in the call's Scope, so neither a failure nor an interruption
     * can keep it.
     */
    const sendOnce = (attempt: Attempt, wire: WireHeaders, target: string, call: Call, fresh: boolean) =>
      Effect.suspend((): Effect.Effect<Sent, HttpoolError> => {
        const payload = attempt.body.next()
        if (Either.isLeft(payload)) return Effect.fail(payload.left)
        const request: Connector.WireRequest = {
          method: attempt.method,
          path: target,
          headers: wire.list,
          body: payload.right instanceof Uint8Array && wire.chunked ? once(payload.right) : payload.right,
          readTimeout: call.readTimeout,
          connectTimeout: call.connectTimeout,
          preload: call.preload
        }
        const exchanged = Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(leases.acquire(restore, call.poolTimeout, fresh), (lease) => {
            counters.numRequests++
            const send = restore(lease.slot.connection.send(request))
            const failed = (cause: Cause.Cause<Connector.SendFailure>, release: Effect.Effect<void>) =>
              Effect.zipRight(
                release,
                Option.match(Cause.failureOption(cause), {
                  onSome: (failure) => Effect.succeed<Sent | Failed | Stale>({ failure, lease }),
                  // Interrupted (or a defect): nothing to decide, it goes on as it is.
                  onNone: () => Effect.failCause(cause as Cause.Cause<never>)
                })
              )
            const holder = call.holder
            if (holder === null) {
              return Effect.matchCauseEffect(send, {
                onFailure: (cause) => failed(cause, leases.release(lease, false)),
                onSuccess: (res) =>
                  timedOutIdle(res, lease, fresh)
                    ? Effect.as(leases.release(lease, false), stale as Sent | Failed | Stale)
                    : Effect.as(leases.release(lease, true), { res, lease, guard: null })
              })
            }
            const guard = makeGuard(lease)
            return Effect.zipRight(
              holder.add(guard.release(false)),
              Effect.matchCauseEffect(send, {
                onFailure: (cause) => failed(cause, guard.release(false)),
                onSuccess: (res) =>
                  timedOutIdle(res, lease, fresh)
                    ? Effect.as(guard.release(false), stale)
                    : Effect.succeed<Sent | Failed | Stale>({ res, lease, guard })
              })
            )
          })
        )
        return Effect.flatMap(exchanged, (outcome) => {
          if (STALE in outcome) return sendOnce(attempt, wire, target, call, true)
          if ("res" in outcome) return Effect.succeed(outcome)
          const { failure, lease } = outcome
          const replayable =
            !fresh &&
            lease.reused &&
            !failure.responseStarted &&
            (IDEMPOTENT_METHODS.has(attempt.method) || !failure.requestSent)
          return replayable ? sendOnce(attempt, wire, target, call, true) : Effect.fail(attachPool(failure.error))
        })
      })

    /** Releases a lease exactly once: the first call decides whether it is reused. */
    const makeGuard = (lease: leasing.Lease) => {
      let released = false
      return {
        lease,
        release: (reusable: boolean): Effect.Effect<void> =>
          Effect.suspend(() => {
            if (released) return Effect.void
            released = true
            return leases.release(lease, reusable)
          })
      }
    }
    type Guard = ReturnType<typeof makeGuard>

    const attachPool = (error: HttpoolError): HttpoolError => {
      if (error._tag === "ReadTimeoutError" && error.pool === null) {
        return new ReadTimeoutError({ pool, url: error.url, reason: error.reason })
      }
      // A forwarding pool's connections go to the proxy: failing to reach it is a ProxyError,
      // as a tunnel's is (and still a connect error for Retry).
      if (forwarding && (isConnectTimeoutError(error) || error._tag === "SSLError")) {
        return unableToConnectToProxy(error)
      }
      return error
    }

    const readTimeoutError = (url: string, timeout: Timeout.Timeout) =>
      new ReadTimeoutError({
        pool,
        url,
        reason: `Read timed out. (total timeout=${timeout.total === null ? "None" : Duration.format(timeout.total)})`
      })

    /** Decodes a preloaded body. */
    const decodeBody = (headers: Headers.Headers, data: Uint8Array) =>
      Effect.flatMap(contentEncodings(headers, connector.decoder), (encodings) =>
        Effect.reduce(encodings, data, (bytes, encoding) => connector.decoder.decode(encoding, bytes, maxDecodedSize))
      )

    const decodeStream = (
      headers: Headers.Headers,
      stream: Stream.Stream<Uint8Array, Response.BodyError>
    ): Stream.Stream<Uint8Array, Response.BodyError> => {
      const encodings = contentEncodings(headers, connector.decoder)
      if (Either.isLeft(encodings)) return Stream.fail(encodings.left)
      return encodings.right.reduce(
        (s, encoding) => s.pipe(connector.decoder.decodeStream(encoding, maxDecodedSize)),
        stream
      )
    }

    const defaultReadTimeout = readTimeoutOf(defaultTimeout)
    const defaultConnectTimeout = connectTimeoutOf(defaultTimeout)

    /** Validates a call's options without running anything: most calls give none. */
    const prepareCall = (
      method: string,
      opts: ConnectionPool.UrlopenOptions,
      preload: boolean,
      holder: Holder | null
    ): Either.Either<readonly [Call, Attempt], HttpoolError> => {
      const invalid = methodError(method)
      if (invalid !== null) return Either.left(invalid)
      const followRedirects = opts.redirect !== false
      let timeout = defaultTimeout
      if (opts.timeout !== undefined) {
        const given = Timeout.from(opts.timeout, defaultTimeout)
        if (Either.isLeft(given)) return Either.left(given.left)
        timeout = given.right
      }
      let retries = defaultRetries
      if (opts.retries !== undefined || !followRedirects) {
        const given = Retry.from(opts.retries, defaultRetries, followRedirects)
        if (Either.isLeft(given)) return Either.left(given.left)
        retries = given.right
      }
      let headers = defaultHeaders
      if (opts.headers !== undefined) {
        const given = Headers.fromInput(opts.headers)
        if (Either.isLeft(given)) return Either.left(given.left)
        headers = given.right
      }
      const skip = Headers.checkSkipHeader(headers)
      if (Either.isLeft(skip)) return Either.left(skip.left)
      const body = prepareBody(opts.body)
      if (Either.isLeft(body)) return Either.left(body.left)
      const call: Call = {
        preload,
        decode: opts.decodeContent !== false,
        followRedirects,
        assertSameHost: opts.assertSameHost !== false,
        chunked: opts.chunked === true,
        timeout,
        connectTimeout: timeout === defaultTimeout ? defaultConnectTimeout : connectTimeoutOf(timeout),
        readTimeout: timeout === defaultTimeout ? defaultReadTimeout : readTimeoutOf(timeout),
        total: timeout.total === null ? null : Duration.toMillis(timeout.total),
        poolTimeout: opts.poolTimeout === undefined ? defaultPoolTimeout : toMillis(opts.poolTimeout),
        holder
      }
      return Either.right([call, { method, url: "", headers, body: body.right, retries }] as const)
    }

    /** Sends `attempt`, then follows its redirects and retries. */
    const step = (
      call: Call,
      attempt: Attempt
    ): Effect.Effect<Response.Response | Response.StreamingResponse, HttpoolError> => {
      if (call.assertSameHost && !isSameHost(attempt.url)) {
        return Effect.fail(new HostChangedError({ pool, url: attempt.url }))
      }
      const target = requestTargetOf(attempt.url, forwarding)
      if (Either.isLeft(target)) return Effect.fail(target.left)
      const wire = wireFor(attempt.headers, attempt.method, attempt.body, call.chunked)
      if (Either.isLeft(wire)) return Effect.fail(wire.left)
      const sent = sendOnce(attempt, wire.right, target.right, call, false)
      return Effect.matchEffect(
        call.total === null
          ? sent
          : Effect.timeoutFail(sent, {
              duration: Duration.millis(call.total),
              onTimeout: () => readTimeoutError(attempt.url, call.timeout)
            }),
        {
          onFailure: (error) => afterError(call, attempt, error),
          onSuccess: (sent) => afterResponse(call, attempt, sent, forwarding ? target.right : absoluteUrl(target.right))
        }
      )
    }

    const afterError = (call: Call, attempt: Attempt, error: HttpoolError) =>
      error._tag === "EmptyPoolError" ||
      error._tag === "ClosedPoolError" ||
      error._tag === "ValueError" ||
      error._tag === "UnrewindableBodyError"
        ? Effect.fail(error)
        : Effect.gen(function* () {
            const retries = yield* Retry.increment(attempt.retries, {
              method: attempt.method,
              url: attempt.url,
              error,
              pool
            })
            metrics.retried(error._tag)
            yield* Retry.sleep(retries)
            yield* Effect.logWarning(
              `Retrying (${Retry.describe(retries)}) after connection broken by '${error._tag}': ${attempt.url}`
            )
            return yield* step(call, { ...attempt, retries })
          })

    const afterResponse = (
      call: Call,
      attempt: Attempt,
      sent: Sent,
      fullUrl: string
    ): Effect.Effect<Response.Response | Response.StreamingResponse, HttpoolError> => {
      const { res, lease, guard } = sent
      metrics.response(res.status)
      const responseHeaders = internalHeaders.fromFlat(res.headers)
      const redirectLocation = response.REDIRECT_STATUSES.has(res.status)
        ? Option.getOrNull(Headers.get(responseHeaders, "location"))
        : null
      const head: response.Head = {
        status: res.status,
        reason: res.reason,
        headers: responseHeaders,
        url: fullUrl,
        retries: attempt.retries,
        redirectLocation,
        connection: {
          pool: poolLabel,
          id: lease.slot.connection.id,
          reused: lease.reused,
          waitedMillis: lease.waitedMillis,
          remoteAddress: lease.slot.connection.remoteAddress?.() ?? null
        }
      }
      const isRedirect = call.followRedirects && redirectLocation !== null
      if (
        !isRedirect &&
        !Retry.isRetry(attempt.retries, attempt.method, res.status, Headers.has(responseHeaders, "retry-after"))
      ) {
        return finish(guard, res, head, call.decode, attempt.method)
      }
      return Effect.gen(function* () {
        const retryResponse: Retry.RetryResponse = {
          status: res.status,
          redirectLocation,
          retryAfter: Option.getOrNull(Headers.get(responseHeaders, "retry-after"))
        }
        /** Reads and discards what is left of the body, then gives the connection back. */
        const drainAndRelease =
          guard === null ? Effect.void : Effect.flatMap(drain(res), (clean) => guard.release(clean))
        const next = isRedirect ? resolveLocation(fullUrl, redirectLocation) : Either.right(attempt.url)
        if (Either.isLeft(next)) {
          yield* drainAndRelease
          return yield* Effect.fail(next.left)
        }
        const incremented = Retry.increment(attempt.retries, {
          method: attempt.method,
          url: attempt.url,
          response: retryResponse,
          pool
        })
        if (Either.isLeft(incremented)) {
          if (isRedirect ? attempt.retries.raiseOnRedirect : attempt.retries.raiseOnStatus) {
            yield* drainAndRelease
            return yield* Effect.fail(incremented.left)
          }
          return yield* finish(guard, res, head, call.decode, attempt.method)
        }
        yield* drainAndRelease
        metrics.retried(isRedirect ? "redirect" : "status")
        yield* Retry.sleep(incremented.right, retryResponse)
        const seeOther = isRedirect && res.status === 303 && attempt.method !== "HEAD"
        return yield* step(call, {
          method: seeOther ? "GET" : attempt.method,
          url: next.right,
          headers: seeOther ? dropContentHeaders(attempt.headers) : attempt.headers,
          body: seeOther ? noBody : attempt.body,
          retries: incremented.right
        })
      })
    }

    const failed = (error: HttpoolError) =>
      Effect.sync(() => {
        metrics.failed(error._tag)
      })

    const run = (
      method: string,
      url: string,
      opts: ConnectionPool.UrlopenOptions,
      preload: boolean,
      holder: Holder | null
    ): Effect.Effect<Response.Response | Response.StreamingResponse, HttpoolError> =>
      Effect.suspend(() => {
        const prepared = prepareCall(method, opts, preload, holder)
        if (Either.isLeft(prepared)) return Effect.fail(prepared.left)
        const [call, attempt] = prepared.right
        return Effect.tapError(step(call, { ...attempt, url }), failed)
      })

    const urlopen = (method: string, url: string, opts: ConnectionPool.UrlopenOptions = {}) =>
      opts.preloadContent === false
        ? Effect.flatMap(Effect.scope, (scope) => run(method, url, opts, false, holderOf(scope)))
        : run(method, url, opts, true, null)

    /** Turns a wire response into the caller's response; a streamed one holds its lease until read. */
    const finish = (
      guard: Guard | null,
      res: Connector.WireResponse,
      head: response.Head,
      decode: boolean,
      method: string
    ): Effect.Effect<Response.Response | Response.StreamingResponse, HttpoolError> => {
      if (guard === null) {
        const raw = res.body ?? EMPTY
        return decode &&
          raw.length > 0 &&
          !hasNoBody(method, head.status) &&
          Headers.has(head.headers, "content-encoding")
          ? decodeBody(head.headers, raw).pipe(
              // A redirect's body is only drained, as in urllib3: it never fails the request.
              head.redirectLocation === null ? identity : Effect.orElseSucceed(() => raw),
              Effect.map((data) => response.makeResponse(head, data))
            )
          : Effect.succeed(response.makeResponse(head, raw))
      }
      const decodes = decode && !hasNoBody(method, head.status)
      return Effect.succeed(
        response.makeStreamingResponse(head, {
          // Built when read: most callers read `data` and never pay for a Stream.
          stream: () => {
            const raw = Stream.repeatEffectOption(
              res.read.pipe(
                Effect.mapError((failure) => Option.some(attachPool(failure.error) as Response.BodyError)),
                Effect.flatMap((chunk) => (chunk === null ? Effect.fail(Option.none()) : Effect.succeed(chunk)))
              )
            ).pipe(
              Stream.onEnd(guard.release(true)),
              Stream.onError(() => guard.release(false))
            )
            return decodes ? decodeStream(head.headers, raw) : raw
          },
          // Reading the whole body needs no Stream: a loop over `read`, then one decode (as a
          // preloaded body), is several times cheaper per request.
          data: () => {
            const whole = readAll(res, attachPool).pipe(Effect.onExit((exit) => guard.release(Exit.isSuccess(exit))))
            return decodes
              ? Effect.flatMap(whole, (bytes) =>
                  bytes.length === 0 || !Headers.has(head.headers, "content-encoding")
                    ? Effect.succeed(bytes)
                    : decodeBody(head.headers, bytes)
                )
              : whole
          },
          drain: () => Effect.flatMap(drain(res), (clean) => guard.release(clean))
        })
      )
    }

    const methods = requestMethods.make(urlopen, () => defaultHeaders)

    const service: ConnectionPool.ConnectionPool & UnscopedUrlopen = {
      [Unscoped]: (method, url, opts, holder) => run(method, url, opts, holder === null, holder),
      scheme: origin.scheme,
      host: origin.host,
      port: origin.port,
      urlopen: urlopen as ConnectionPool.ConnectionPool["urlopen"],
      request: methods.request,
      requestEncodeUrl: methods.requestEncodeUrl,
      requestEncodeBody: methods.requestEncodeBody,
      isSameHost,
      close: leases.close,
      stats: Effect.zipWith(leases.idleCount, leases.inUseCount, (idle, inUse) => ({
        numConnections: counters.numConnections,
        numRequests: counters.numRequests,
        idle,
        inUse
      }))
    }
    return service
  })

const EMPTY = new Uint8Array(0)

const readTimeoutOf = (timeout: Timeout.Timeout): number | null => {
  const read = Timeout.readTimeout(timeout, null)
  return read === null ? null : Duration.toMillis(read)
}

const noBody: PreparedBody = { next: () => Either.right(null), length: null, isStream: false }

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

const requestTargetOf = (url: string, absolute: boolean): Either.Either<string, LocationValueError | HttpoolError> =>
  Either.map(Url.parse(url), absolute ? Url.absoluteTarget : Url.requestTarget)

interface ResolvedProxy {
  /** The pool's origin is the proxy: requests go in absolute form with the proxy headers. */
  readonly forward: boolean
  readonly headers: Headers.Headers
  readonly tunnel: Connector.TunnelOptions | null
}

const resolveProxy = (
  options: ConnectionPool.Options,
  origin: Resolved
): Effect.Effect<ResolvedProxy | null, ProxySchemeUnknown | LocationValueError | LocationParseError | InvalidHeader> =>
  Effect.gen(function* () {
    if (options.proxy === undefined || options.proxy === null) return null
    const url = yield* Url.parseAbsolute(options.proxy)
    const scheme = url.scheme
    if (scheme !== "http" && scheme !== "https") return yield* Effect.fail(new ProxySchemeUnknown({ scheme }))
    const host = Url.hostname(url) ?? ""
    const port = url.port ?? Url.defaultPort(scheme)!
    const headers = yield* Headers.fromInput(options.proxyHeaders ?? undefined)
    const forward = origin.scheme === scheme && origin.host === host && origin.port === port
    if (forward) return { forward, headers, tunnel: null }
    const flat: Array<string> = []
    for (const [name, value] of headers) flat.push(name, value)
    return {
      forward,
      headers,
      tunnel: {
        proxyScheme: scheme,
        proxyHost: host,
        proxyPort: port,
        proxyTls: scheme === "https" ? tlsOf(options.proxyConfig ?? {}) : null,
        headers: flat
      }
    }
  })

const resolveLocation = (base: string, location: string): Either.Either<string, HttpoolError> =>
  Either.map(Url.resolve(base, location), Url.format)
