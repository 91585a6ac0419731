/**
 * A ProxyManager over Node's sockets: `ProxyManager.layer` with `NodeConnector.layer`,
 * provided under the `PoolManager` tag.
 *
 * @example
 * import { Effect } from "effect"
 * import { PoolManager } from "@httpool/core"
 * import { NodeProxyManager } from "@httpool/node"
 *
 * const program = Effect.gen(function* () {
 *   const manager = yield* PoolManager.PoolManager
 *   return (yield* manager.request("GET", "http://127.0.0.1:8080/")).status
 * })
 * Effect.runPromise(Effect.provide(program, NodeProxyManager.layer("http://127.0.0.1:3128")))
 *
 * @since 0.1.0
 */
import type * as PoolManager from "@httpool/core/PoolManager"
import * as ProxyManager from "@httpool/core/ProxyManager"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeConnector from "./NodeConnector.js"

/**
 * Provides a ProxyManager for `proxyUrl` whose connections use `NodeConnector`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  proxyUrl: string,
  options?: ProxyManager.Options
): Layer.Layer<PoolManager.PoolManager, ProxyManager.ProxyConfigError> =>
  ProxyManager.layer(proxyUrl, options).pipe(Layer.provide(NodeConnector.layer))

/**
 * Provides a PoolManager configured from this process's proxy environment variables
 * (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, lower case winning), read when the
 * layer is built. Targets no proxy applies to are requested directly.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv = (
  options?: ProxyManager.Options
): Layer.Layer<PoolManager.PoolManager, ProxyManager.ProxyConfigError> =>
  Layer.unwrapEffect(
    Effect.sync(() => ProxyManager.layerFromEnv({ ...process.env }, options).pipe(Layer.provide(NodeConnector.layer)))
  )
