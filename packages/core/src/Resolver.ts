/**
 * Name resolution as a service: what turns a host name into the IP addresses a connection
 * is opened to. A platform provides the default (`@httpool/node`: Node's `dns.lookup`, the
 * system resolver with `/etc/hosts`); a program replaces it by providing another
 * `Resolver`, pins names to addresses with curl-style overrides (`withOverrides`, the
 * `--resolve host:port:address` of curl), and keeps answers for a while with `cached`.
 *
 * Only the TCP connection uses the address: TLS still sends the name as SNI and checks the
 * certificate against the name, and the `Host` header still names the URL's host.
 *
 * @example
 * import { Layer } from "effect"
 * import { Resolver } from "@httpool/core"
 *
 * // every name of a test points at this machine
 * const local = Layer.effect(Resolver.Resolver, Resolver.fromOverrides(["*:*:127.0.0.1"]))
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { NameResolutionError, ValueError } from "./Errors.js"
import * as internal from "./internal/resolver.js"

/**
 * One address of a name.
 *
 * @since 0.1.0
 * @category models
 */
export interface Address {
  /** An IPv4 or IPv6 address literal (IPv6 without brackets). */
  readonly address: string
  readonly family: 4 | 6
}

/**
 * The address family asked for: 4, 6, or 0 for both.
 *
 * @since 0.1.0
 * @category models
 */
export type Family = 0 | 4 | 6

/**
 * What a lookup is asked.
 *
 * @since 0.1.0
 * @category models
 */
export interface LookupOptions {
  /** Only addresses of this family (0: any, in the order the resolver prefers). */
  readonly family: Family
  /**
   * The port the connection goes to. Overrides match on it (`host:port:address`); a
   * resolver of names ignores it.
   */
  readonly port: number
}

/**
 * A resolver: the addresses of a host name, at least one, in the order to try them; a name
 * that does not resolve fails with `NameResolutionError`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly lookup: (host: string, options: LookupOptions) => Effect.Effect<ReadonlyArray<Address>, NameResolutionError>
}

/**
 * The Resolver service. A connector reads it when its layer is built; without one it uses
 * the platform's own resolver.
 *
 * @since 0.1.0
 * @category tags
 */
export class Resolver extends Context.Tag("@httpool/core/Resolver")<Resolver, Service>() {}

/**
 * A resolver from a lookup function.
 *
 * @example
 * import { Effect } from "effect"
 * import { Resolver } from "@httpool/core"
 *
 * // a name with an IPv6 and an IPv4 address, both on this machine
 * const dualStack = Resolver.make(() =>
 *   Effect.succeed([
 *     { address: "::1", family: 6 },
 *     { address: "127.0.0.1", family: 4 }
 *   ])
 * )
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (lookup: Service["lookup"]) => Service = internal.make

/**
 * `self`, except for the names and ports of `entries`, which resolve to the addresses given
 * without asking `self`. Each entry is curl's `--resolve` form, `host:port:address[,address...]`:
 * the host (any case; `*` for every host), the port (`*` for every port), then one or more IP
 * addresses (IPv6 with or without brackets) tried in that order. The first entry that
 * matches wins. An entry that does not parse fails with `ValueError`.
 *
 * @example
 * import { Resolver } from "@httpool/core"
 *
 * const pinned = (base: Resolver.Service) =>
 *   Resolver.withOverrides(base, ["example.test:443:127.0.0.1", "api.test:*:[::1],127.0.0.1"])
 *
 * @since 0.1.0
 * @category combinators
 */
export const withOverrides: (self: Service, entries: Iterable<string>) => Effect.Effect<Service, ValueError> =
  internal.withOverrides

/**
 * A resolver that knows only the names of `entries` (as in {@link withOverrides}); any
 * other name fails with `NameResolutionError`, so nothing reaches a real DNS server.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromOverrides: (entries: Iterable<string>) => Effect.Effect<Service, ValueError> = internal.fromOverrides

/**
 * Options of {@link cached}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheOptions {
  /** How long an answer is kept (a number is seconds). Failures are never kept. */
  readonly timeToLive: Duration.DurationInput
  /** Names (per family) kept at most; the least recently used go first. Default 1000. */
  readonly capacity?: number
}

/**
 * `self` behind a cache (effect's `Cache`): an answer is reused for `timeToLive`, then asked
 * again; concurrent lookups of one name share one question; failures are not kept. The key
 * is the host name (any case) and the family asked, so put overrides (which also match on the
 * port) outside the cache: `withOverrides(cached(base), entries)`. Fails with `ValueError`
 * when `timeToLive` is not a positive duration or `capacity` not a positive integer.
 *
 * @example
 * import { Resolver } from "@httpool/core"
 *
 * const caching = (base: Resolver.Service) => Resolver.cached(base, { timeToLive: 30 })
 *
 * @since 0.1.0
 * @category combinators
 */
export const cached: (self: Service, options: CacheOptions) => Effect.Effect<Service, ValueError> = internal.cached

/**
 * Provides a Resolver.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (service: Service): Layer.Layer<Resolver> => Layer.succeed(Resolver, service)
