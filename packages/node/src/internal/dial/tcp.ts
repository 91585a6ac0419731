import * as net from "node:net"
import { mapConnectError } from "../errors.js"
import type { Dial } from "./dial.js"
import { abandon } from "./dial.js"

/**
 * The first hop of every route: a TCP connection to `host:port`, from `sourceAddress` when
 * given, trying IPv6 and IPv4 addresses of a name together (Happy Eyeballs), with no-delay
 * and keep-alive on. Failures are NewConnectionError or NameResolutionError.
 *
 * @internal
 */
export const tcp =
  (host: string, port: number, sourceAddress: readonly [host: string, port: number] | null): Dial =>
  (callback) => {
    let settled = false
    let socket: net.Socket | null = null
    const finish = (error: Error | null) => {
      if (settled) return
      settled = true
      if (socket !== null) {
        socket.off("error", onError)
        socket.off("close", onClose)
        socket.off("connect", onConnect)
      }
      if (error !== null) {
        abandon(socket)
        callback(error, null)
      } else {
        callback(null, socket)
      }
    }
    const onError = (error: unknown) => finish(mapConnectError(error, host, port, false))
    const onClose = () =>
      finish(
        mapConnectError(
          Object.assign(new Error("The connection was closed before it was established"), { code: "ECONNRESET" }),
          host,
          port,
          false
        )
      )
    const onConnect = () => finish(null)
    try {
      socket = net.connect({
        host,
        port,
        autoSelectFamily: true,
        ...(sourceAddress === null
          ? {}
          : { localAddress: sourceAddress[0], ...(sourceAddress[1] > 0 ? { localPort: sourceAddress[1] } : {}) })
      })
      socket.setNoDelay(true)
      socket.setKeepAlive(true, 60_000)
      socket.on("error", onError)
      socket.once("close", onClose)
      socket.once("connect", onConnect)
    } catch (error) {
      // Invalid options (a bad source address) fail synchronously.
      queueMicrotask(() => finish(mapConnectError(error, host, port, false)))
    }
    return (reason) => finish(reason)
  }
