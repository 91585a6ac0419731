/**
 * The seam between httpool's platform-agnostic pools and a platform's sockets.
 *
 * A `Connector` opens `Connection`s: each one carries one request at a time over at most
 * one socket, reconnecting by itself when its socket was closed while idle. The pools in
 * `@httpool/core` decide which connection serves which request, when to wait, retry,
 * discard or close; a `Connector` only moves bytes. `@httpool/node` provides one built on
 * undici (`NodeConnector.layer`).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type { HttpoolError } from "./Errors.js"
import * as internalCancelable from "./internal/cancelable.js"
import * as opened from "./internal/opened.js"

/**
 * TLS settings of a pool, named as urllib3's (camelCased). Verification is on unless
 * `certReqs` says `"NONE"`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TlsOptions {
  /** Path to a PEM file of trusted CA certificates. */
  readonly caCerts: string | null
  /** Path to a directory of PEM CA certificates. */
  readonly caCertDir: string | null
  /** Trusted CA certificates as PEM text or DER bytes. */
  readonly caCertData: string | Uint8Array | null
  /** Client certificate (PEM file path). */
  readonly certFile: string | null
  /** Client private key (PEM file path); defaults to `certFile`. */
  readonly keyFile: string | null
  /** Passphrase of `keyFile`. */
  readonly keyPassword: string | null
  /** `"CERT_REQUIRED"` / `"REQUIRED"` (default) or `"CERT_NONE"` / `"NONE"`. */
  readonly certReqs: string | null
  /** The name the certificate must carry (default: the host); `false` disables the check. */
  readonly assertHostname: string | false | null
  /** Hex digest (md5, sha1 or sha256, chosen by length; colons optional) pinning the certificate. */
  readonly assertFingerprint: string | null
  /** The SNI name and the name checked (default: the host without a trailing dot). */
  readonly serverHostname: string | null
  /** `"TLSv1.2"` (default) or `"TLSv1.3"`. */
  readonly sslMinimumVersion: string | null
  /** Highest TLS version offered. */
  readonly sslMaximumVersion: string | null
  /**
   * A platform TLS context used as given instead of one built from the CA, certificate and
   * version options (urllib3's `ssl_context`); on Node a `tls.SecureContext`
   * (`tls.createSecureContext({ ciphers, ... })`). Verification, SNI and the name or
   * fingerprint checks still follow the other options. Absent or null: none.
   */
  readonly sslContext?: unknown
}

/**
 * `TlsOptions` as a caller gives them: every field optional, absent meaning null.
 *
 * @since 0.1.0
 * @category models
 */
export type TlsOptionsInput = { readonly [K in keyof TlsOptions]?: TlsOptions[K] | null | undefined }

/**
 * Complete `TlsOptions` from the fields given (the others null), so that code reading them
 * never meets `undefined`.
 *
 * @example
 * import * as Connector from "@httpool/core/Connector"
 *
 * Connector.makeTlsOptions({ caCerts: "/etc/ssl/ca.pem" }).certReqs // null
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeTlsOptions = (options: TlsOptionsInput): TlsOptions => ({
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
  sslMaximumVersion: options.sslMaximumVersion ?? null,
  sslContext: options.sslContext ?? null
})

/**
 * One proxy on a connection's way to its target: the connection reaches the proxy (over TLS
 * for an https proxy), asks it for `CONNECT host:port` of what comes next (the next hop's
 * proxy, or the target) with `headers`, and goes on through the tunnel. Today the only kind;
 * a SOCKS hop is the next one (a tagged union, so a connector says which kinds it dials).
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpConnectHop {
  readonly _tag: "HttpConnect"
  readonly scheme: "http" | "https"
  /** The proxy's host name or IP address, IPv6 without brackets. */
  readonly host: string
  readonly port: number
  /** TLS settings for the connection to an https proxy; null for an http proxy. */
  readonly tls: TlsOptions | null
  /** Headers of the CONNECT request (`[name, value, ...]`), e.g. Proxy-Authorization. */
  readonly headers: ReadonlyArray<string>
}

/**
 * A SOCKS proxy on a connection's way to its target: the connection reaches the proxy over
 * TCP, asks it to connect to what comes next (SOCKS4, 4a, 5 or 5h), and goes on through
 * the tunnel (TLS to an https target inside it).
 *
 * @since 0.2.0
 * @category models
 */
export interface SocksHop {
  readonly _tag: "Socks"
  /** 4 (`socks4://`, `socks4a://`) or 5 (`socks5://`, `socks5h://`). */
  readonly version: 4 | 5
  /**
   * The proxy resolves the next stop's name (`socks5h`, `socks4a`); when false the client
   * resolves it and sends an address (`socks5`, `socks4`, which only carries IPv4).
   */
  readonly remoteDns: boolean
  /** The proxy's host name or IP address, IPv6 without brackets. */
  readonly host: string
  readonly port: number
  /** SOCKS5: the RFC 1929 user name (with `password`); SOCKS4: the userid. null: none. */
  readonly username: string | null
  /** SOCKS5: the RFC 1929 password (empty when null and `username` is set). Unused by SOCKS4. */
  readonly password: string | null
}

/**
 * A hop of a connection's route.
 *
 * @since 0.1.0
 * @category models
 */
export type Hop = HttpConnectHop | SocksHop

/**
 * How a connection's TCP socket is set up (urllib3's `socket_options`, by name). The
 * default, when a target has none: no-delay on, keep-alive probes after 60 seconds idle.
 *
 * @since 0.1.0
 * @category models
 */
export interface SocketOptions {
  /** `TCP_NODELAY`: send small writes at once. */
  readonly noDelay: boolean
  /** `SO_KEEPALIVE`: probe an idle connection. */
  readonly keepAlive: boolean
  /** `TCP_KEEPIDLE`: milliseconds idle before the first probe; 0 leaves the system's. */
  readonly keepAliveInitialDelay: number
}

/**
 * Where and how a `Connection` connects.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectionTarget {
  readonly scheme: "http" | "https"
  /** Host name or IP address, IPv6 without brackets. */
  readonly host: string
  readonly port: number
  /** Milliseconds to establish the connection (TCP and TLS); null: no limit. */
  readonly connectTimeout: number | null
  /** Local address (and port, 0 for any) to bind. */
  readonly sourceAddress: readonly [host: string, port: number] | null
  /** TLS settings; null for plain http. */
  readonly tls: TlsOptions | null
  /**
   * The proxies to go through, in order, before the target: empty to connect directly. The
   * connect timeout covers the whole route (every hop and the TLS handshake with the target).
   */
  readonly route: ReadonlyArray<Hop>
  /**
   * A Unix domain socket to connect to instead of TCP to `host:port` (or to the first hop's
   * proxy): the rest (TLS, HTTP) goes over it unchanged. Absent or null: TCP.
   */
  readonly socketPath?: string | null
  /** How the TCP socket is set up; absent or null: the defaults of {@link SocketOptions}. */
  readonly socketOptions?: SocketOptions | null
}

/**
 * What a `Connection` reports to its pool.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectionEvents {
  /** A socket was opened (counts `numConnections`). */
  readonly onSocket: () => void
}

/**
 * A request as it goes on the wire. `headers` is a flat `[name, value, name, value, ...]`
 * list in the order to send, including `Host`.
 *
 * @since 0.1.0
 * @category models
 */
export interface WireRequest {
  readonly method: string
  /** The request target, already percent-encoded (origin-form or absolute-form). */
  readonly path: string
  readonly headers: ReadonlyArray<string>
  /** The body; an `AsyncIterable` is sent chunked unless a Content-Length header is given. */
  readonly body: string | Uint8Array | AsyncIterable<Uint8Array> | null
  /** Milliseconds of silence allowed while waiting for the response; null: no limit. */
  readonly readTimeout: number | null
  /**
   * Milliseconds to establish a connection if this request needs a new socket; undefined:
   * the target's `connectTimeout`, null: no limit.
   */
  readonly connectTimeout?: number | null
  /**
   * The body (an iterable) goes in chunked framing, ending with the last chunk even when it
   * yields no bytes, as urllib3 sends `chunked=True`. Default false.
   */
  readonly chunked?: boolean
  /** When true, `send` completes only once the whole body arrived (in `WireResponse.body`). */
  readonly preload: boolean
  /**
   * The pool sends this request again on a new connection if this one proves closed before
   * any of the response arrived (an idempotent method with a body it can send again), so a
   * connector may send it on a reused connection without first making sure that the server
   * has not closed it. Default false: a connector makes sure first.
   */
  readonly replayable?: boolean
}

/**
 * A response as it comes off the wire. Preloaded responses carry their `body`; streamed
 * ones are read chunk by chunk with `read`.
 *
 * @since 0.1.0
 * @category models
 */
export interface WireResponse {
  readonly status: number
  readonly reason: string
  /** Flat `[name, value, ...]` as received. */
  readonly headers: ReadonlyArray<string>
  /**
   * The whole body when the request was preloaded, or when a streamed response's body had all
   * arrived by the time its head was handed over (its connection is then free at once); else
   * null, and the body is read with `read`.
   */
  readonly body: Uint8Array | null
  /** The next chunk of a streamed body, or null once it has ended. */
  readonly read: Effect.Effect<Uint8Array | null, SendFailure>
  /**
   * Every chunk of a streamed body that has arrived and not been read yet (at least one,
   * waiting for it if none has), or null once the body has ended: `read` for a reader that
   * takes several chunks in one step, as a stream of the body does. Optional.
   */
  readonly readMany?: Effect.Effect<ReadonlyArray<Uint8Array> | null, SendFailure>
  /** Stops a streamed response; its socket is destroyed, never reused. */
  readonly abort: Effect.Effect<void>
  /**
   * When the head was parsed, as a `performance.now()` reading: the first byte of the answer
   * as a span's `http.response.head` event records it, even for a body preloaded after it.
   * Optional: without it, the event is recorded when the response is handed over.
   */
  readonly headAt?: number
}

/**
 * Why `send` failed, with what the pool needs to decide on a replay: whether any of the
 * request was written and whether any of the response arrived.
 *
 * @since 0.1.0
 * @category errors
 */
export class SendFailure extends Data.TaggedError("SendFailure")<{
  readonly error: HttpoolError
  readonly requestSent: boolean
  readonly responseStarted: boolean
}> {}

/**
 * One reusable connection: at most one socket, one request at a time. (A connection of a
 * multiplexing protocol would carry several: the pools lease each connection to one request
 * at a time today, in `internal/leasing.ts`, which is where that would change.)
 *
 * @since 0.1.0
 * @category models
 */
export interface Connection {
  readonly id: number
  readonly send: (request: WireRequest) => Effect.Effect<WireResponse, SendFailure>
  /**
   * `send` as the registration of an `Effect.async`: starts the request, calls `resume` once
   * with the outcome, and returns what interrupts it (its connection is then dropped).
   * Optional: a pool that finds it runs a warm request as one `Effect.async` of its own,
   * leasing and releasing the connection in the same synchronous steps.
   */
  readonly begin?: (
    request: WireRequest,
    resume: (outcome: Effect.Effect<WireResponse, SendFailure>) => void
  ) => Effect.Effect<void> | undefined
  /** Whether a socket is open now (an idle connection whose socket closed reconnects on `send`). */
  readonly isConnected: () => boolean
  /**
   * The peer's IP address of the current socket (the proxy's, for a tunnel), or null when
   * there is none or the platform cannot tell. Optional: a connector may leave it out.
   */
  readonly remoteAddress?: () => string | null
  /** Closes the connection and its socket at once. Never fails. */
  readonly close: Effect.Effect<void>
}

/**
 * Opens connections for pools.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Creates a connection; no socket is opened until its first `send`. */
  readonly open: (target: ConnectionTarget, events: ConnectionEvents) => Connection
}

/**
 * The Connector service.
 *
 * @since 0.1.0
 * @category tags
 */
export class Connector extends Context.Tag("@httpool/core/Connector")<Connector, Service>() {}

/**
 * How a connection's socket came up, as a `Connector` reports it with {@link reportOpened}.
 * Times are `performance.now()` readings.
 *
 * @since 0.2.0
 * @category observability
 */
export interface OpenedReport {
  /** The `Connection`'s id. */
  readonly id: number
  /** The connection's target (its pool's origin). */
  readonly scheme: "http" | "https"
  readonly host: string
  readonly port: number
  /** When the connector began to dial. */
  readonly started: number
  /** When the TCP connection to the first stop (the target, or the first proxy) was up. */
  readonly connected: number
  /** When the whole route was up: TLS to the target done, every tunnel open. */
  readonly ready: number
  /** The remote address of the TCP connection (a proxy's, through a tunnel), or null. */
  readonly remoteAddress: string | null
}

/**
 * Tells httpool that a connection's socket is up. A request that opened the connection then
 * gets `httpool.connect` and `httpool.tls` events on its span, and {@link reportClosed}
 * records `http.client.connection.duration`. `NodeConnector` reports every socket it dials;
 * a Connector of your own may call it too (it is optional).
 *
 * @since 0.2.0
 * @category observability
 */
export const reportOpened: (report: OpenedReport) => void = opened.reportOpened

/**
 * Tells httpool that the socket of a connection reported with {@link reportOpened} closed:
 * records `http.client.connection.duration` (from `ready` to now) under its pool's labels.
 *
 * @since 0.2.0
 * @category observability
 */
export const reportClosed: (report: OpenedReport) => void = opened.reportClosed

/**
 * `Effect.async` for a connector's waits: the registration may return a canceler, run if the
 * fiber is interrupted while it waits, as with `Effect.async`, but without the object Effect
 * makes per call for that: V8 may allocate that one in the old generation, where it keeps
 * everything the request's callbacks reach alive until a full collection (see
 * docs/performance.md). `NodeConnector` sends and reads through it.
 *
 * @example
 * import * as Connector from "@httpool/core/Connector"
 * import * as Effect from "effect/Effect"
 *
 * const tick = Connector.cancelable<string, never>((resume) => {
 *   const timer = setTimeout(() => resume(Effect.succeed("tick")), 10)
 *   return Effect.sync(() => clearTimeout(timer))
 * })
 *
 * @since 0.2.0
 * @category constructors
 */
export const cancelable: <A, E>(
  register: (resume: (effect: Effect.Effect<A, E>) => void) => Effect.Effect<void> | undefined | void
) => Effect.Effect<A, E> = internalCancelable.cancelable
