import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as ConnectionPool from "../ConnectionPool.js"
import * as Connector from "../Connector.js"
import * as ContentDecoder from "../ContentDecoder.js"
import {
  HostChangedError,
  type InvalidHeader,
  type LocationParseError,
  type LocationValueError,
  type PoolInfo,
  type ProxySchemeUnknown,
  ValueError
} from "../Errors.js"
import * as Headers from "../Headers.js"
import * as Retry from "../Retry.js"
import * as Timeout from "../Timeout.js"
import * as Url from "../Url.js"
import * as config from "./connectionPool/config.js"
import * as exchange from "./connectionPool/exchange.js"
import { limiterOf } from "./connectionLimit.js"
import * as leasing from "./leasing.js"
import * as Metrics from "./metrics.js"
import { DEFAULT_MAX_DECODED_SIZE } from "./request/decoding.js"
import { holderOf, Unscoped, type UnscopedUrlopen } from "./request/holder.js"
import * as attempt from "./request/attempt.js"
import { record } from "./record.js"
import * as loop from "./request/loop.js"
import { hostHeader } from "./request/wire.js"
import * as requestMethods from "./requestMethods.js"

/**
 * A ConnectionPool: its options validated once, its leases (idle connections, the count in
 * use, waiters), its exchange of one request on one connection, and `urlopen` running the
 * request loop with a router that keeps every attempt on this pool (HostChangedError for
 * another origin unless `assertSameHost` is false).
 *
 * @internal
 */
export const make = (options: ConnectionPool.Options) =>
  Effect.flatMap(Effect.context<Connector.Connector | ContentDecoder.ContentDecoder>(), (context) => {
    const config = configure(options)
    if (Either.isLeft(config)) return Effect.fail(config.left)
    const built = fromConfig(
      config.right,
      Context.get(context, Connector.Connector),
      Context.get(context, ContentDecoder.ContentDecoder)
    )
    return Effect.as(
      Effect.addFinalizer(() => built.close),
      built.service
    )
  })

/** @internal */
export type MakeError = ValueError | LocationValueError | LocationParseError | InvalidHeader | ProxySchemeUnknown

/**
 * A pool's options, validated: what every pool made from the same options shares. A manager
 * works it out once per pool key and makes each pool of that key from it.
 *
 * @internal
 */
export interface Config {
  readonly options: ConnectionPool.Options
  readonly origin: attempt.Origin
  readonly pool: PoolInfo
  readonly timeout: Timeout.Timeout
  readonly headers: Headers.Headers
  readonly maxsize: number
  readonly forwarding: boolean
  readonly proxyHeaders: Headers.Headers | null
  readonly target: Connector.ConnectionTarget
  readonly label: string
  readonly poolOrigin: attempt.PoolOrigin
  readonly defaults: loop.Defaults
}

/** @internal */
export const configure = (options: ConnectionPool.Options): Either.Either<Config, MakeError> => {
  const resolved = config.resolveOrigin(options)
  if (Either.isLeft(resolved)) return Either.left(resolved.left)
  const origin = resolved.right
  const pool: PoolInfo = { scheme: origin.scheme, host: origin.host, port: origin.port }
  const timeoutOf = Timeout.from(options.timeout, Timeout.DEFAULT)
  if (Either.isLeft(timeoutOf)) return Either.left(timeoutOf.left)
  const timeout = timeoutOf.right
  const retriesOf = Retry.from(options.retries, Retry.DEFAULT, true)
  if (Either.isLeft(retriesOf)) return Either.left(retriesOf.left)
  const retries = retriesOf.right
  const headersOf = Headers.fromInput(options.headers)
  if (Either.isLeft(headersOf)) return Either.left(headersOf.left)
  const headers = headersOf.right
  const maxsize = options.maxsize ?? 1
  if (!Number.isInteger(maxsize) || maxsize < 1) {
    return Either.left(new ValueError({ message: `maxsize must be a positive integer, got ${maxsize}` }))
  }
  const proxyOf = config.resolveProxy(options, origin)
  if (Either.isLeft(proxyOf)) return Either.left(proxyOf.left)
  const proxy = proxyOf.right
  const forwarding = proxy?.forward === true
  const connectTimeout = Timeout.connectTimeout(timeout)
  return Either.right({
    options,
    origin,
    pool,
    timeout,
    headers,
    maxsize,
    forwarding,
    proxyHeaders: forwarding ? proxy.headers : null,
    target: {
      scheme: origin.scheme,
      host: origin.host,
      port: origin.port,
      connectTimeout: connectTimeout === null ? null : exchange.toMillis(connectTimeout),
      sourceAddress: options.sourceAddress ?? null,
      tls:
        origin.scheme !== "https" ? null : Connector.makeTlsOptions(forwarding ? (options.proxyConfig ?? {}) : options),
      route: proxy?.route ?? [],
      ...config.transportOf(options)
    },
    label: Metrics.poolLabel(origin.scheme, origin.host, origin.port),
    poolOrigin: { ...origin, hostLine: hostHeader(origin.scheme, origin.host, origin.port) },
    defaults: { headers: Headers.checkSkipHeader(headers), retries: Either.right(retries), retriesInput: retries }
  })
}

/**
 * A pool in one synchronous step from a validated configuration: what a manager that makes
 * and evicts a pool per request (200 origins through 10 pools) pays for each. `close` is its
 * one finalizer.
 *
 * @internal
 */
export const fromConfig = (
  cfg: Config,
  connector: Connector.Service,
  decoder: ContentDecoder.Service
): {
  readonly service: ConnectionPool.ConnectionPool & UnscopedUrlopen & loop.HasExchanger
  readonly close: Effect.Effect<void>
} => {
  const parts = partsOf(cfg, connector, decoder)
  return { service: serviceOf(cfg, parts), close: parts.leases.close }
}

/**
 * What carries a pool's requests: its leases and its exchange. A manager routes requests to
 * these and makes the rest of the service (`serviceOf`) only when a caller asks for the pool.
 *
 * @internal
 */
export interface Parts {
  readonly leases: leasing.Leasing
  readonly exchanger: loop.Exchanger
  readonly counters: { numConnections: number; numRequests: number }
}

/** @internal */
export const partsOf = (cfg: Config, connector: Connector.Service, decoder: ContentDecoder.Service): Parts => {
  const { options, pool, timeout, maxsize, target, label } = cfg
  // Records, not literals: see `record`.
  const counters = record({ numConnections: 0, numRequests: 0 })
  const metrics = Metrics.forPool(label)
  const events: Connector.ConnectionEvents = record({
    onSocket: () => {
      counters.numConnections++
      metrics.opened()
    }
  })
  const leases = leasing.unsafeMake(
    record({
      pool,
      maxsize,
      block: options.block ?? false,
      maxConnectionAge: exchange.toMillis(options.maxConnectionAge),
      open: () => connector.open(target, events),
      events: record({
        onLease: (lease: leasing.Lease) => metrics.waited(lease.waitedMillis),
        onDiscard: metrics.discarded,
        onChange: metrics.counts
      }),
      limiter: options.connectionLimit ? limiterOf(options.connectionLimit) : undefined
    })
  )
  const exchanger = exchange.make(
    record({
      pool,
      label,
      leases,
      metrics,
      counters,
      decoding: record({ decoder, maxDecodedSize: options.maxDecodedSize ?? DEFAULT_MAX_DECODED_SIZE }),
      timeout,
      poolTimeout: exchange.toMillis(options.poolTimeout),
      proxyHeaders: cfg.proxyHeaders
    })
  )
  return record({ leases, exchanger, counters })
}

/** The ConnectionPool service over a pool's parts. @internal */
export const serviceOf = (
  cfg: Config,
  { leases, exchanger, counters }: Parts
): ConnectionPool.ConnectionPool & UnscopedUrlopen & loop.HasExchanger => {
  const { origin, pool, headers, forwarding, poolOrigin, defaults } = cfg
  const isSameOrigin = (url: Url.Url): boolean => {
    const scheme = url.scheme ?? "http"
    return (
      scheme === origin.scheme &&
      Url.hostname(url) === origin.host &&
      (url.port ?? Url.defaultPort(scheme)) === origin.port
    )
  }

  const isSameHost = (url: string): boolean => {
    if (url.startsWith("/")) return true
    const parsed = Url.parse(url)
    return Either.isRight(parsed) && parsed.right.host !== null && isSameOrigin(parsed.right)
  }

  const router: loop.Router = (next, call) => {
    if (call.assertSameHost && !isSameOrigin(next.parsed)) {
      return Effect.fail(new HostChangedError({ pool, url: next.url }))
    }
    return new loop.RouteOf(exchanger, forwarding ? Url.absoluteTarget(next.parsed) : next.target, next.headers, null)
  }
  const run = loop.start(
    router,
    () => defaults,
    attempt.memoized((url) => attempt.fromPoolInput(poolOrigin, url))
  )
  const urlopen = (method: string, url: string, opts: ConnectionPool.UrlopenOptions = requestMethods.NO_OPTIONS) =>
    opts.preloadContent === false
      ? Effect.flatMap(Effect.scope, (scope) => run(method, url, opts, holderOf(scope)))
      : run(method, url, opts, null)

  const methods = requestMethods.make<ConnectionPool.UrlopenError>(urlopen, () => headers)

  const service: ConnectionPool.ConnectionPool & UnscopedUrlopen & loop.HasExchanger = {
    [Unscoped]: run,
    [loop.ExchangerId]: exchanger,
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
}
