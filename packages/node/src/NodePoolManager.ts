/**
 * A PoolManager over Node's sockets: `PoolManager.layer` with `NodeConnector.layer`.
 *
 * @example
 * import { Effect } from "effect"
 * import { PoolManager } from "@httpool/core"
 * import { NodePoolManager } from "@httpool/node"
 *
 * const program = Effect.gen(function* () {
 *   const manager = yield* PoolManager.PoolManager
 *   return (yield* manager.request("GET", "http://127.0.0.1:8080/")).status
 * })
 * Effect.runPromise(Effect.provide(program, NodePoolManager.layer({ numPools: 10 })))
 *
 * @since 0.1.0
 */
import type * as Errors from "@httpool/core/Errors"
import * as PoolManager from "@httpool/core/PoolManager"
import type * as Layer from "effect/Layer"
import { withConnector } from "./internal/layers.js"
import type * as NodeConnector from "./NodeConnector.js"

/**
 * The options of `PoolManager`, and the `NodeConnector`'s.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends PoolManager.Options {
  /**
   * How the sockets are tuned (keep-alive times, requests per connection, header size,
   * buffering, name resolution, Happy Eyeballs, raw TLS options). Default:
   * `NodeConnector.defaults`. Options that are not valid fail the layer with `ValueError`.
   */
  readonly connector?: NodeConnector.Options | undefined
}

/**
 * Provides a PoolManager whose pools connect with `NodeConnector`. Closing the layer's
 * Scope closes every pool and socket. With `connector` options the layer can fail with
 * `ValueError` (an option out of range).
 *
 * @example
 * import { NodePoolManager } from "@httpool/node"
 *
 * const tuned = NodePoolManager.layer({ numPools: 10, connector: { keepAliveTimeout: 30, maxHeaderSize: 16384 } })
 *
 * @since 0.1.0
 * @category layers
 */
export function layer(options?: Options & { readonly connector?: undefined }): Layer.Layer<PoolManager.PoolManager>
export function layer(options: Options): Layer.Layer<PoolManager.PoolManager, Errors.ValueError>
export function layer(options: Options = {}): Layer.Layer<PoolManager.PoolManager, Errors.ValueError> {
  return withConnector(options, PoolManager.layer)
}
