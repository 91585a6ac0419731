import * as net from "node:net"
import { mapConnectError } from "../errors.js"
import { type Dial, handshake } from "./dial.js"

/**
 * The first hop of every route: a TCP connection to `host:port`, from `sourceAddress` when
 * given, trying IPv6 and IPv4 addresses of a name together (Happy Eyeballs), with no-delay
 * and keep-alive on. Failures are NewConnectionError or NameResolutionError.
 *
 * @internal
 */
export const tcp = (host: string, port: number, sourceAddress: readonly [host: string, port: number] | null): Dial => {
  const mapError = (error: unknown) => mapConnectError(error, host, port, false)
  return handshake({
    start: () => {
      const socket = net.connect({
        host,
        port,
        autoSelectFamily: true,
        ...(sourceAddress === null
          ? {}
          : { localAddress: sourceAddress[0], ...(sourceAddress[1] > 0 ? { localPort: sourceAddress[1] } : {}) })
      })
      socket.setNoDelay(true)
      socket.setKeepAlive(true, 60_000)
      return socket
    },
    ready: "connect",
    mapError,
    mapStartError: mapError,
    verify: () => null,
    over: null
  })
}
