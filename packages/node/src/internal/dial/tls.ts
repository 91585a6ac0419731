import type * as Connector from "@httpool/core/Connector"
import type * as net from "node:net"
import * as tls from "node:tls"
import { mapConnectError } from "../errors.js"
import { cachedTls, checkFingerprint, emptyTls, type ResolvedTls } from "../tlsSettings.js"
import { type Dial, handshake } from "./dial.js"

/**
 * TLS to `host:port` over a connected socket (to the origin, an https proxy, or through a
 * tunnel): the pool's settings (`NodeConnector`'s module comment lists them), ALPN
 * `http/1.1`, SNI for the name (never an IP address), the certificate checked against the
 * name or pinned fingerprint; the connector's raw `tls.connect` options go under these.
 * Every failure is an SSLError, except an `sslContext` that cannot be used (a ValueError).
 *
 * @internal
 */
export const tlsOver = (
  over: net.Socket,
  host: string,
  port: number,
  options: Connector.TlsOptions | null,
  raw: tls.ConnectionOptions | null = null
): Dial => {
  let expected: ResolvedTls["fingerprint"] = null
  return handshake({
    start: () => {
      const resolved = cachedTls(host, options ?? emptyTls, raw)
      expected = resolved.fingerprint
      const checkName = resolved.checkName
      return tls.connect({
        ...raw,
        socket: over,
        secureContext: resolved.context,
        rejectUnauthorized: resolved.rejectUnauthorized,
        ALPNProtocols: ["http/1.1"],
        checkServerIdentity: (_host, cert) =>
          checkName === null ? undefined : tls.checkServerIdentity(checkName, cert),
        ...(resolved.servername === null ? {} : { servername: resolved.servername })
      })
    },
    ready: "secureConnect",
    mapError: (error) => mapConnectError(error, host, port, true),
    // Settings that cannot be used (unreadable certificates, a bad fingerprint) fail at once.
    mapStartError: (error) => mapConnectError(error, host, port, false),
    verify: (socket) => (expected === null ? null : checkFingerprint(socket, expected)),
    over
  })
}
