/**
 * urllib3's `contrib.socks.SOCKSProxyManager`: a PoolManager whose connections all go
 * through a SOCKS proxy. Every target host:port gets a pool of its own (its key holds the
 * SOCKS options); each connection is dialled through the proxy, with TLS to an https target
 * inside the tunnel, and requests go in origin form as on a direct connection. It is
 * provided under the `PoolManager` tag, like a ProxyManager.
 *
 * The scheme says the protocol and who resolves the target's name:
 *
 * | scheme | protocol | names resolved by |
 * | --- | --- | --- |
 * | `socks5h://` | SOCKS5 (RFC 1928) | the proxy |
 * | `socks5://` | SOCKS5 | this side (an address is sent) |
 * | `socks4a://` | SOCKS4a | the proxy |
 * | `socks4://` | SOCKS4 | this side (IPv4 only) |
 *
 * Credentials: SOCKS5 sends a user name and password (RFC 1929), SOCKS4 the user name as
 * its userid; taken from `username` / `password` when either is given, else from the URL's
 * userinfo (percent-decoded). A refusal by the proxy fails the connection with a
 * `ProxyError` whose `socks` says the reason and reply code.
 *
 * `ProxyManager.make` (and `NodeProxyManager.layer`, `layerFromEnv` with `ALL_PROXY`)
 * accept the same URLs; this module adds urllib3's `username` / `password` arguments and
 * refuses a URL that is not SOCKS.
 *
 * @example
 * import { Effect } from "effect"
 * import { PoolManager, SocksProxyManager } from "@httpool/core"
 * import { NodeConnector } from "@httpool/node"
 *
 * const program = Effect.gen(function* () {
 *   const manager = yield* PoolManager.PoolManager
 *   return (yield* manager.request("GET", "https://example.com/")).status
 * })
 * const layer = SocksProxyManager.layer("socks5h://127.0.0.1:1080", { username: "me", password: "secret" })
 * Effect.runPromise(program.pipe(Effect.provide(layer), Effect.provide(NodeConnector.layer)))
 *
 * @since 0.2.0
 */
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { Connector } from "./Connector.js"
import type { ContentDecoder } from "./ContentDecoder.js"
import type { ValueError } from "./Errors.js"
import * as internal from "./internal/proxyManager.js"
import * as PoolManager from "./PoolManager.js"
import type * as ProxyManager from "./ProxyManager.js"

/**
 * Options of a SocksProxyManager: every PoolManager option, and the proxy's credentials.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options extends PoolManager.Options {
  /** SOCKS5 user name (RFC 1929, at most 255 bytes) or SOCKS4 userid. Default: the URL's. */
  readonly username?: string | null
  /** SOCKS5 password (RFC 1929, at most 255 bytes). Default: the URL's. */
  readonly password?: string | null
}

/**
 * Creates a SocksProxyManager in the current Scope. The URL's scheme is `socks4`,
 * `socks4a`, `socks5` or `socks5h` (`ValueError` otherwise, as urllib3's "Unable to
 * determine SOCKS version"); its port defaults to 1080.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: (
  proxyUrl: string,
  options?: Options
) => Effect.Effect<
  PoolManager.Service,
  ProxyManager.ProxyConfigError | ValueError,
  Scope.Scope | Connector | ContentDecoder
> = internal.makeSocks

/**
 * A Layer providing a SocksProxyManager under the `PoolManager` tag.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  proxyUrl: string,
  options?: Options
): Layer.Layer<PoolManager.PoolManager, ProxyManager.ProxyConfigError | ValueError, Connector | ContentDecoder> =>
  Layer.scoped(PoolManager.PoolManager, make(proxyUrl, options))
