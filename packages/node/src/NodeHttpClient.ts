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
import type * as HttpClient from "@httpool/core/HttpClient"
import type * as Errors from "@httpool/core/Errors"
import type * as ProxyManager from "@httpool/core/ProxyManager"
import type * as Layer from "effect/Layer"
import { clientDefaults, withClient } from "./internal/clientLayers.js"
import * as NodePoolManager from "./NodePoolManager.js"
import * as NodeProxyManager from "./NodeProxyManager.js"

/**
 * Options of the Node layers: the adapter's options (`followRedirects`, `retries`,
 * `timeout`, `decodeContent`, `acceptEncoding`), the manager's (`numPools`, `headers`,
 * `connectionPoolKw`, ...) and the sockets' (`connector`: keep-alive times, header size).
 *
 * The layers start from the defaults an @effect/platform user expects (see `defaults`):
 * `connectionPoolKw.maxsize` 10 connections kept per origin, and
 * `Accept-Encoding: gzip, deflate, br` (decoded) when a request sets none.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends HttpClient.Options, NodePoolManager.Options {}

/**
 * Options of the proxy layers: the adapter's options, the ProxyManager's
 * (`proxyHeaders`, `useForwardingForHttps`, the `proxy*` TLS options) and the sockets'
 * (`connector`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ProxyOptions extends HttpClient.Options, NodeProxyManager.Options {}

/**
 * What the Node layers use where an option is not given; every other option keeps the
 * adapter's and the manager's own default.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: {
  /** Connections kept per origin (`connectionPoolKw.maxsize`): 10. A pool's own default is 1. */
  readonly maxsize: number
  /** `"gzip, deflate, br"`: what `NodeContentDecoder` decodes. The core adapter's default is `identity`. */
  readonly acceptEncoding: string
} = clientDefaults

/**
 * Provides @effect/platform's `HttpClient` over a `NodePoolManager` of its own, closed with
 * every pool and socket when the layer's Scope closes. With `connector` options the layer can
 * fail with `ValueError`.
 *
 * @example
 * import { NodeHttpClient } from "@httpool/node"
 *
 * const tuned = NodeHttpClient.layer({ connectionPoolKw: { maxsize: 32 }, connector: { keepAliveTimeout: 30 } })
 *
 * @since 0.1.0
 * @category layers
 */
export function layer(
  options?: Options & { readonly connector?: undefined }
): Layer.Layer<PlatformHttpClient.HttpClient>
export function layer(options: Options): Layer.Layer<PlatformHttpClient.HttpClient, Errors.ValueError>
export function layer(options: Options = {}): Layer.Layer<PlatformHttpClient.HttpClient, Errors.ValueError> {
  return withClient(options, NodePoolManager.layer)
}

/**
 * Provides @effect/platform's `HttpClient` sending every request through the proxy at
 * `proxyUrl` (`http://` or `https://`, credentials allowed), over a `NodeProxyManager`.
 *
 * @since 0.1.0
 * @category layers
 */
export function layerProxy(
  proxyUrl: string,
  options?: ProxyOptions & { readonly connector?: undefined }
): Layer.Layer<PlatformHttpClient.HttpClient, ProxyManager.ProxyConfigError>
export function layerProxy(
  proxyUrl: string,
  options: ProxyOptions
): Layer.Layer<PlatformHttpClient.HttpClient, ProxyManager.ProxyConfigError | Errors.ValueError>
export function layerProxy(
  proxyUrl: string,
  options: ProxyOptions = {}
): Layer.Layer<PlatformHttpClient.HttpClient, ProxyManager.ProxyConfigError | Errors.ValueError> {
  return withClient(options, (manager) => NodeProxyManager.layer(proxyUrl, manager))
}

/**
 * Provides @effect/platform's `HttpClient` with the proxies of this process's environment
 * (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), read when the layer is built;
 * targets no proxy applies to are requested directly.
 *
 * @since 0.1.0
 * @category layers
 */
export function layerFromEnv(
  options?: ProxyOptions & { readonly connector?: undefined }
): Layer.Layer<PlatformHttpClient.HttpClient, ProxyManager.ProxyConfigError>
export function layerFromEnv(
  options: ProxyOptions
): Layer.Layer<PlatformHttpClient.HttpClient, ProxyManager.ProxyConfigError | Errors.ValueError>
export function layerFromEnv(
  options: ProxyOptions = {}
): Layer.Layer<PlatformHttpClient.HttpClient, ProxyManager.ProxyConfigError | Errors.ValueError> {
  return withClient(options, NodeProxyManager.layerFromEnv)
}
