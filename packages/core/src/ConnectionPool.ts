/**
 * A pool of keep-alive connections to one origin (scheme, host, port), as urllib3's
 * `HTTPConnectionPool` / `HTTPSConnectionPool`.
 *
 * Connections are opened lazily and reused most-recently-returned first. With `block: false`
 * (the default) a request that finds every connection busy opens an extra one, which is
 * closed when it comes back to a full pool; with `block: true` at most `maxsize` connections
 * exist and a request waits up to `poolTimeout` for one, then fails with `EmptyPoolError`;
 * waiters are served first come, first served.
 *
 * @example
 * import { Effect } from "effect"
 * import { ConnectionPool } from "@httpool/core"
 * import { NodeConnector } from "@httpool/node"
 *
 * const program = Effect.gen(function* () {
 *   const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: 8080, maxsize: 4 })
 *   const response = yield* pool.request("GET", "/status")
 *   return response.status
 * })
 * Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(NodeConnector.layer)))
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as ConnectionLimit from "./ConnectionLimit.js"
import type * as Connector from "./Connector.js"
import type { ContentDecoder } from "./ContentDecoder.js"
import type {
  ClosedPoolError,
  ConnectTimeoutError,
  DecodeError,
  EmptyPoolError,
  HostChangedError,
  HttpoolError,
  InvalidHeader,
  LocationParseError,
  LocationValueError,
  MaxRetryError,
  NameResolutionError,
  NewConnectionError,
  ProtocolError,
  ProxyError,
  ProxySchemeUnknown,
  ReadTimeoutError,
  SSLError,
  UnrewindableBodyError,
  ValueError
} from "./Errors.js"
import type * as Fields from "./Fields.js"
import type * as Headers from "./Headers.js"
import * as internal from "./internal/connectionPool.js"
import type * as Response from "./Response.js"
import type * as Retry from "./Retry.js"
import type * as Timeout from "./Timeout.js"

/**
 * The TLS options of an https pool, as urllib3's keyword arguments (camelCased): the fields
 * of `Connector.TlsOptions` (where each is described), each optional. All default to null:
 * verification against the runtime's trusted CAs, host name checked, TLS 1.2 or later.
 *
 * @since 0.1.0
 * @category models
 */
export type TlsOptions = Connector.TlsOptionsInput

/**
 * How a pool reaches its origin through a proxy (urllib3's `proxy_config`): TLS settings
 * for the connection to an https proxy, and whether https requests are forwarded to it
 * instead of tunnelled.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProxyConfig extends TlsOptions {
  /** Send https requests to an https proxy in absolute form, without a CONNECT tunnel. Default false. */
  readonly useForwardingForHttps?: boolean
}

/**
 * A SOCKS proxy every connection of a pool goes through (urllib3's `_socks_options`, which
 * its SOCKSProxyManager hands to each pool; `SocksProxyManager` and a `ProxyManager` given
 * a `socks*://` URL set it).
 *
 * @since 0.2.0
 * @category models
 */
export interface SocksOptions {
  /** 4 or 5. */
  readonly socksVersion: 4 | 5
  /** The proxy's host name or IP address. */
  readonly proxyHost: string
  readonly proxyPort: number
  /** SOCKS5: the RFC 1929 user name; SOCKS4: the userid. Default none. */
  readonly username?: string | null
  /** SOCKS5: the RFC 1929 password. Default none (empty when a username is given). */
  readonly password?: string | null
  /** The proxy resolves the target's name (socks5h, socks4a). Default false. */
  readonly rdns?: boolean
}

/**
 * Options of a ConnectionPool.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends TlsOptions {
  /** `"http"` (default) or `"https"`. */
  readonly scheme?: "http" | "https"
  /** Host name or IP address; IPv6 with or without brackets. */
  readonly host: string
  /** Default: 80 for http, 443 for https. */
  readonly port?: number | null
  /** Connections kept for reuse (and, with `block`, the most that exist). Default 1. */
  readonly maxsize?: number
  /** Wait for a free connection (first come, first served) instead of opening extra ones. Default false. */
  readonly block?: boolean
  /** How long a blocking pool waits for a connection; default null (forever). Numbers are seconds. */
  readonly poolTimeout?: number | Duration.Duration | null
  /**
   * Default timeout of requests; a number is seconds for connect and read; fields left
   * without a limit keep the defaults. Default `Timeout.DEFAULT`: connect 10 s, read 300 s,
   * no total. `null` (or `Timeout.NONE`): no limits at all.
   */
  readonly timeout?: Timeout.Input
  /** Default retry policy of requests. Default `Retry(3)`. */
  readonly retries?: Retry.Input
  /** Headers sent with every request that gives none of its own. */
  readonly headers?: Headers.Input
  /** Local address and port (0: any) to connect from. */
  readonly sourceAddress?: readonly [host: string, port: number] | null
  /** Connections older than this are closed at checkout instead of reused. Default null (no limit). */
  readonly maxConnectionAge?: number | Duration.Duration | null
  /** Largest decoded body, in bytes; past it a `DecodeError`. Default 67108864 (64 MiB). */
  readonly maxDecodedSize?: number
  /**
   * The proxy (`http://` or `https://` URL) this pool goes through; a ProxyManager sets it.
   * A pool whose origin is the proxy itself forwards requests in absolute form with
   * `proxyHeaders`; any other pool tunnels each connection with CONNECT, sending
   * `proxyHeaders` only to the proxy. Default null: connect directly.
   */
  readonly proxy?: string | null
  /** Headers for the proxy (e.g. Proxy-Authorization). Default none. */
  readonly proxyHeaders?: Headers.Input | null
  /** TLS settings for an https proxy and forwarding of https. Default: verify, tunnel https. */
  readonly proxyConfig?: ProxyConfig | null
  /**
   * Connect to this Unix domain socket instead of TCP to `host:port`: requests, `Host`
   * (from `host`), TLS for https and everything else stay as they are. Default null (TCP).
   * Cannot be combined with `proxy` (`ValueError`).
   */
  readonly socketPath?: string | null
  /**
   * How each TCP socket is set up, as urllib3's `socket_options` but by name: a list of
   * `["TCP_NODELAY", on]`, `["SO_KEEPALIVE", on]` (on: a boolean, 1 or 0) and
   * `["TCP_KEEPIDLE", seconds]`. A list given replaces the defaults, so `[]` turns no-delay and
   * keep-alive off. Default null: `TCP_NODELAY` on, `SO_KEEPALIVE` on after 60 s idle. Any
   * other option fails with `ValueError`.
   */
  readonly socketOptions?: ReadonlyArray<SocketOption> | null
  /**
   * urllib3's send and read chunk size. Sockets here write what they are given and read what
   * arrives, so only 16384 (urllib3's default, and what a PoolKey holds when none is set) is
   * accepted; any other value fails with `ValueError` rather than split pools for nothing.
   */
  readonly blocksize?: number | null
  /**
   * The SOCKS proxy each connection goes through (TLS to an https origin inside the
   * tunnel); not together with `proxy`. Default null.
   */
  readonly socksOptions?: SocksOptions | null
  /**
   * A cap on connections shared with other pools (a manager with `maxTotalConnections` gives
   * its own to every pool it creates); it is not part of the pool key. Default null: only
   * `maxsize` and `block` limit this pool.
   */
  readonly connectionLimit?: ConnectionLimit.ConnectionLimit | null
}

/**
 * One entry of `socketOptions`.
 *
 * @since 0.1.0
 * @category models
 */
export type SocketOption =
  | readonly [name: "TCP_NODELAY" | "SO_KEEPALIVE", on: boolean | 0 | 1]
  | readonly [name: "TCP_KEEPIDLE", seconds: number]

/**
 * A request body: text (sent as UTF-8) and bytes get a Content-Length; a `Stream` or an
 * `AsyncIterable` is sent chunked. Text, bytes and Streams are replayed on redirects and
 * retries; an `AsyncIterable` can be sent once (`UnrewindableBodyError` otherwise).
 *
 * @since 0.1.0
 * @category models
 */
export type Body = string | Uint8Array | Stream.Stream<Uint8Array, unknown> | AsyncIterable<Uint8Array> | null

/**
 * Options of one request.
 *
 * @since 0.1.0
 * @category models
 */
export interface UrlopenOptions {
  readonly body?: Body
  /** Replace the pool's headers for this request (they are not merged). */
  readonly headers?: Headers.Input
  /** Retry policy for this request; `false` turns retries and redirects off. Default: the pool's. */
  readonly retries?: Retry.Input
  /** Follow redirects (on this origin only, for a pool). Default true. */
  readonly redirect?: boolean
  /** Fail with `HostChangedError` for a URL on another origin. Default true. */
  readonly assertSameHost?: boolean
  /**
   * Timeout for this request, merged over the pool's field by field: a field this leaves
   * without a limit keeps the pool's. `null` (or `Timeout.NONE`): no limits at all. Default:
   * the pool's.
   */
  readonly timeout?: Timeout.Input
  /** How long to wait for a connection of a blocking pool. Default: the pool's. */
  readonly poolTimeout?: number | Duration.Duration | null
  /** Read the body before returning (default true); false gives a `StreamingResponse`. */
  readonly preloadContent?: boolean
  /** Decode gzip, deflate, br (default true). */
  readonly decodeContent?: boolean
  /** Send the body with chunked transfer encoding even when its length is known. Default false. */
  readonly chunked?: boolean
}

/**
 * Options of `request`, `requestEncodeUrl` and `requestEncodeBody`: `fields` go into the
 * query for GET, HEAD, DELETE and OPTIONS and into the body otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestOptions extends UrlopenOptions {
  readonly fields?: Fields.Input
  /** A value sent as JSON (`Content-Type: application/json` unless given). */
  readonly json?: unknown
  /** Multipart (default true) or `application/x-www-form-urlencoded` body fields. */
  readonly encodeMultipart?: boolean
  /** The multipart boundary; default: 32 random hex characters. */
  readonly multipartBoundary?: string
}

/**
 * A request method: preloaded by default, streamed with `preloadContent: false` (the
 * connection is then held in the caller's Scope). `E` is what it fails with: a pool's
 * methods fail with `UrlopenError`, a PoolManager's with `PoolManager.UrlopenError`.
 *
 * A literal `preloadContent` picks the precise result. An options value whose
 * `preloadContent` is a plain `boolean` (a `RequestOptions` forwarded by a wrapper) gives
 * the union: a `Response` or a `StreamingResponse` (tell them apart with
 * `Response.isStreamingResponse`), in a Scope in case it streams.
 *
 * A literal `retries: false` (retries and redirects off) takes `MaxRetryError` out of `E`:
 * such a call fails with the error itself, and a redirect or a retryable status is returned
 * as the response. Any other `retries` (a policy, a count, a forwarded value) keeps `E`.
 *
 * @example
 * import { ConnectionPool, PoolManager } from "@httpool/core"
 * import { Effect } from "effect"
 *
 * // a user's wrapper that forwards whatever options it is given
 * const get = (url: string, options?: ConnectionPool.RequestOptions) =>
 *   Effect.flatMap(PoolManager.PoolManager, (manager) => manager.request("GET", url, options))
 *
 * // retries off: a refused connection fails as itself, never as a MaxRetryError
 * const once = (url: string) =>
 *   Effect.flatMap(PoolManager.PoolManager, (manager) => manager.request("GET", url, { retries: false })).pipe(
 *     Effect.catchTag("NewConnectionError", () => Effect.succeed(null))
 *   )
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestMethod<O, E = HttpoolError> {
  (
    method: string,
    url: string,
    options: O & { readonly preloadContent: false; readonly retries: false }
  ): Effect.Effect<Response.StreamingResponse, Exclude<E, MaxRetryError>, Scope.Scope>
  (
    method: string,
    url: string,
    options: O & { readonly preloadContent?: true; readonly retries: false }
  ): Effect.Effect<Response.Response, Exclude<E, MaxRetryError>>
  (
    method: string,
    url: string,
    options: O & { readonly preloadContent?: boolean; readonly retries: false }
  ): Effect.Effect<Response.Response | Response.StreamingResponse, Exclude<E, MaxRetryError>, Scope.Scope>
  (
    method: string,
    url: string,
    options: O & { readonly preloadContent: false }
  ): Effect.Effect<Response.StreamingResponse, E, Scope.Scope>
  (method: string, url: string, options?: O & { readonly preloadContent?: true }): Effect.Effect<Response.Response, E>
  (
    method: string,
    url: string,
    options?: O & { readonly preloadContent?: boolean }
  ): Effect.Effect<Response.Response | Response.StreamingResponse, E, Scope.Scope>
}

/**
 * Why `make` fails: an option that is invalid. `ValueError` for a bad scheme, port,
 * `maxsize`, timeout or retry policy; `LocationValueError` / `LocationParseError` for a host
 * (or proxy URL) that cannot be used; `InvalidHeader` for a header that cannot be sent;
 * `ProxySchemeUnknown` for a proxy that is not `http://` or `https://`.
 *
 * @since 0.1.0
 * @category errors
 */
export type MakeError = ValueError | LocationValueError | LocationParseError | InvalidHeader | ProxySchemeUnknown

/**
 * What one attempt on a connection fails with: the connection could not be opened
 * (`ConnectTimeoutError`, `NewConnectionError`, `NameResolutionError`, `SSLError`,
 * `ProxyError`) or broke or stalled while the request was sent or its answer read
 * (`ProtocolError`, `ReadTimeoutError`).
 *
 * The retry policy decides how a request that meets one ends: while it counts such errors
 * they are retried and, once it runs out, the request fails with a `MaxRetryError` whose
 * `reason` is the last of them. A request fails with the error itself when retries are off
 * (`retries: false`, or `total: false`), when the policy's `connect` (connection errors) or
 * `read` (`ProtocolError`, `ReadTimeoutError`) is `false`, and on a read error of a method
 * the policy does not repeat (a POST, with the default `allowedMethods`).
 *
 * @since 0.1.0
 * @category errors
 */
export type AttemptError =
  | ConnectTimeoutError
  | NewConnectionError
  | NameResolutionError
  | SSLError
  | ProxyError
  | ProtocolError
  | ReadTimeoutError

/**
 * What a pool's `urlopen`, `request`, `requestEncodeUrl` and `requestEncodeBody` fail with.
 *
 * - Before anything is sent: `ValueError` (an invalid method, option, header or body,
 *   `fields` with `body`), `InvalidHeader` (a header that cannot be sent),
 *   `LocationValueError` / `LocationParseError` (a URL that cannot be used),
 *   `HostChangedError` (a URL of another origin while `assertSameHost` is on, also when a
 *   redirect leads there).
 * - Taking a connection: `EmptyPoolError` (a blocking pool's `poolTimeout` passed) and
 *   `ClosedPoolError` (the pool was closed, before or during the request). Neither is retried.
 * - On the wire: an `AttemptError`, or `MaxRetryError` once the retry policy runs out
 *   (`reason`: the last `AttemptError`, or a `ResponseError` for too many redirects or
 *   statuses of `statusForcelist`); `UnrewindableBodyError` when a body sent once would have
 *   to be sent again; `InvalidHeader` for a `Retry-After` that cannot be read;
 *   `LocationValueError` / `LocationParseError` for a redirect's `Location`.
 * - Reading a preloaded body: `DecodeError` (corrupt or oversized compressed body), never
 *   retried.
 *
 * A pool never fails with `URLSchemeUnknown`, `ProxySchemeUnknown`, `FullPoolError` or a bare
 * `ResponseError`. `Errors.reason` / `Errors.catchReason` reach the error inside a
 * `MaxRetryError`.
 *
 * @since 0.1.0
 * @category errors
 */
export type UrlopenError =
  | ValueError
  | InvalidHeader
  | LocationValueError
  | LocationParseError
  | HostChangedError
  | EmptyPoolError
  | ClosedPoolError
  | AttemptError
  | MaxRetryError
  | UnrewindableBodyError
  | DecodeError

/**
 * Counters of a pool.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Sockets opened so far. */
  readonly numConnections: number
  /** Requests sent so far (each retry counts). */
  readonly numRequests: number
  /** Connections waiting for reuse. */
  readonly idle: number
  /** Connections serving a request now. */
  readonly inUse: number
}

/**
 * A ConnectionPool.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectionPool {
  readonly scheme: "http" | "https"
  /** The host, lower-cased, IPv6 without brackets. */
  readonly host: string
  readonly port: number
  /** Sends one request on this origin; `url` is a path or an absolute URL of the same origin. */
  readonly urlopen: RequestMethod<UrlopenOptions, UrlopenError>
  /** `urlopen` with `fields` encoded by method, or `json`. */
  readonly request: RequestMethod<RequestOptions, UrlopenError>
  /** `urlopen` with `fields` encoded into the query string. */
  readonly requestEncodeUrl: RequestMethod<RequestOptions, UrlopenError>
  /** `urlopen` with `fields` encoded into the body. */
  readonly requestEncodeBody: RequestMethod<RequestOptions, UrlopenError>
  /** Whether a URL (or a path, always) is on this pool's origin. */
  readonly isSameHost: (url: string) => boolean
  /**
   * Closes every connection now, idle or in use (a request waiting for its answer fails with
   * `ClosedPoolError`); later requests fail with `ClosedPoolError`.
   */
  readonly close: Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
}

/**
 * Creates a ConnectionPool in the current Scope; closing the Scope closes the pool and every
 * connection it opened. Fails when an option is invalid.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<ConnectionPool, MakeError, Scope.Scope | Connector.Connector | ContentDecoder> = internal.make
