import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Either from "effect/Either"
import * as Scope from "effect/Scope"
import * as ConnectionPool from "../ConnectionPool.js"
import * as Connector from "../Connector.js"
import * as ContentDecoder from "../ContentDecoder.js"
import { ClosedPoolError, LocationValueError, URLSchemeUnknown } from "../Errors.js"
import * as Headers from "../Headers.js"
import * as Lru from "../Lru.js"
import * as PoolKey from "../PoolKey.js"
import type * as PoolManager from "../PoolManager.js"
import * as Retry from "../Retry.js"
import * as Url from "../Url.js"
import { foreignExchanger } from "./request/foreign.js"
import { holderOf, Unscoped, type UnscopedUrlopen } from "./request/holder.js"
import * as attempt from "./request/attempt.js"
import * as connectionLimit from "./connectionLimit.js"
import type { Attempt } from "./request/attempt.js"
import * as loop from "./request/loop.js"
import * as connectionPool from "./connectionPool.js"
import * as Metrics from "./metrics.js"
import * as requestMethods from "./requestMethods.js"
import { record } from "./record.js"

/** A pool in the manager, with the requests currently using it. */
interface Entry {
  /** Where its requests go. */
  readonly exchanger: loop.Exchanger
  /** The pool as a caller sees it (`connectionFromHost`...): made when first asked for. */
  readonly pool: () => ConnectionPool.ConnectionPool
  /** Closes the pool: its one finalizer, or the Scope a pool of someone else's was made in. */
  readonly close: Effect.Effect<void>
  leases: number
  evicted: boolean
  /** Leases held by a caller's Scope (`connectionFromHost` and the like), among `leases`. */
  held: number
  /** Its Scope is closing or closed. */
  closing: boolean
}

const tlsFieldSet: ReadonlySet<string> = new Set(PoolKey.tlsFields)

/** What a manager worked out for an origin: its pool key and context, and (once a pool of it was made) its pool configuration. */
interface Known {
  readonly key: PoolKey.PoolKey
  readonly context: PoolKey.RequestContext
  config: Either.Either<connectionPool.Config, connectionPool.MakeError> | undefined
}

/** The exchange of a pool: its own, or an adapter over the urlopen of a pool of someone else's. */
const exchangerOf = (pool: ConnectionPool.ConnectionPool): loop.Exchanger =>
  loop.hasExchanger(pool) ? pool[loop.ExchangerId] : foreignExchanger(pool)

/** The origin a request is for, before routing. @internal */
export interface Origin {
  readonly scheme: string
  readonly host: string
  readonly port: number | null
}

/**
 * Where a manager sends requests: the pool context for an origin, and the URL and headers
 * to hand that pool. A ProxyManager is a PoolManager with another routing.
 *
 * @internal
 */
export interface Routing {
  readonly context: (origin: Origin, kw: PoolManager.ConnectionPoolKw) => PoolKey.RequestContext
  /** The request target and headers of a attempt as its pool sends them. */
  readonly prepare: (attempt: Attempt) => { readonly target: string; readonly headers: Headers.Headers }
}

/** @internal */
export const contextFor = (origin: Origin, kw: PoolManager.ConnectionPoolKw): PoolKey.RequestContext => {
  const scheme = origin.scheme.toLowerCase()
  return {
    ...kw,
    scheme,
    host: origin.host,
    port: origin.port ?? Url.defaultPort(scheme) ?? 80
  } as PoolKey.RequestContext
}

/** Every request to the pool of its own origin, in origin form. @internal */
export const directRouting: Routing = {
  context: contextFor,
  prepare: (attempt) => attempt
}

/** @internal */
export const mergePoolKwargs = (
  base: PoolManager.ConnectionPoolKw,
  override: PoolManager.PoolKwargs | undefined
): PoolManager.ConnectionPoolKw => {
  if (override === undefined) return base
  const merged: Record<string, unknown> = { ...base }
  for (const [name, value] of Object.entries(override)) {
    if (value === null) delete merged[name]
    else merged[name] = value
  }
  return merged as PoolManager.ConnectionPoolKw
}

/** @internal */
export const make = (options: PoolManager.Options = {}, routing: Routing = directRouting) =>
  Effect.gen(function* () {
    const connector = yield* Connector.Connector
    const decoder = yield* ContentDecoder.ContentDecoder
    const headers = Headers.unsafeFromInput(options.headers)
    // Checked once: every request that gives no headers of its own sends these.
    const checkedHeaders = Either.flatMap(Headers.fromInput(headers), Headers.checkSkipHeader)
    const defaultsOf = (kw: PoolManager.ConnectionPoolKw): loop.Defaults => ({
      headers: checkedHeaders,
      retries: Retry.from(kw.retries, Retry.DEFAULT, true),
      retriesInput: kw.retries ?? Retry.DEFAULT
    })
    const numPools = options.numPools ?? 10
    const limit = connectionLimit.fromOption(options.maxTotalConnections)
    // The manager's settings are read by every request, so they are plain values read in
    // synchronous steps; the setters below are the only writers, and each one forgets the
    // pool keys worked out from the old settings.
    let kw: PoolManager.ConnectionPoolKw = options.connectionPoolKw ?? {}
    let keyFns: Readonly<Record<string, PoolKey.KeyFn>> = { ...PoolKey.defaultKeyFnByScheme, ...options.keyFnByScheme }
    let factories: Readonly<Record<string, PoolManager.PoolFactory>> = {
      http: ConnectionPool.make,
      https: ConnectionPool.make,
      ...options.poolClassesByScheme
    }
    /** The key, context and pool configuration of each origin seen, under the current settings. */
    const keys = new Map<string, Known>()
    const maxCachedKeys = 4096
    /**
     * The same, by parsed URL: URLs are parsed once per string (`attempt.memoized`), so a
     * program asking for the same URLs finds each origin's key by the URL value itself.
     */
    let byUrl = new WeakMap<Url.Url, Either.Either<Known, LocationValueError | URLSchemeUnknown>>()
    const forgetKeys = () => {
      keys.clear()
      byUrl = new WeakMap()
    }

    const closeEntry = (entry: Entry) =>
      Effect.suspend(() => {
        if (entry.closing) return Effect.void
        entry.closing = true
        Metrics.poolsChanged(-1)
        return entry.close
      })
    const lru = yield* Lru.makeRefScoped<PoolKey.PoolKey, Entry>({
      capacity: numPools,
      dispose: (_key, entry) =>
        Effect.suspend(() => {
          entry.evicted = true
          // Evicted or cleared, a pool closes when its last lease ends (eviction never breaks a
          // request in flight). When the manager closes, it closes now, its in-flight requests
          // failing with ClosedPoolError, so no socket outlives the manager's Scope; only a
          // pool a caller's Scope holds (`connectionFromHost`...) stays open until that Scope
          // closes.
          return entry.leases === 0 || (closed && entry.held === 0) ? closeEntry(entry) : Effect.void
        })
    })
    // Finalizers run last-added first: the manager is marked closed before the LRU is
    // cleared, so no pool created from then on can stay behind in it.
    let closed = false
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
      })
    )

    /** urllib3's `_new_pool`: the pool options of a context, TLS-only options dropped for http pools. */
    const poolOptionsOf = (context: PoolKey.RequestContext, scheme: string) => {
      const poolOptions: Record<string, unknown> = {}
      for (const [name, value] of Object.entries(context)) {
        if (value === undefined || value === null) continue
        if (scheme === "http" && tlsFieldSet.has(name)) continue
        poolOptions[name] = value
      }
      poolOptions.scheme = scheme
      if (limit !== null) poolOptions.connectionLimit = limit
      return poolOptions as ConnectionPool.Options & PoolManager.ConnectionPoolKw
    }

    const factoryOf = (context: PoolKey.RequestContext) => {
      const scheme = String(context.scheme).toLowerCase()
      return Object.hasOwn(factories, scheme)
        ? Either.right({ scheme, factory: factories[scheme]! })
        : Either.left(new URLSchemeUnknown({ scheme }))
    }

    const newEntry = (
      exchanger: loop.Exchanger,
      pool: () => ConnectionPool.ConnectionPool,
      close: Effect.Effect<void>
    ): Entry => {
      Metrics.poolsChanged(1)
      // A record, not a literal: see `record`.
      return record({ exchanger, pool, close, leases: 0, evicted: false, held: 0, closing: false })
    }

    /**
     * A pool of httpool's own, made in one synchronous step from its key's configuration
     * (validated once per key and kept with it); null for a pool factory of someone else's.
     */
    const madeNow = (
      context: PoolKey.RequestContext,
      known: Known | undefined
    ): (() => Either.Either<Entry, PoolManager.ConnectionFromError>) | null => {
      const found = factoryOf(context)
      if (Either.isRight(found) && found.right.factory !== ConnectionPool.make) return null
      return () => {
        if (Either.isLeft(found)) return Either.left(found.left)
        let config = known?.config
        if (config === undefined) {
          config = connectionPool.configure(poolOptionsOf(context, found.right.scheme))
          if (known !== undefined) known.config = config
        }
        if (Either.isLeft(config)) return Either.left(config.left)
        const cfg = config.right
        const parts = connectionPool.partsOf(cfg, connector, decoder)
        let service: ConnectionPool.ConnectionPool | null = null
        const pool = () => (service ??= connectionPool.serviceOf(cfg, parts))
        return Either.right(newEntry(parts.exchanger, pool, parts.leases.close))
      }
    }

    /** A pool from a factory of someone else's, in a Scope of its own. */
    const madeLater = (context: PoolKey.RequestContext) =>
      Effect.flatMap(factoryOf(context), ({ scheme, factory }) =>
        Effect.flatMap(Scope.make(), (scope) =>
          factory(poolOptionsOf(context, scheme)).pipe(
            Scope.extend(scope),
            Effect.provideService(Connector.Connector, connector),
            Effect.provideService(ContentDecoder.ContentDecoder, decoder),
            Effect.onError(() => Scope.close(scope, Exit.void)),
            Effect.map((pool) => newEntry(exchangerOf(pool), () => pool, Scope.close(scope, Exit.void)))
          )
        )
      )

    /** Counts a lease on an entry, in the step that found it: it cannot be closed until released. */
    const lease = (entry: Entry): Entry => {
      entry.leases++
      // Created after the manager closed (by a request racing the close): the LRU has
      // been cleared already, so the pool closes when this lease ends.
      if (closed) entry.evicted = true
      return entry
    }
    const unleaseNow = (entry: Entry): Effect.Effect<void> | null => {
      entry.leases--
      return entry.evicted && entry.leases === 0 ? closeEntry(entry) : null
    }
    /** Ends a lease held by a caller's Scope; after the manager closed, the last one closes the pool. */
    const unleaseHeld = (entry: Entry) =>
      Effect.suspend(() => {
        entry.held--
        const rest = unleaseNow(entry)
        if (rest !== null) return rest
        return closed && entry.evicted && entry.held === 0 ? closeEntry(entry) : Effect.void
      })

    const closedError = (key: PoolKey.PoolKey) =>
      new ClosedPoolError({ pool: { scheme: key.scheme, host: key.host, port: key.port }, reason: "Pool is closed." })

    /** Leases the pool of a key (uninterruptibly: the caller must pair it with `unleaseNow` or `unleaseHeld`). */
    const leaseEntry = (
      key: PoolKey.PoolKey,
      context: PoolKey.RequestContext | undefined,
      known?: Known
    ): Effect.Effect<Entry, PoolManager.ConnectionFromError> =>
      Effect.suspend(() => {
        if (closed) return Effect.fail(closedError(key))
        const ctx = context ?? PoolKey.toContext(key)
        const now = madeNow(ctx, known)
        const leased =
          now === null ? lru.getOrCreateWith(key, madeLater(ctx), lease) : lru.getOrMakeWith(key, now, lease)
        // A pool made while the manager was closing leaves the LRU at once.
        return closed ? Effect.tap(leased, () => lru.remove(key)) : leased
      })

    const connectionFromPoolKey = (key: PoolKey.PoolKey, context?: PoolKey.RequestContext) =>
      Effect.flatMap(Effect.scope, (scope) =>
        Effect.uninterruptible(
          Effect.flatMap(leaseEntry(key, context), (entry) => {
            entry.held++
            return Effect.as(Scope.addFinalizer(scope, unleaseHeld(entry)), entry.pool())
          })
        )
      )

    const connectionFromContext = (context: PoolKey.RequestContext) =>
      Effect.flatMap(PoolKey.fromContext(keyFns, context), (key) => connectionFromPoolKey(key, context))

    const connectionFromHost = (
      host: string,
      port?: number | null,
      scheme = "http",
      poolKwargs?: PoolManager.PoolKwargs
    ): Effect.Effect<ConnectionPool.ConnectionPool, PoolManager.ConnectionFromError, Scope.Scope> =>
      host.length === 0
        ? Effect.fail(new LocationValueError({ message: "No host specified." }))
        : Effect.suspend(() =>
            connectionFromContext(
              routing.context({ scheme, host, port: port ?? null }, mergePoolKwargs(kw, poolKwargs))
            )
          )

    const connectionFromUrl = (url: string, poolKwargs?: PoolManager.PoolKwargs) =>
      Effect.flatMap(Url.parseAbsolute(url), (parsed) =>
        connectionFromHost(parsed.host ?? "", parsed.port, parsed.scheme ?? "http", poolKwargs)
      )

    /** The pool key of a URL's origin under the current settings, worked out once per origin. */
    const keyOf = (url: Url.Url) => {
      const seen = byUrl.get(url)
      if (seen !== undefined) return seen
      const found = originKeyOf(url)
      if (Either.isRight(found)) byUrl.set(url, found)
      return found
    }

    const originKeyOf = (url: Url.Url) => {
      const scheme = url.scheme ?? "http"
      const host = url.host ?? ""
      if (host.length === 0) return Either.left(new LocationValueError({ message: "No host specified." }))
      const id = `${scheme}\n${host}\n${url.port ?? ""}`
      const known = keys.get(id)
      if (known !== undefined) return Either.right(known)
      const context = routing.context({ scheme, host, port: url.port }, kw)
      return Either.map(PoolKey.fromContext(keyFns, context), (key) => {
        if (keys.size >= maxCachedKeys) keys.clear()
        const found: Known = { key, context, config: undefined }
        keys.set(id, found)
        return found
      })
    }

    /** Each attempt leases the pool of its URL's origin (for a streamed response, until the body is done). */
    const router: loop.Router = (next) => {
      const found = keyOf(next.parsed)
      if (Either.isLeft(found)) return Effect.fail(found.left)
      const { key, context } = found.right
      if (closed) return Effect.fail(closedError(key))
      const routed = routing.prepare(next)
      const routeOf = (entry: Entry): loop.RouteOf =>
        new loop.RouteOf(entry.exchanger, routed.target, routed.headers, () => unleaseNow(entry))
      // A pool found is leased and routed to in the lookup's own step; a missing one is created.
      return lru.hitWith(
        key,
        (entry) => routeOf(lease(entry)),
        () => Effect.map(leaseEntry(key, context, found.right), routeOf)
      )
    }

    let defaults = defaultsOf(kw)
    const run = loop.start(router, () => defaults, attempt.memoized(attempt.fromAbsolute))

    const urlopen = (method: string, url: string, opts: ConnectionPool.UrlopenOptions = requestMethods.NO_OPTIONS) =>
      opts.preloadContent === false
        ? Effect.flatMap(Effect.scope, (scope) => run(method, url, opts, holderOf(scope)))
        : run(method, url, opts, null)

    const methods = requestMethods.make<PoolManager.UrlopenError>(urlopen, () => headers)

    const service: PoolManager.Service & UnscopedUrlopen = {
      [Unscoped]: run,
      urlopen: urlopen as PoolManager.Service["urlopen"],
      request: methods.request,
      requestEncodeUrl: methods.requestEncodeUrl,
      requestEncodeBody: methods.requestEncodeBody,
      headers,
      connectionFromHost,
      connectionFromUrl,
      connectionFromContext,
      connectionFromPoolKey,
      clear: lru.clear,
      pools: Effect.map(lru.keys, (keys) => ({ size: keys.length, keys })),
      connectionPoolKw: Effect.sync(() => kw),
      updateConnectionPoolKw: (f) =>
        Effect.sync(() => {
          kw = f(kw)
          defaults = defaultsOf(kw)
          forgetKeys()
        }),
      setKeyFn: (scheme, fn) =>
        Effect.sync(() => {
          keyFns = { ...keyFns, [scheme.toLowerCase()]: fn }
          forgetKeys()
        }),
      setPoolClass: (scheme, factory) =>
        Effect.sync(() => {
          factories = { ...factories, [scheme.toLowerCase()]: factory }
        })
    }
    return service
  })
