/**
 * httpool's `Connector` for Node.js: its own HTTP/1.1 engine over TCP, TLS and tunnels.
 *
 * @since 0.1.0
 */
export * as NodeConnector from "./NodeConnector.js"

/**
 * httpool's `ContentDecoder` for Node.js, over `node:zlib`.
 *
 * @since 0.1.0
 */
export * as NodeContentDecoder from "./NodeContentDecoder.js"

/**
 * The `HttpClient` of @effect/platform over httpool's pools on Node.js.
 *
 * @since 0.1.0
 */
export * as NodeHttpClient from "./NodeHttpClient.js"

/**
 * A PoolManager over Node's sockets.
 *
 * @since 0.1.0
 */
export * as NodePoolManager from "./NodePoolManager.js"

/**
 * Node's name resolution (`dns.lookup`) as a `Resolver`, with overrides and a cache.
 *
 * @since 0.1.0
 */
export * as NodeResolver from "./NodeResolver.js"

/**
 * A ProxyManager over Node's sockets.
 *
 * @since 0.1.0
 */
export * as NodeProxyManager from "./NodeProxyManager.js"
