import type * as Connector from "@httpool/core/Connector"
import type * as net from "node:net"
import * as tls from "node:tls"
import { mapConnectError } from "../errors.js"
import { cachedTls, checkFingerprint, emptyTls, type ResolvedTls } from "../tlsSettings.js"
import type { Dial } from "./dial.js"
import { abandon } from "./dial.js"

/**
 * TLS to `host:port` over a connected socket (to the origin, an https proxy, or through a
 * tunnel): the pool's settings (`NodeConnector`'s module comment lists them), ALPN
 * `http/1.1`, SNI for the name (never an IP address), the certificate checked against the
 * name or pinned fingerprint. Every failure is an SSLError.
 *
 * @internal
 */
export const tlsOver =
  (over: net.Socket, host: string, port: number, options: Connector.TlsOptions | null): Dial =>
  (callback) => {
    let settled = false
    let socket: tls.TLSSocket | null = null
    const finish = (error: Error | null) => {
      if (settled) return
      settled = true
      if (socket !== null) {
        socket.off("error", onError)
        socket.off("close", onClose)
        socket.off("secureConnect", onSecureConnect)
      }
      if (error !== null) {
        abandon(socket)
        abandon(over)
        callback(error, null)
      } else {
        callback(null, socket)
      }
    }
    const onError = (error: unknown) => finish(mapConnectError(error, host, port, true))
    const onClose = () =>
      finish(
        mapConnectError(
          Object.assign(new Error("The connection was closed before it was established"), { code: "ECONNRESET" }),
          host,
          port,
          true
        )
      )
    let expected: ResolvedTls["fingerprint"] = null
    const onSecureConnect = () => finish(expected === null ? null : checkFingerprint(socket!, expected))
    try {
      const resolved = cachedTls(host, options ?? emptyTls)
      expected = resolved.fingerprint
      const checkName = resolved.checkName
      socket = tls.connect({
        socket: over,
        secureContext: resolved.context,
        rejectUnauthorized: resolved.rejectUnauthorized,
        ALPNProtocols: ["http/1.1"],
        checkServerIdentity: (_host, cert) =>
          checkName === null ? undefined : tls.checkServerIdentity(checkName, cert),
        ...(resolved.servername === null ? {} : { servername: resolved.servername })
      })
      socket.on("error", onError)
      socket.once("close", onClose)
      socket.once("secureConnect", onSecureConnect)
    } catch (error) {
      // Settings that cannot be used (unreadable certificates, a bad fingerprint) fail at once.
      queueMicrotask(() => finish(mapConnectError(error, host, port, false)))
    }
    return (reason) => finish(reason)
  }
