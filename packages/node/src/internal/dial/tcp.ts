import type * as Connector from "@httpool/core/Connector"
import type * as Resolver from "@httpool/core/Resolver"
import * as net from "node:net"
import { mapConnectError } from "../errors.js"
import { connectLending } from "../reads.js"
import { lookupFunction } from "../resolver.js"
import { type Dial, handshake } from "./dial.js"

/** How the first hop connects: the connector's settings, the target's socket options. @internal */
export interface TcpOptions {
  /** The resolver of names; null: Node's own `dns.lookup`. */
  readonly resolver: Resolver.Service | null
  readonly autoSelectFamily: boolean
  readonly autoSelectFamilyAttemptTimeout: number
  readonly socketOptions: Connector.SocketOptions | null
  /**
   * The socket goes straight to the HTTP/1.1 engine (no TLS, no proxy handshake over it): its
   * reads then land in one shared buffer (`reads.ts`). False when absent.
   */
  readonly plain?: boolean
}

/** @internal */
export const defaultTcpOptions: TcpOptions = {
  resolver: null,
  autoSelectFamily: true,
  autoSelectFamilyAttemptTimeout: 250,
  socketOptions: null
}

/** No-delay on, keep-alive probes after 60 s idle: the sockets' setup unless a pool says otherwise. */
const defaultSocketOptions: Connector.SocketOptions = { noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 }

/** Applies a pool's socket options (`setNoDelay`, `setKeepAlive`) to a socket. @internal */
export const applySocketOptions = (socket: net.Socket, options: Connector.SocketOptions | null): void => {
  const { noDelay, keepAlive, keepAliveInitialDelay } = options ?? defaultSocketOptions
  socket.setNoDelay(noDelay)
  socket.setKeepAlive(keepAlive, keepAliveInitialDelay)
}

/**
 * The first hop of every route: a TCP connection to `host:port`, from `sourceAddress` when
 * given. A name is resolved by the connector's Resolver (else Node's `dns.lookup`); with
 * `autoSelectFamily` its IPv6 and IPv4 addresses are tried together (Happy Eyeballs), else
 * only the first. No-delay and keep-alive follow the pool's socket options. Failures are
 * NewConnectionError or NameResolutionError.
 *
 * @internal
 */
export const tcp = (
  host: string,
  port: number,
  sourceAddress: readonly [host: string, port: number] | null,
  options: TcpOptions = defaultTcpOptions
): Dial => {
  const mapError = (error: unknown) => mapConnectError(error, host, port, false)
  return handshake({
    start: () => {
      const connectOptions: net.NetConnectOpts = {
        host,
        port,
        autoSelectFamily: options.autoSelectFamily,
        ...(options.autoSelectFamily ? { autoSelectFamilyAttemptTimeout: options.autoSelectFamilyAttemptTimeout } : {}),
        ...(options.resolver === null ? {} : { lookup: lookupFunction(options.resolver, port) }),
        ...(sourceAddress === null
          ? {}
          : { localAddress: sourceAddress[0], ...(sourceAddress[1] > 0 ? { localPort: sourceAddress[1] } : {}) })
      }
      const socket = options.plain === true ? connectLending(connectOptions) : net.connect(connectOptions)
      applySocketOptions(socket, options.socketOptions)
      return socket
    },
    ready: "connect",
    mapError,
    mapStartError: mapError,
    verify: () => null,
    over: null
  })
}
