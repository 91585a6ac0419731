/**
 * A PoolManager keeps an LRU of at most `numPools` ConnectionPools, one per pool key, and
 * sends each request through the pool of its URL, following redirects across hosts, as
 * urllib3's `PoolManager`.
 *
 * Pools are created on first use and live in their own Scope: a pool evicted from the LRU
 * (or removed by `clear`) leaves it at once, and is closed when the last request using it
 * has finished. Closing the manager's Scope is urllib3's `with PoolManager() as manager:`.
 *
 * @example
 * import { Effect } from "effect"
 * import { PoolManager } from "@httpool/core"
 * import { NodePoolManager } from "@httpool/node"
 *
 * const program = Effect.gen(function* () {
 *   const manager = yield* PoolManager.PoolManager
 *   const response = yield* manager.request("GET", "http://127.0.0.1:8080/")
 *   return response.status
 * })
 * Effect.runPromise(program.pipe(Effect.provide(NodePoolManager.layer({ numPools: 10 }))))
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as ConnectionPool from "./ConnectionPool.js"
import type { Connector } from "./Connector.js"
import type { ContentDecoder } from "./ContentDecoder.js"
import type { ClosedPoolError, HostChangedError, ProxySchemeUnknown, URLSchemeUnknown } from "./Errors.js"
import type * as Headers from "./Headers.js"
import * as internal from "./internal/poolManager.js"
import * as unixSocket from "./internal/unixSocket.js"
import type * as PoolKey from "./PoolKey.js"

/**
 * The options every pool of a manager is created with: any ConnectionPool option except
 * the origin, plus fields of your own, which the default key ignores and a custom key
 * function may read (urllib3's `**connection_pool_kw`).
 *
 * @since 0.1.0
 * @category models
 */
export type ConnectionPoolKw = Partial<Omit<ConnectionPool.Options, "scheme" | "host" | "port">> & {
  readonly [field: string]: unknown
}

/**
 * Creates the pool for a scheme (urllib3's `pool_classes_by_scheme`). The default for http
 * and https is `ConnectionPool.make`; a factory fails as it does, with an invalid option.
 *
 * @since 0.1.0
 * @category models
 */
export type PoolFactory = (
  options: ConnectionPool.Options & ConnectionPoolKw
) => Effect.Effect<ConnectionPool.ConnectionPool, ConnectionPool.MakeError, Scope.Scope | Connector | ContentDecoder>

/**
 * Options of a PoolManager.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Pools kept before the least recently used is discarded. Default 10. */
  readonly numPools?: number
  /** Headers of every request that gives none of its own. Default: none. */
  readonly headers?: Headers.Input
  /** Options of every pool; see `ConnectionPoolKw`. Default: none. */
  readonly connectionPoolKw?: ConnectionPoolKw
  /** Key functions by scheme. Default `PoolKey.defaultKeyFnByScheme` (http, https). */
  readonly keyFnByScheme?: Readonly<Record<string, PoolKey.KeyFn>>
  /**
   * Pool constructors by scheme. Default `ConnectionPool.make` for http and https, and for
   * `http+unix` an http pool on the Unix domain socket named by the URL's host.
   */
  readonly poolClassesByScheme?: Readonly<Record<string, PoolFactory>>
  /**
   * The most connections open at once across all the manager's pools (httpx's
   * `max_connections`, Node's `maxTotalSockets`), so that a fan-out to thousands of hosts
   * cannot run the process out of file descriptors. At the cap, a new connection takes the
   * place of the least recently used idle one of any pool (which is closed); with none idle,
   * the request waits, first come first served across pools, up to its `poolTimeout`, then
   * fails with `EmptyPoolError`. Given to every pool as `connectionLimit`; it does not split
   * pools. A number is rounded down (at least 1). Default null: no cap.
   */
  readonly maxTotalConnections?: number | null
}

/**
 * Per-call pool options merged over the manager's `connectionPoolKw`; `null` removes an
 * option.
 *
 * @since 0.1.0
 * @category models
 */
export type PoolKwargs = { readonly [field: string]: unknown }

/**
 * What the manager holds: how many pools and their keys, least recently used first.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pools {
  readonly size: number
  readonly keys: ReadonlyArray<PoolKey.PoolKey>
}

/**
 * What a manager's `urlopen`, `request`, `requestEncodeUrl` and `requestEncodeBody` fail
 * with: what a pool's request methods fail with (`ConnectionPool.UrlopenError`, where each is
 * described), except `HostChangedError` (a manager follows a redirect to any origin), plus
 * `URLSchemeUnknown` (a URL, or a redirect, whose scheme has no key function or pool
 * factory) and the errors of creating a pool from `connectionPoolKw`
 * (`ConnectionPool.MakeError`, of which only `ProxySchemeUnknown` is not already a request
 * error).
 *
 * With retries on (the default `Retry(3)`), a connection error arrives inside a
 * `MaxRetryError`; `Errors.catchReason` / `Errors.unwrapReason` handle it by the tag of the
 * cause.
 *
 * @since 0.1.0
 * @category errors
 */
export type UrlopenError =
  | Exclude<ConnectionPool.UrlopenError, HostChangedError>
  | URLSchemeUnknown
  | ProxySchemeUnknown

/**
 * What `connectionFromHost`, `connectionFromUrl`, `connectionFromContext` and
 * `connectionFromPoolKey` fail with: a host or URL that cannot be used (`LocationValueError`,
 * `LocationParseError`), a scheme without a key function or pool factory
 * (`URLSchemeUnknown`), options the pool cannot be created with (`ConnectionPool.MakeError`),
 * or a manager already closed (`ClosedPoolError`). Nothing is sent, so none of the request
 * errors can happen.
 *
 * @since 0.1.0
 * @category errors
 */
export type ConnectionFromError = ConnectionPool.MakeError | URLSchemeUnknown | ClosedPoolError

/**
 * The PoolManager service.
 *
 * The `connectionFrom*` methods lease a pool for the caller's Scope: an evicted pool stays
 * open until that Scope closes.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Sends a request to an absolute URL, following redirects across hosts. */
  readonly urlopen: ConnectionPool.RequestMethod<ConnectionPool.UrlopenOptions, UrlopenError>
  /** `urlopen` with `fields` encoded by method (query for GET, HEAD, DELETE, OPTIONS), or `json`. */
  readonly request: ConnectionPool.RequestMethod<ConnectionPool.RequestOptions, UrlopenError>
  /** `urlopen` with `fields` in the query string. */
  readonly requestEncodeUrl: ConnectionPool.RequestMethod<ConnectionPool.RequestOptions, UrlopenError>
  /** `urlopen` with `fields` in the body. */
  readonly requestEncodeBody: ConnectionPool.RequestMethod<ConnectionPool.RequestOptions, UrlopenError>
  /** The default request headers. */
  readonly headers: Headers.Headers
  /** The pool for a host; `port` defaults by scheme, `scheme` to http. */
  readonly connectionFromHost: (
    host: string,
    port?: number | null,
    scheme?: string,
    poolKwargs?: PoolKwargs
  ) => Effect.Effect<ConnectionPool.ConnectionPool, ConnectionFromError, Scope.Scope>
  /** The pool for an absolute URL. */
  readonly connectionFromUrl: (
    url: string,
    poolKwargs?: PoolKwargs
  ) => Effect.Effect<ConnectionPool.ConnectionPool, ConnectionFromError, Scope.Scope>
  /** The pool for a request context; `scheme` must have a key function. */
  readonly connectionFromContext: (
    context: PoolKey.RequestContext
  ) => Effect.Effect<ConnectionPool.ConnectionPool, ConnectionFromError, Scope.Scope>
  /** The pool for a key, created from `context` (default: the key's own options) when missing. */
  readonly connectionFromPoolKey: (
    key: PoolKey.PoolKey,
    context?: PoolKey.RequestContext
  ) => Effect.Effect<ConnectionPool.ConnectionPool, ConnectionFromError, Scope.Scope>
  /** Removes every pool; each closes once the requests using it have finished. */
  readonly clear: Effect.Effect<void>
  /** The pools held now. */
  readonly pools: Effect.Effect<Pools>
  /** The current `connectionPoolKw`. */
  readonly connectionPoolKw: Effect.Effect<ConnectionPoolKw>
  /** Replaces `connectionPoolKw`; it matters for pools created afterwards. */
  readonly updateConnectionPoolKw: (f: (kw: ConnectionPoolKw) => ConnectionPoolKw) => Effect.Effect<void>
  /** Sets the key function of a scheme (a custom key shape, as urllib3's `key_fn_by_scheme`). */
  readonly setKeyFn: (scheme: string, fn: PoolKey.KeyFn) => Effect.Effect<void>
  /** Sets the pool constructor of a scheme. */
  readonly setPoolClass: (scheme: string, factory: PoolFactory) => Effect.Effect<void>
}

/**
 * The PoolManager service tag. A ProxyManager is provided under the same tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class PoolManager extends Context.Tag("@httpool/core/PoolManager")<PoolManager, Service>() {}

/**
 * Creates a PoolManager in the current Scope; closing the Scope closes every pool.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<Service, never, Scope.Scope | Connector | ContentDecoder> = (
  options
) => internal.make(unixSocket.withUnixSockets(options))

/**
 * A Layer providing a PoolManager over the `Connector` it is given.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<PoolManager, never, Connector | ContentDecoder> =>
  Layer.scoped(PoolManager, make(options))
