import * as ConnectionPool from "../ConnectionPool.js"
import type * as PoolManager from "../PoolManager.js"
import { unixSocketPath } from "./poolKey.js"

/**
 * The pool of an `http+unix://%2Fpath%2Fto.sock/...` origin: an http pool on the socket
 * whose path is the host percent-decoded. A Unix domain socket is local, so a proxy a
 * ProxyManager would add is left out.
 *
 * @internal
 */
export const unixPool: PoolManager.PoolFactory = (options) => {
  const { proxy: _proxy, proxyHeaders: _headers, proxyConfig: _config, ...rest } = options
  return ConnectionPool.make({
    ...rest,
    scheme: "http",
    host: "localhost",
    port: 80,
    socketPath: unixSocketPath(options.host)
  })
}

/** A manager's options with the `http+unix` pool class unless the caller gave one. @internal */
export const withUnixSockets = <O extends PoolManager.Options>(options: O | undefined): O => ({
  ...(options as O),
  poolClassesByScheme: { "http+unix": unixPool, ...options?.poolClassesByScheme }
})
