/**
 * A cap on connections shared by several pools.
 *
 * @since 0.2.0
 */
export * as ConnectionLimit from "./ConnectionLimit.js"

/**
 * @since 0.1.0
 */
export * as ConnectionPool from "./ConnectionPool.js"

/**
 * @since 0.1.0
 */
export * as Connector from "./Connector.js"

/**
 * Decoding of `Content-Encoding`s: the service a platform provides.
 *
 * @since 0.1.0
 */
export * as ContentDecoder from "./ContentDecoder.js"

/**
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"

/**
 * @since 0.1.0
 */
export * as Fields from "./Fields.js"

/**
 * @since 0.1.0
 */
export * as Headers from "./Headers.js"

/**
 * @since 0.1.0
 */
export * as HttpClient from "./HttpClient.js"

/**
 * A WHATWG `fetch` function backed by a PoolManager.
 *
 * @since 0.1.0
 */
export * as HttpoolFetch from "./HttpoolFetch.js"

/**
 * @since 0.1.0
 */
export * as Lru from "./Lru.js"

/**
 * @since 0.1.0
 */
export * as Metrics from "./Metrics.js"

/**
 * @since 0.1.0
 */
export * as PoolKey from "./PoolKey.js"

/**
 * @since 0.1.0
 */
export * as PoolManager from "./PoolManager.js"

/**
 * @since 0.1.0
 */
export * as ProxyEnv from "./ProxyEnv.js"

/**
 * @since 0.1.0
 */
export * as ProxyManager from "./ProxyManager.js"

/**
 * Name resolution as a service: overrides, a cache, a replaceable resolver.
 *
 * @since 0.1.0
 */
export * as Resolver from "./Resolver.js"

/**
 * urllib3's SOCKSProxyManager: a PoolManager whose connections go through a SOCKS proxy.
 *
 * @since 0.2.0
 */
export * as SocksProxyManager from "./SocksProxyManager.js"

/**
 * @since 0.1.0
 */
export * as Response from "./Response.js"

/**
 * @since 0.1.0
 */
export * as Retry from "./Retry.js"

/**
 * A `Connector` that plays origins in memory, for tests.
 *
 * @since 0.1.0
 */
export * as TestConnector from "./TestConnector.js"

/**
 * @since 0.1.0
 */
export * as Timeout from "./Timeout.js"

/**
 * @since 0.1.0
 */
export * as Url from "./Url.js"
