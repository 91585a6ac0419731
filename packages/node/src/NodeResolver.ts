/**
 * Node's `Resolver`: `dns.lookup` (the system resolver, `/etc/hosts` included), and layers
 * that pin names or cache answers over it. `NodeConnector` uses the `Resolver` it finds in
 * the context when its layer is built, and Node's own lookup without one.
 *
 * @example
 * import { Effect, Layer } from "effect"
 * import { PoolManager } from "@httpool/core"
 * import { NodePoolManager, NodeResolver } from "@httpool/node"
 *
 * // every connection to example.test:443 goes to 127.0.0.1; TLS still checks "example.test"
 * const live = NodePoolManager.layer().pipe(
 *   Layer.provide(NodeResolver.layerWith({ resolve: ["example.test:443:127.0.0.1"], dnsCache: { timeToLive: 30 } }))
 * )
 * const program = Effect.flatMap(PoolManager.PoolManager, (manager) => manager.request("GET", "https://example.test/"))
 * const runnable = Effect.provide(program, live)
 *
 * @since 0.1.0
 */
import type * as Errors from "@httpool/core/Errors"
import * as Resolver from "@httpool/core/Resolver"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/resolver.js"

/**
 * `dns.lookup` with every address (`all: true`), in the order Node's
 * `dns.setDefaultResultOrder` says; a name that does not resolve is a `NameResolutionError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const dnsLookup: Resolver.Service = internal.dnsLookup

/**
 * Provides `dnsLookup` as the Resolver.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Resolver.Resolver> = Resolver.layer(internal.dnsLookup)

/**
 * Options of {@link layerWith}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** curl `--resolve` entries, `host:port:address[,address]`; see `Resolver.withOverrides`. Default none. */
  readonly resolve?: ReadonlyArray<string>
  /** Keep answers of `dns.lookup` for a while; see `Resolver.cached`. Default none. */
  readonly dnsCache?: Resolver.CacheOptions
}

/**
 * Provides a Resolver over `dnsLookup`: cached when `dnsCache` is given, with the `resolve`
 * overrides in front. Fails with `ValueError` when an entry does not parse or the cache
 * options are out of range.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: Options): Layer.Layer<Resolver.Resolver, Errors.ValueError> =>
  Layer.effect(
    Resolver.Resolver,
    Effect.gen(function* () {
      let resolver = internal.dnsLookup
      if (options.dnsCache !== undefined) resolver = yield* Resolver.cached(resolver, options.dnsCache)
      if (options.resolve !== undefined) resolver = yield* Resolver.withOverrides(resolver, options.resolve)
      return resolver
    })
  )
