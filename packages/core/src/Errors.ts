/**
 * The typed errors of httpool, named as in urllib3.
 *
 * urllib3 arranges its exceptions in a class hierarchy ("a `NewConnectionError` is a
 * `ConnectTimeoutError`"). Tagged errors do not inherit, so httpool keeps each error flat
 * and expresses the hierarchy as refinements over the union: `isConnectTimeoutError(e)` is
 * true for a `ConnectTimeoutError`, a `NewConnectionError` and a `NameResolutionError`,
 * exactly where urllib3's `isinstance(e, ConnectTimeoutError)` would be.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Predicate from "effect/Predicate"
import * as internal from "./internal/errors.js"

/**
 * The origin a pool talks to, as errors report it.
 *
 * @since 0.1.0
 * @category models
 */
export interface PoolInfo {
  readonly scheme: string
  readonly host: string
  readonly port: number | null
}

/**
 * Renders a pool as urllib3 does in messages: `HTTPConnectionPool(host='localhost', port=80)`.
 *
 * @since 0.1.0
 * @category utils
 */
export const describePool: (pool: PoolInfo) => string = internal.describePool

/**
 * Removes `user:password@` from a URL (after leading whitespace, with or without a scheme,
 * up to the last `@` of the authority); every error and retry history entry that holds a
 * URL stores it through this.
 *
 * @since 0.1.0
 * @category utils
 */
export const redactUrl: (url: string) => string = internal.redactUrl

// ---------------------------------------------------------------------------
// Arguments and locations
// ---------------------------------------------------------------------------

/**
 * An argument of the wrong type or out of range (urllib3 raises `ValueError` or
 * `TypeError` for these): a negative timeout, `fields` together with `body`, a body of an
 * unsupported type.
 *
 * @since 0.1.0
 * @category errors
 */
export class ValueError extends Data.TaggedError("ValueError")<{
  readonly message: string
}> {}

/**
 * A URL or host that cannot be used: no host, a relative URL where an absolute one is
 * needed, a URL without a scheme.
 *
 * @since 0.1.0
 * @category errors
 */
export class LocationValueError extends Data.TaggedError("LocationValueError")<{
  readonly message: string
}> {}

/**
 * A URL that does not parse: a bad port, control characters in the host, a malformed
 * percent-escape.
 *
 * @since 0.1.0
 * @category errors
 */
export class LocationParseError extends Data.TaggedError("LocationParseError")<{
  readonly location: string
}> {
  constructor(args: { readonly location: string }) {
    super({ location: internal.redactUrl(args.location) })
  }
  override get message(): string {
    return `Failed to parse: ${this.location}`
  }
}

/**
 * A URL scheme for which no pool class or key function is registered.
 *
 * @since 0.1.0
 * @category errors
 */
export class URLSchemeUnknown extends Data.TaggedError("URLSchemeUnknown")<{
  readonly scheme: string | null
}> {
  override get message(): string {
    return `Not supported URL scheme ${this.scheme ?? "None"}`
  }
}

/**
 * A proxy URL whose scheme is missing or is neither `http` nor `https`.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProxySchemeUnknown extends Data.TaggedError("ProxySchemeUnknown")<{
  readonly scheme: string | null
}> {
  override get message(): string {
    return this.scheme === null || this.scheme === "localhost"
      ? "Proxy URL had no scheme, should start with http:// or https://"
      : `Proxy URL had unsupported scheme ${this.scheme}, should use http:// or https://`
  }
}

/**
 * A header name or value that cannot be sent (CR, LF or NUL in it), or a response header
 * that cannot be understood (a malformed `Retry-After`).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidHeader extends Data.TaggedError("InvalidHeader")<{
  readonly message: string
}> {}

// ---------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------

/**
 * The connection could not be established within the connect timeout.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectTimeoutError extends Data.TaggedError("ConnectTimeoutError")<{
  readonly message: string
}> {}

/**
 * The connection could not be established: refused, unreachable, a bad source address.
 * For retries it counts as a connect timeout, as in urllib3.
 *
 * @since 0.1.0
 * @category errors
 */
export class NewConnectionError extends Data.TaggedError("NewConnectionError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * The host name did not resolve.
 *
 * @since 0.1.0
 * @category errors
 */
export class NameResolutionError extends Data.TaggedError("NameResolutionError")<{
  readonly host: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `Failed to resolve '${this.host}' (${this.reason})`
  }
}

/**
 * The TLS handshake or verification failed: unknown CA, wrong host name, a fingerprint
 * that does not match.
 *
 * @since 0.1.0
 * @category errors
 */
export class SSLError extends Data.TaggedError("SSLError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * Why a SOCKS proxy gave no tunnel, one name per reply code and per broken answer:
 *
 * - SOCKS5 replies (RFC 1928): `GeneralFailure` (0x01), `NotAllowed` (0x02, refused by
 *   the proxy's rules), `NetworkUnreachable` (0x03), `HostUnreachable` (0x04),
 *   `ConnectionRefused` (0x05), `TtlExpired` (0x06), `CommandNotSupported` (0x07),
 *   `AddressTypeNotSupported` (0x08), `UnknownReply` (any other code);
 * - SOCKS4 replies: `Rejected` (0x5b), `IdentdUnreachable` (0x5c), `IdentdMismatch`
 *   (0x5d), `UnknownReply` (any other code);
 * - before the request: `NoAcceptableMethods` (the SOCKS5 proxy accepts none of the
 *   authentication methods offered), `AuthenticationFailed` (RFC 1929 credentials refused);
 * - a broken answer: `MalformedReply` (a wrong version, a bad address type, garbage),
 *   `ClosedBeforeReply` (the proxy closed before answering in full);
 * - on this side: `AddressNotSupported` (SOCKS4 cannot carry the target's address: an IPv6
 *   one, or a name that resolved to none in IPv4).
 *
 * @since 0.2.0
 * @category models
 */
export type SocksReason =
  | "GeneralFailure"
  | "NotAllowed"
  | "NetworkUnreachable"
  | "HostUnreachable"
  | "ConnectionRefused"
  | "TtlExpired"
  | "CommandNotSupported"
  | "AddressTypeNotSupported"
  | "Rejected"
  | "IdentdUnreachable"
  | "IdentdMismatch"
  | "UnknownReply"
  | "NoAcceptableMethods"
  | "AuthenticationFailed"
  | "MalformedReply"
  | "ClosedBeforeReply"
  | "AddressNotSupported"

/**
 * What a SOCKS proxy answered when it gave no tunnel (`ProxyError.socks`).
 *
 * @since 0.2.0
 * @category models
 */
export interface SocksFailure {
  /** The SOCKS version spoken: 4 (socks4, socks4a) or 5 (socks5, socks5h). */
  readonly version: 4 | 5
  readonly reason: SocksReason
  /** The reply (or RFC 1929 status) code the proxy sent, or null when there was none to read. */
  readonly reply: number | null
}

/**
 * The proxy refused or failed the request: unreachable, a CONNECT answered with anything
 * but 2xx, a SOCKS proxy's refusal (`socks` says which), a TLS failure talking to it.
 * `error` is what went wrong underneath (for a SOCKS refusal, the `NewConnectionError`
 * urllib3's SOCKSProxyManager raises, so retries count it as a connect error).
 *
 * @since 0.1.0
 * @category errors
 */
export class ProxyError extends Data.TaggedError("ProxyError")<{
  readonly message: string
  readonly error: HttpoolError | null
  readonly status?: number
  readonly proxyAuthenticate?: string
  /** Set when a SOCKS proxy gave no tunnel: the version, the reason and its reply code. @since 0.2.0 */
  readonly socks?: SocksFailure
}> {}

/**
 * The connection broke in the middle of a request or response: reset, closed early, a
 * truncated or malformed body.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProtocolError extends Data.TaggedError("ProtocolError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

// ---------------------------------------------------------------------------
// Pools and requests
// ---------------------------------------------------------------------------

/**
 * No connection could be had from a blocking pool within `poolTimeout`.
 *
 * @since 0.1.0
 * @category errors
 */
export class EmptyPoolError extends Data.TaggedError("EmptyPoolError")<{
  readonly pool: PoolInfo
  readonly reason: string
}> {
  override get message(): string {
    return `${internal.describePool(this.pool)}: ${this.reason}`
  }
}

/**
 * More connections were returned to a blocking pool than it holds.
 *
 * @since 0.1.0
 * @category errors
 */
export class FullPoolError extends Data.TaggedError("FullPoolError")<{
  readonly pool: PoolInfo
  readonly reason: string
}> {
  override get message(): string {
    return `${internal.describePool(this.pool)}: ${this.reason}`
  }
}

/**
 * The pool was closed (its Scope ended, or `close` was called) before it could serve.
 *
 * @since 0.1.0
 * @category errors
 */
export class ClosedPoolError extends Data.TaggedError("ClosedPoolError")<{
  readonly pool: PoolInfo
  readonly reason: string
}> {
  override get message(): string {
    return `${internal.describePool(this.pool)}: ${this.reason}`
  }
}

/**
 * No response byte arrived within the read timeout, or the total deadline passed.
 *
 * @since 0.1.0
 * @category errors
 */
export class ReadTimeoutError extends Data.TaggedError("ReadTimeoutError")<{
  readonly pool: PoolInfo | null
  readonly url: string
  readonly reason: string
}> {
  constructor(args: { readonly pool: PoolInfo | null; readonly url: string; readonly reason: string }) {
    super({ ...args, url: internal.redactUrl(args.url) })
  }
  override get message(): string {
    return this.pool === null ? this.reason : `${internal.describePool(this.pool)}: ${this.reason}`
  }
}

/**
 * A ConnectionPool was asked for a URL on another origin while `assertSameHost` is on.
 *
 * @since 0.1.0
 * @category errors
 */
export class HostChangedError extends Data.TaggedError("HostChangedError")<{
  readonly pool: PoolInfo
  readonly url: string
}> {
  constructor(args: { readonly pool: PoolInfo; readonly url: string }) {
    super({ ...args, url: internal.redactUrl(args.url) })
  }
  override get message(): string {
    return `${internal.describePool(this.pool)}: Tried to open a foreign host with url: ${this.url}`
  }
}

/**
 * A response that the retry policy would not accept: "too many redirects", "too many 500
 * error responses". It is the `reason` of a `MaxRetryError`.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseError extends Data.TaggedError("ResponseError")<{
  readonly message: string
  readonly status: number | null
}> {}

/**
 * The retry policy ran out. `reason` is the error or `ResponseError` that used up the last
 * retry.
 *
 * @since 0.1.0
 * @category errors
 */
export class MaxRetryError extends Data.TaggedError("MaxRetryError")<{
  readonly pool: PoolInfo | null
  readonly url: string
  readonly reason: HttpoolError | null
}> {
  constructor(args: { readonly pool: PoolInfo | null; readonly url: string; readonly reason: HttpoolError | null }) {
    super({ ...args, url: internal.redactUrl(args.url) })
  }
  override get message(): string {
    const text = `Max retries exceeded with url: ${this.url} (Caused by ${
      this.reason === null ? "None" : internal.describeReason(this.reason)
    })`
    return this.pool === null ? text : `${internal.describePool(this.pool)}: ${text}`
  }
}

/**
 * A response body could not be decoded (corrupt gzip, deflate or brotli data, too many
 * stacked encodings, or a decoded size over the cap).
 *
 * @since 0.1.0
 * @category errors
 */
export class DecodeError extends Data.TaggedError("DecodeError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * A request body had to be sent again (redirect or retry) but could not be replayed, such
 * as a Stream that was already consumed.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnrewindableBodyError extends Data.TaggedError("UnrewindableBodyError")<{
  readonly message: string
}> {}

/**
 * Wraps a failure to reach a proxy (connect, TLS) in a `ProxyError` whose message says so.
 * A TLS failure that shows the proxy answered in plain HTTP says that the proxy URL should
 * probably be `http://`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unableToConnectToProxy = (error: HttpoolError): ProxyError =>
  error._tag === "ProxyError"
    ? error
    : new ProxyError({
        message:
          error._tag === "SSLError" && internal.looksLikePlainHttp(error.message)
            ? `Unable to connect to proxy: ${error.message}. Your proxy appears to only use HTTP and not HTTPS, try changing your proxy URL to be HTTP.`
            : `Unable to connect to proxy: ${error.message}`,
        error
      })

/**
 * Every error httpool fails with.
 *
 * @since 0.1.0
 * @category models
 */
export type HttpoolError =
  | ValueError
  | LocationValueError
  | LocationParseError
  | URLSchemeUnknown
  | ProxySchemeUnknown
  | InvalidHeader
  | ConnectTimeoutError
  | NewConnectionError
  | NameResolutionError
  | SSLError
  | ProxyError
  | ProtocolError
  | EmptyPoolError
  | FullPoolError
  | ClosedPoolError
  | ReadTimeoutError
  | HostChangedError
  | ResponseError
  | MaxRetryError
  | DecodeError
  | UnrewindableBodyError

const tags = new Set<string>([
  "ValueError",
  "LocationValueError",
  "LocationParseError",
  "URLSchemeUnknown",
  "ProxySchemeUnknown",
  "InvalidHeader",
  "ConnectTimeoutError",
  "NewConnectionError",
  "NameResolutionError",
  "SSLError",
  "ProxyError",
  "ProtocolError",
  "EmptyPoolError",
  "FullPoolError",
  "ClosedPoolError",
  "ReadTimeoutError",
  "HostChangedError",
  "ResponseError",
  "MaxRetryError",
  "DecodeError",
  "UnrewindableBodyError"
])

const oneOf =
  <E extends HttpoolError>(...names: ReadonlyArray<E["_tag"]>) =>
  (u: unknown): u is E =>
    Predicate.hasProperty(u, "_tag") && names.includes(u._tag as E["_tag"])

/**
 * Whether a value is one of httpool's errors (urllib3's `HTTPError`).
 *
 * @since 0.1.0
 * @category refinements
 */
export const isHttpoolError = (u: unknown): u is HttpoolError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag)

/**
 * urllib3's `PoolError`: errors that name the pool they happened in.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isPoolError: (
  u: unknown
) => u is EmptyPoolError | FullPoolError | ClosedPoolError | MaxRetryError | HostChangedError | ReadTimeoutError =
  oneOf("EmptyPoolError", "FullPoolError", "ClosedPoolError", "MaxRetryError", "HostChangedError", "ReadTimeoutError")

/**
 * urllib3's `RequestError`: pool errors that also name the URL.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isRequestError: (u: unknown) => u is MaxRetryError | HostChangedError | ReadTimeoutError = oneOf(
  "MaxRetryError",
  "HostChangedError",
  "ReadTimeoutError"
)

/**
 * urllib3's `ConnectTimeoutError`, which `NewConnectionError` and `NameResolutionError`
 * extend.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isConnectTimeoutError: (
  u: unknown
) => u is ConnectTimeoutError | NewConnectionError | NameResolutionError = oneOf(
  "ConnectTimeoutError",
  "NewConnectionError",
  "NameResolutionError"
)

/**
 * urllib3's `NewConnectionError`, which `NameResolutionError` extends.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isNewConnectionError: (u: unknown) => u is NewConnectionError | NameResolutionError = oneOf(
  "NewConnectionError",
  "NameResolutionError"
)

/**
 * urllib3's `TimeoutError`: connect and read timeouts, and the connection errors that
 * extend them.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isTimeoutError: (
  u: unknown
) => u is ConnectTimeoutError | NewConnectionError | NameResolutionError | ReadTimeoutError = oneOf(
  "ConnectTimeoutError",
  "NewConnectionError",
  "NameResolutionError",
  "ReadTimeoutError"
)

/**
 * urllib3's `LocationValueError`, which `LocationParseError`, `URLSchemeUnknown` and
 * `ProxySchemeUnknown` extend.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isLocationValueError: (
  u: unknown
) => u is LocationValueError | LocationParseError | URLSchemeUnknown | ProxySchemeUnknown = oneOf(
  "LocationValueError",
  "LocationParseError",
  "URLSchemeUnknown",
  "ProxySchemeUnknown"
)

/**
 * urllib3's `URLSchemeUnknown`, which `ProxySchemeUnknown` extends.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isURLSchemeUnknown: (u: unknown) => u is URLSchemeUnknown | ProxySchemeUnknown = oneOf(
  "URLSchemeUnknown",
  "ProxySchemeUnknown"
)

// ---------------------------------------------------------------------------
// The final reason
// ---------------------------------------------------------------------------

/**
 * What `reason` can return for an error of type `E`: `E` itself when it cannot hold a
 * `MaxRetryError`, otherwise `E` without `MaxRetryError` plus any error a retry can end on.
 *
 * @since 0.1.0
 * @category models
 */
export type Reason<E> = [Extract<E, MaxRetryError>] extends [never] ? E : Exclude<E, MaxRetryError> | HttpoolError

/**
 * The error that decided a failure. With the default `Retry(3)` a refused connection fails
 * as `MaxRetryError({ reason: NewConnectionError })`; `reason` returns the
 * `NewConnectionError` (following nested `MaxRetryError`s). A `MaxRetryError` without a
 * reason, and every other error, is returned as it is.
 *
 * @example
 * import { Errors } from "@httpool/core"
 *
 * const refused = new Errors.NewConnectionError({ message: "connect ECONNREFUSED" })
 * const failure = new Errors.MaxRetryError({ pool: null, url: "/", reason: refused })
 * console.log(Errors.reason(failure)._tag) // "NewConnectionError"
 *
 * @since 0.1.0
 * @category utils
 */
export const reason: <E>(error: E) => Reason<E> = internal.reason as <E>(error: E) => Reason<E>

/**
 * Replaces every `MaxRetryError` an effect fails with by its `reason`, so that
 * `Effect.catchTag("NewConnectionError", ...)` (or `catchTags`) then sees the cause. The
 * retry history is lost: keep the `MaxRetryError` (use `catchReason`) when you need it.
 *
 * @example
 * import { Effect } from "effect"
 * import { Errors, PoolManager } from "@httpool/core"
 *
 * const program = Effect.gen(function* () {
 *   const manager = yield* PoolManager.PoolManager
 *   return yield* manager.request("GET", "http://localhost:1/")
 * }).pipe(
 *   Errors.unwrapReason,
 *   Effect.catchTag("NewConnectionError", () => Effect.succeed(null))
 * )
 *
 * @since 0.1.0
 * @category combinators
 */
export const unwrapReason = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, Reason<E>, R> =>
  Effect.mapError(self, reason)

/**
 * Handles a failure by the tag of its final `reason`: the error itself when it has that tag,
 * or a `MaxRetryError` (however nested) whose reason has it. The handler receives the reason
 * and the original error (the `MaxRetryError`, with the retry history in its message); other
 * failures pass through unchanged.
 *
 * @example
 * import { Effect } from "effect"
 * import { Errors, PoolManager } from "@httpool/core"
 *
 * const program = Effect.gen(function* () {
 *   const manager = yield* PoolManager.PoolManager
 *   return yield* manager.request("GET", "http://localhost:1/")
 * }).pipe(
 *   Errors.catchReason("NewConnectionError", (refused) => Effect.succeed(refused.message))
 * )
 *
 * @since 0.1.0
 * @category combinators
 */
export const catchReason: {
  <E, const K extends HttpoolError["_tag"], A1, E1, R1>(
    tag: K,
    f: (reason: Extract<HttpoolError, { readonly _tag: K }>, error: NoInfer<E>) => Effect.Effect<A1, E1, R1>
  ): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | A1, Exclude<E, { readonly _tag: K }> | E1, R | R1>
  <A, E, R, const K extends HttpoolError["_tag"], A1, E1, R1>(
    self: Effect.Effect<A, E, R>,
    tag: K,
    f: (reason: Extract<HttpoolError, { readonly _tag: K }>, error: NoInfer<E>) => Effect.Effect<A1, E1, R1>
  ): Effect.Effect<A | A1, Exclude<E, { readonly _tag: K }> | E1, R | R1>
} = dual(
  3,
  <A, E, R, A1, E1, R1>(
    self: Effect.Effect<A, E, R>,
    tag: string,
    f: (reason: unknown, error: E) => Effect.Effect<A1, E1, R1>
  ): Effect.Effect<A | A1, E | E1, R | R1> =>
    Effect.catchIf(
      self,
      (error): error is E => internal.hasReasonTag(error, [tag]),
      (error) => f(internal.reason(error), error)
    )
)
