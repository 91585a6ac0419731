/**
 * A cap on connections shared by several pools, as httpx's `max_connections` or Node's
 * `maxTotalSockets`. A PoolManager or ProxyManager with `maxTotalConnections` makes one and
 * gives it to every pool it creates; `ConnectionPool.make({ connectionLimit })` shares one by
 * hand.
 *
 * Under the cap, a pool that needs a new connection opens it. At the cap, it closes the least
 * recently used idle connection of any pool sharing the cap and takes its place; when no
 * connection is idle, the request waits in one queue for all pools, first come first served,
 * up to its `poolTimeout` (then `EmptyPoolError`). A connection that closes while requests
 * wait gives its place to the oldest of them; one that goes idle goes to the oldest of them,
 * reused when it is for the same pool, otherwise closed to make room.
 *
 * @example
 * import { Effect } from "effect"
 * import { ConnectionLimit, ConnectionPool } from "@httpool/core"
 * import { NodeConnector } from "@httpool/node"
 *
 * const program = Effect.gen(function* () {
 *   const limit = yield* ConnectionLimit.make(8)
 *   const a = yield* ConnectionPool.make({ host: "127.0.0.1", port: 8080, connectionLimit: limit })
 *   const b = yield* ConnectionPool.make({ host: "127.0.0.1", port: 8081, connectionLimit: limit })
 *   return [a, b]
 * })
 * Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(NodeConnector.layer)))
 *
 * @since 0.2.0
 */
import type * as Effect from "effect/Effect"
import * as internal from "./internal/connectionLimit.js"

/**
 * @since 0.2.0
 * @category type ids
 */
export const TypeId: unique symbol = internal.ConnectionLimitTypeId

/**
 * @since 0.2.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * Where a cap stands now.
 *
 * @since 0.2.0
 * @category models
 */
export interface Stats {
  /** The cap. */
  readonly max: number
  /** Connections open (or opening) under the cap, idle or in use. */
  readonly open: number
  /** Of those, idle connections the cap may close to make room for another pool. */
  readonly idle: number
  /** Requests waiting for a place under the cap. */
  readonly waiting: number
}

/**
 * A cap on connections shared by the pools it is given to.
 *
 * @since 0.2.0
 * @category models
 */
export interface ConnectionLimit {
  readonly [TypeId]: TypeId
  /** The most connections open at once across the pools sharing it. */
  readonly max: number
  readonly stats: Effect.Effect<Stats>
}

/**
 * A cap of `max` connections (rounded down, at least 1; `Infinity`: no cap).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: (max: number) => Effect.Effect<ConnectionLimit> = internal.make
