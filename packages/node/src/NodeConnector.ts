/**
 * httpool's `Connector` for Node.js: every `Connection` is one socket at a time and one
 * request at a time on it, spoken by httpool's own HTTP/1.1 engine: the request head written
 * in one piece, the answer read by Node's own llhttp parser (the one `node:http` uses), the
 * socket kept alive between requests. httpool opens the sockets itself: plain TCP for http,
 * TLS with the pool's settings for https, through CONNECT or SOCKS tunnels when the route
 * says so.
 *
 * The wire: the request line, `host` (the pool's `host[:port]`, unless the request gives a
 * Host), `connection: keep-alive` (`close` on a socket's last request), the request's headers
 * in order, then the framing: `content-length` for a body of known size (a declared
 * Content-Length must match it, else `ValueError`), `transfer-encoding: chunked` for a
 * streamed body without one, `content-length: 0` for an empty body only when the method
 * expects one. A header name that is not a token, a value with CR, LF or NUL, a method or
 * target that cannot go on a request line is refused before anything is sent. While other
 * requests wait for their answers, the head of a request without body is written at the end
 * of the event loop's turn with the others sent in that turn, so that a server reads them in
 * one go; a request sent alone is written at once.
 *
 * Sockets: TCP no-delay and keep-alive are on unless a pool's `socketOptions` say otherwise;
 * names are resolved by the `Resolver` found in the context when the layer is built (else
 * Node's `dns.lookup`), with the `resolve` overrides and `dnsCache` options over it; a host
 * name resolving to both IPv6 and IPv4 is tried with Happy Eyeballs (`autoSelectFamily`);
 * `sourceAddress` binds the local address; a pool's `socketPath` connects to a Unix domain
 * socket instead; the connect timeout covers TCP and the TLS handshake together. A plain
 * socket (http without a tunnel, or a Unix socket) reads up to 256 KiB at a time into one
 * buffer shared by all of them (`net.connect`'s `onread`) rather than a fresh one per read,
 * and the engine copies what it keeps: large bodies cost a third less CPU that way, and a
 * streamed one comes in fewer, larger chunks.
 *
 * TLS: verification is on unless `certReqs` is `"NONE"` / `"CERT_NONE"`; trust comes from
 * `caCerts` (a PEM file), `caCertDir` (every PEM certificate in the directory), `caCertData`
 * (PEM text or DER bytes), else Node's root store; the minimum version is TLS 1.2; ALPN offers
 * `http/1.1` only. SNI is `serverHostname` or the host, without a trailing dot, and never an
 * IP address. The certificate must name `assertHostname` (when a string), else
 * `serverHostname`, else the host; `assertHostname: false` skips the name check. With
 * `assertFingerprint` (md5, sha1 or sha256 hex by length, colons optional, any case) the
 * certificate must have that digest and, as in urllib3, the name is not checked. TLS settings
 * are read once per `TlsOptions` value and host, then reused by every connection. A pool's
 * `sslContext` (a `tls.SecureContext`) replaces the context built from the CA, certificate and
 * version options (combining them is a `ValueError`); the connector's `tls` option adds raw
 * `tls.connect` options (ciphers, curves, ...) under the pool's own settings.
 *
 * Errors: a refused, unreachable or unbindable connection is `NewConnectionError` (its
 * message names host:port and the errno, e.g. `[Errno 111] Connection refused
 * (ECONNREFUSED)`); a name that does not resolve is `NameResolutionError`; no connection
 * within the connect timeout is `ConnectTimeoutError`; any failure of the TLS handshake or
 * verification (unknown CA, wrong name, fingerprint mismatch, a client certificate the server
 * wanted) is `SSLError`; silence past the read timeout (waiting for headers, or between body
 * chunks) is `ReadTimeoutError`; a connection that breaks mid-exchange (reset, closed early, a
 * body shorter than its Content-Length, a malformed response) is `ProtocolError`.
 *
 * Differences from urllib3 worth knowing: the connection is closed after a `HEAD` request
 * (a server that wrongly sends a body after it cannot corrupt the next answer), so a HEAD is
 * never followed by another request on its socket; bytes that arrive on an idle socket, or an
 * answer that comes before its request was all written, drop the socket; an idle socket is
 * closed after the server's `Keep-Alive: timeout` hint minus `keepAliveTimeoutThreshold`, or
 * `keepAliveTimeout` without a hint, and the next request on that connection dials again.
 *
 * @example
 * import * as NodeConnector from "@httpool/node/NodeConnector"
 * import * as PoolManager from "@httpool/core/PoolManager"
 * import * as Layer from "effect/Layer"
 *
 * const live = PoolManager.layer().pipe(Layer.provide(NodeConnector.layer))
 *
 * @since 0.1.0
 */
import type * as Connector from "@httpool/core/Connector"
import type * as ContentDecoder from "@httpool/core/ContentDecoder"
import type * as Errors from "@httpool/core/Errors"
import type * as Resolver from "@httpool/core/Resolver"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as tls from "node:tls"
import * as internal from "./internal/connector.js"

/**
 * How the connections are tuned. Every field is optional; the
 * defaults are in `defaults`.
 *
 * Times follow httpool's one rule: a plain number is **seconds** (as urllib3's, and as every
 * pool, request and retry timeout of httpool), and any other `Duration.DurationInput`
 * (`Duration.millis(250)`, `"4 seconds"`) is accepted too.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * How long an idle keep-alive socket stays open when the server gave no
   * `Keep-Alive: timeout` hint. Default 4 seconds (most servers close idle sockets after 5 s).
   */
  readonly keepAliveTimeout?: Duration.DurationInput
  /** Upper bound on an idle socket's life from a server's hint. Default 600 seconds. */
  readonly keepAliveMaxTimeout?: Duration.DurationInput
  /**
   * Time taken off a server's `Keep-Alive: timeout` hint, so that httpool closes an
   * idle socket before the server does (`timeout=5` keeps it 4 s). Default 1 second.
   */
  readonly keepAliveTimeoutThreshold?: Duration.DurationInput
  /**
   * Bytes of a streamed response buffered ahead of the reader; past it the socket is no
   * longer read until the reader catches up (to half of it). Default 65536.
   */
  readonly highWaterMark?: number
  /** Largest response head (status line and headers) accepted, in bytes. Default 65536. */
  readonly maxHeaderSize?: number
  /**
   * Requests sent on one socket at most: the last one goes with `Connection: close` and the
   * next request on the connection dials a new socket. Default null (no limit).
   */
  readonly maxRequestsPerConnection?: number | null
  /**
   * Happy Eyeballs (`net.connect`'s `autoSelectFamily`): every address of a name is tried, an
   * IPv6 and an IPv4 one interleaved, each given `autoSelectFamilyAttemptTimeout` before the
   * next starts too; the first to connect wins. With false only the first address is tried.
   * Default true.
   */
  readonly autoSelectFamily?: boolean
  /** How long each address is tried alone before the next one starts too. Default 0.25 seconds (at least 10 ms). */
  readonly autoSelectFamilyAttemptTimeout?: Duration.DurationInput
  /**
   * Names pinned to addresses, curl's `--resolve host:port:address[,address]` (`*` for any host
   * or port): see `Resolver.withOverrides`. Default none.
   */
  readonly resolve?: ReadonlyArray<string>
  /** Keep resolved addresses for `timeToLive` (see `Resolver.cached`). Default none: every connection asks. */
  readonly dnsCache?: Resolver.CacheOptions
  /**
   * Raw `tls.connect` options (which include the secure context's: `ciphers`, `ecdhCurve`,
   * `sigalgs`, `honorCipherOrder`, `secureOptions`, ...) for every TLS connection. httpool's
   * own settings win where both speak: the pool's verification, CA, client certificate and
   * version options, SNI and ALPN. Default none.
   */
  readonly tls?: tls.ConnectionOptions
}

/**
 * The values used for options that are not given (times in seconds).
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults: {
  readonly keepAliveTimeout: number
  readonly keepAliveMaxTimeout: number
  readonly keepAliveTimeoutThreshold: number
  readonly highWaterMark: number
  readonly maxHeaderSize: number
  readonly maxRequestsPerConnection: number | null
  readonly autoSelectFamily: boolean
  readonly autoSelectFamilyAttemptTimeout: number
} = {
  keepAliveTimeout: internal.defaultSettings.keepAliveTimeout / 1000,
  keepAliveMaxTimeout: internal.defaultSettings.keepAliveMaxTimeout / 1000,
  keepAliveTimeoutThreshold: internal.defaultSettings.keepAliveTimeoutThreshold / 1000,
  highWaterMark: internal.defaultSettings.highWaterMark,
  maxHeaderSize: internal.defaultSettings.maxHeaderSize,
  maxRequestsPerConnection: internal.defaultSettings.maxRequestsPerConnection,
  autoSelectFamily: internal.defaultSettings.autoSelectFamily,
  autoSelectFamilyAttemptTimeout: internal.defaultSettings.autoSelectFamilyAttemptTimeout / 1000
}

/** A time option in milliseconds, as the engine's settings hold them; NaN (refused later) when invalid. */
const millis = (value: Duration.DurationInput | undefined): number | undefined => {
  if (value === undefined) return undefined
  if (typeof value === "number") return value * 1000
  return Option.match(Duration.decodeUnknown(value), { onNone: () => Number.NaN, onSome: Duration.toMillis })
}

/** The options converted at the boundary: the internal settings stay milliseconds. */
const toInternal = (options: Options): internal.Options & internal.Resolution => {
  const out: {
    -readonly [K in keyof (internal.Options & internal.Resolution)]: (internal.Options & internal.Resolution)[K]
  } = {}
  const keepAliveTimeout = millis(options.keepAliveTimeout)
  const keepAliveMaxTimeout = millis(options.keepAliveMaxTimeout)
  const keepAliveTimeoutThreshold = millis(options.keepAliveTimeoutThreshold)
  if (keepAliveTimeout !== undefined) out.keepAliveTimeout = keepAliveTimeout
  if (keepAliveMaxTimeout !== undefined) out.keepAliveMaxTimeout = keepAliveMaxTimeout
  if (keepAliveTimeoutThreshold !== undefined) out.keepAliveTimeoutThreshold = keepAliveTimeoutThreshold
  if (options.highWaterMark !== undefined) out.highWaterMark = options.highWaterMark
  if (options.maxHeaderSize !== undefined) out.maxHeaderSize = options.maxHeaderSize
  if (options.maxRequestsPerConnection !== undefined) out.maxRequestsPerConnection = options.maxRequestsPerConnection
  if (options.autoSelectFamily !== undefined) out.autoSelectFamily = options.autoSelectFamily
  const attemptTimeout = millis(options.autoSelectFamilyAttemptTimeout)
  if (attemptTimeout !== undefined) out.autoSelectFamilyAttemptTimeout = attemptTimeout
  if (options.tls !== undefined) out.tls = options.tls
  if (options.resolve !== undefined) out.resolve = options.resolve
  if (options.dnsCache !== undefined) out.dnsCache = options.dnsCache
  return out
}

/**
 * Makes the Connector service, its names resolved by the `Resolver` of the context if there
 * is one. Fails with `ValueError` when an option is out of range or a `resolve` entry does
 * not parse.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Connector.Service, Errors.ValueError> =>
  internal.make(toInternal(options))

/**
 * Provides `Connector` with the default options, and `ContentDecoder` over Node's zlib
 * (`NodeContentDecoder.layer`). A `Resolver` in the context when it is built resolves names.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Connector.Connector | ContentDecoder.ContentDecoder> = internal.layer

/**
 * Provides `Connector` with the given options, and `ContentDecoder` over Node's zlib.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: Options
): Layer.Layer<Connector.Connector | ContentDecoder.ContentDecoder, Errors.ValueError> =>
  internal.layerWith(toInternal(options))

/**
 * The Connector layer for a set of options: `layer` when there are none (it cannot fail),
 * `layerWith(options)` otherwise. What `NodePoolManager.layer`, `NodeProxyManager.layer*` and
 * `NodeHttpClient.layer*` use for their `connector` option.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFor = (
  options: Options | undefined
): Layer.Layer<Connector.Connector | ContentDecoder.ContentDecoder, Errors.ValueError> =>
  options === undefined ? internal.layer : layerWith(options)
