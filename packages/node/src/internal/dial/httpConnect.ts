import type * as Connector from "@httpool/core/Connector"
import * as Errors from "@httpool/core/Errors"
import * as Url from "@httpool/core/Url"
import type * as net from "node:net"
import { type Dial, listening } from "./dial.js"

const HEAD_END = Buffer.from("\r\n\r\n")
/** The most a proxy may send before the end of its CONNECT answer's head. */
const MAX_HEAD = 64 * 1024

/** The head of the proxy's answer to CONNECT: the status line and its headers. */
interface ConnectAnswer {
  readonly status: number
  readonly reason: string
  readonly proxyAuthenticate: string | undefined
}

const proxyError = (message: string) => new Errors.ProxyError({ message, error: null })

const parseHead = (head: string): ConnectAnswer | null => {
  const lines = head.split("\r\n")
  const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? "")
  if (match === null) return null
  let proxyAuthenticate: string | undefined
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":")
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === "proxy-authenticate") {
      proxyAuthenticate = line.slice(colon + 1).trim()
    }
  }
  return { status: Number(match[1]), reason: match[2] ?? "", proxyAuthenticate }
}

/**
 * An HTTP CONNECT hop over a socket connected to the proxy: asks for `CONNECT host:port`
 * with the hop's headers and, on a 2xx answer, gives the same socket back as the tunnel
 * (with any bytes the proxy sent after its head put back). A refusal is a ProxyError with
 * the proxy's status (and Proxy-Authenticate); an answer that is not HTTP, too long, or a
 * socket closed first is a ProxyError too.
 *
 * @internal
 */
export const httpConnect = (socket: net.Socket, hop: Connector.HttpConnectHop, host: string, port: number): Dial =>
  listening({
    over: null,
    mapThrow: (error) => proxyError(`The CONNECT to the proxy could not be sent: ${String(error)}`),
    listen: (finish) => {
      const chunks: Array<Buffer> = []
      let received = 0
      const onData = (chunk: Buffer) => {
        chunks.push(chunk)
        received += chunk.length
        const all = Buffer.concat(chunks)
        const end = all.indexOf(HEAD_END)
        if (end === -1) {
          if (received > MAX_HEAD) finish(proxyError("The proxy's answer to CONNECT is too long"))
          return
        }
        socket.pause()
        const answer = parseHead(all.subarray(0, end).toString("latin1"))
        if (answer === null) return finish(proxyError("The proxy's answer to CONNECT is not HTTP"))
        if (answer.status < 200 || answer.status >= 300) {
          return finish(
            new Errors.ProxyError({
              message: `Tunnel connection failed: ${answer.status} ${answer.reason}`.trimEnd(),
              error: null,
              status: answer.status,
              ...(answer.proxyAuthenticate === undefined ? {} : { proxyAuthenticate: answer.proxyAuthenticate })
            })
          )
        }
        const rest = all.subarray(end + HEAD_END.length)
        if (rest.length > 0) socket.unshift(rest)
        finish(null)
      }
      return {
        socket,
        onData,
        onError: finish,
        onClose: () => finish(proxyError("The proxy closed the connection before answering CONNECT")),
        begin: () => {
          const where = Url.hostPort(host, port)
          let head = `CONNECT ${where} HTTP/1.1\r\nHost: ${where}\r\n`
          for (let i = 0; i + 1 < hop.headers.length; i += 2) head += `${hop.headers[i]}: ${hop.headers[i + 1]}\r\n`
          socket.write(`${head}\r\n`)
        }
      }
    }
  })
