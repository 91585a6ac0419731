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
import type * as Errors from "@httpool/core/Errors"
import type * as PoolManager from "@httpool/core/PoolManager"
import * as ProxyManager from "@httpool/core/ProxyManager"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { withConnector } from "./internal/layers.js"
import type * as NodeConnector from "./NodeConnector.js"

/**
 * The options of `ProxyManager`, and the `NodeConnector`'s.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends ProxyManager.Options {
  /**
   * How the sockets are tuned (keep-alive times, requests per connection, header size,
   * buffering, name resolution, Happy Eyeballs, raw TLS options). Default:
   * `NodeConnector.defaults`. Options that are not valid fail the layer with `ValueError`.
   */
  readonly connector?: NodeConnector.Options | undefined
}

/**
 * Provides a ProxyManager for `proxyUrl` whose connections use `NodeConnector`: an
 * `http://` or `https://` proxy, or a SOCKS one (`socks4://`, `socks4a://`, `socks5://`,
 * `socks5h://`, see `SocksProxyManager`). With `connector` options the layer can also fail
 * with `ValueError`.
 *
 * @since 0.1.0
 * @category layers
 */
export function layer(
  proxyUrl: string,
  options?: Options & { readonly connector?: undefined }
): Layer.Layer<PoolManager.PoolManager, ProxyManager.ProxyConfigError>
export function layer(
  proxyUrl: string,
  options: Options
): Layer.Layer<PoolManager.PoolManager, ProxyManager.ProxyConfigError | Errors.ValueError>
export function layer(
  proxyUrl: string,
  options: Options = {}
): Layer.Layer<PoolManager.PoolManager, ProxyManager.ProxyConfigError | Errors.ValueError> {
  return withConnector(options, (manager) => ProxyManager.layer(proxyUrl, manager))
}

/**
 * Provides a PoolManager configured from this process's proxy environment variables
 * (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, lower case winning), read when the
 * layer is built. Targets no proxy applies to are requested directly.
 *
 * With `connector` options the layer can also fail with `ValueError`.
 *
 * @since 0.1.0
 * @category layers
 */
export function layerFromEnv(
  options?: Options & { readonly connector?: undefined }
): Layer.Layer<PoolManager.PoolManager, ProxyManager.ProxyConfigError>
export function layerFromEnv(
  options: Options
): Layer.Layer<PoolManager.PoolManager, ProxyManager.ProxyConfigError | Errors.ValueError>
export function layerFromEnv(
  options: Options = {}
): Layer.Layer<PoolManager.PoolManager, ProxyManager.ProxyConfigError | Errors.ValueError> {
  return withConnector(options, (manager) =>
    Layer.unwrapEffect(Effect.sync(() => ProxyManager.layerFromEnv({ ...process.env }, manager)))
  )
}
