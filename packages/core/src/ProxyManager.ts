/**
 * A PoolManager that sends every request through a proxy, as urllib3's `ProxyManager`:
 * `http://` targets share one pool on the proxy and go in absolute form with the proxy
 * headers; each `https://` host:port gets its own pool whose connections are CONNECT
 * tunnels, the proxy headers sent only in the CONNECT. It is provided under the
 * `PoolManager` tag, so code written against a PoolManager works through a proxy unchanged.
 *
 * A `socks4://`, `socks4a://`, `socks5://` or `socks5h://` URL makes it urllib3's
 * SOCKSProxyManager instead (see `SocksProxyManager`): every target gets its own pool whose
 * connections are dialled through the SOCKS proxy.
 *
 * @example
 * import { Effect } from "effect"
 * import { PoolManager, ProxyManager } from "@httpool/core"
 * import { NodeConnector } from "@httpool/node"
 *
 * const program = Effect.gen(function* () {
 *   const manager = yield* PoolManager.PoolManager
 *   return (yield* manager.request("GET", "https://example.com/")).status
 * })
 * const layer = ProxyManager.layer("http://user:secret@127.0.0.1:3128")
 * Effect.runPromise(program.pipe(Effect.provide(layer), Effect.provide(NodeConnector.layer)))
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { Connector } from "./Connector.js"
import type { ContentDecoder } from "./ContentDecoder.js"
import type { LocationParseError, LocationValueError, ProxySchemeUnknown, InvalidHeader } from "./Errors.js"
import type * as Headers from "./Headers.js"
import * as internal from "./internal/proxyManager.js"
import * as unixSocket from "./internal/unixSocket.js"
import * as PoolManager from "./PoolManager.js"
import type * as ProxyEnv from "./ProxyEnv.js"

/**
 * Options of a ProxyManager: every PoolManager option, plus how to talk to the proxy.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends PoolManager.Options {
  /**
   * Headers for the proxy: sent with every forwarded http request and with each CONNECT,
   * never to an origin through a tunnel. Credentials in the proxy URL add a
   * `Proxy-Authorization: Basic` header unless this has one. Default: none.
   */
  readonly proxyHeaders?: Headers.Input
  /** Send https requests to an https proxy in absolute form instead of tunnelling. Default false. */
  readonly useForwardingForHttps?: boolean
  /** Trusted CAs for an https proxy (PEM file). Default: the runtime's. */
  readonly proxyCaCerts?: string | null
  /** Directory of trusted CAs for an https proxy. */
  readonly proxyCaCertDir?: string | null
  /** Trusted CAs for an https proxy as PEM text or DER bytes. */
  readonly proxyCaCertData?: string | Uint8Array | null
  /** `"CERT_REQUIRED"` (default) or `"CERT_NONE"` for the proxy's certificate. */
  readonly proxyCertReqs?: string | null
  /** The name the proxy's certificate must carry (default: its host); `false` turns the check off. */
  readonly proxyAssertHostname?: string | false | null
  /** md5, sha1 or sha256 digest the proxy's certificate must have. */
  readonly proxyAssertFingerprint?: string | null
  /** SNI name for the proxy. */
  readonly proxyServerHostname?: string | null
}

/**
 * Why a proxy cannot be set up: its URL has a scheme other than http, https, socks4,
 * socks4a, socks5 or socks5h (`ProxySchemeUnknown`), does not parse (`LocationValueError`,
 * `LocationParseError`), or its headers are invalid (`InvalidHeader`).
 *
 * @since 0.1.0
 * @category errors
 */
export type ProxyConfigError = ProxySchemeUnknown | LocationValueError | LocationParseError | InvalidHeader

/**
 * Creates a ProxyManager in the current Scope. The proxy URL must be `http://`, `https://`
 * or a SOCKS URL (`socks4://`, `socks4a://`, `socks5://`, `socks5h://`; credentials in its
 * userinfo, port 1080 by default); `ProxySchemeUnknown` otherwise. The port of an http(s)
 * proxy defaults by its scheme. Through a SOCKS proxy, `proxyHeaders`, the `proxy*` TLS
 * options and `useForwardingForHttps` do not apply.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  proxyUrl: string,
  options?: Options
) => Effect.Effect<PoolManager.Service, ProxyConfigError, Scope.Scope | Connector | ContentDecoder> = (
  proxyUrl,
  options
) => internal.make(proxyUrl, unixSocket.withUnixSockets(options))

/**
 * Creates a PoolManager that follows proxy environment variables: each request goes
 * through the proxy its scheme names (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, lower case
 * winning; an HTTP or a SOCKS proxy), or directly when `NO_PROXY` covers its host or no
 * proxy is set for its scheme.
 * See `ProxyEnv` for the exact rules. Core reads no environment itself: pass it
 * (`NodeProxyManager.layerFromEnv` passes `process.env`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEnv: (
  env: ProxyEnv.Env,
  options?: Options
) => Effect.Effect<PoolManager.Service, ProxyConfigError, Scope.Scope | Connector | ContentDecoder> = (env, options) =>
  internal.fromEnv(env, unixSocket.withUnixSockets(options))

/**
 * A Layer providing a PoolManager configured from proxy environment variables, under the
 * `PoolManager` tag.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv = (
  env: ProxyEnv.Env,
  options?: Options
): Layer.Layer<PoolManager.PoolManager, ProxyConfigError, Connector | ContentDecoder> =>
  Layer.scoped(PoolManager.PoolManager, fromEnv(env, options))

/**
 * A Layer providing a ProxyManager under the `PoolManager` tag.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  proxyUrl: string,
  options?: Options
): Layer.Layer<PoolManager.PoolManager, ProxyConfigError, Connector | ContentDecoder> =>
  Layer.scoped(PoolManager.PoolManager, make(proxyUrl, options))
