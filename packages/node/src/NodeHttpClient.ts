/**
 * The `HttpClient` of @effect/platform over httpool on Node.js: `HttpClient.layer` from
 * `@httpool/core` on a `NodePoolManager`, a `NodeProxyManager`, or a manager configured from
 * the proxy environment variables. A drop-in replacement for @effect/platform-node's
 * `NodeHttpClient.layerUndici`.
 *
 * @example
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { NodeHttpClient } from "@httpool/node"
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* HttpClient.HttpClient
 *   const response = yield* client.get("http://127.0.0.1:8080/")
 *   return yield* response.json
 * })
 * Effect.runPromise(program.pipe(Effect.provide(NodeHttpClient.layer())))
 *
 * @since 0.1.0
 */
import type * as PlatformHttpClient from "@effect/platform/HttpClient"
import * as HttpClient from "@httpool/core/HttpClient"
import type * as PoolManager from "@httpool/core/PoolManager"
import type * as ProxyManager from "@httpool/core/ProxyManager"
import * as Layer from "effect/Layer"
import * as NodePoolManager from "./NodePoolManager.js"
import * as NodeProxyManager from "./NodeProxyManager.js"

/**
 * Options of the Node layers: the adapter's options (`followRedirects`, `retries`,
 * `timeout`, `decodeContent`) and the manager's (`numPools`, `headers`, `connectionPoolKw`,
 * ...).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends HttpClient.Options, PoolManager.Options {}

/**
 * Options of the proxy layers: the adapter's options and the ProxyManager's
 * (`proxyHeaders`, `useForwardingForHttps`, the `proxy*` TLS options).
 *
 * @since 0.1.0
 * @category models
 */
export interface ProxyOptions extends HttpClient.Options, ProxyManager.Options {}

const split = <O extends HttpClient.Options>(
  options: O
): { readonly client: HttpClient.Options; readonly manager: Omit<O, keyof HttpClient.Options> } => {
  const { followRedirects, retries, timeout, decodeContent, ...manager } = options
  const client: { -readonly [K in keyof HttpClient.Options]: HttpClient.Options[K] } = {}
  if (followRedirects !== undefined) client.followRedirects = followRedirects
  if (retries !== undefined) client.retries = retries
  if (timeout !== undefined) client.timeout = timeout
  if (decodeContent !== undefined) client.decodeContent = decodeContent
  return { client, manager }
}

/**
 * Provides @effect/platform's `HttpClient` over a `NodePoolManager` of its own, closed with
 * every pool and socket when the layer's Scope closes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<PlatformHttpClient.HttpClient> => {
  const { client, manager } = split(options)
  return HttpClient.layer(client).pipe(Layer.provide(NodePoolManager.layer(manager)))
}

/**
 * Provides @effect/platform's `HttpClient` sending every request through the proxy at
 * `proxyUrl` (`http://` or `https://`, credentials allowed), over a `NodeProxyManager`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerProxy = (
  proxyUrl: string,
  options: ProxyOptions = {}
): Layer.Layer<PlatformHttpClient.HttpClient, ProxyManager.ProxyConfigError> => {
  const { client, manager } = split(options)
  return HttpClient.layer(client).pipe(Layer.provide(NodeProxyManager.layer(proxyUrl, manager)))
}

/**
 * Provides @effect/platform's `HttpClient` with the proxies of this process's environment
 * (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), read when the layer is built;
 * targets no proxy applies to are requested directly.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv = (
  options: ProxyOptions = {}
): Layer.Layer<PlatformHttpClient.HttpClient, ProxyManager.ProxyConfigError> => {
  const { client, manager } = split(options)
  return HttpClient.layer(client).pipe(Layer.provide(NodeProxyManager.layerFromEnv(manager)))
}
