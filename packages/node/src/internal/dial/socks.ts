import type * as Connector from "@httpool/core/Connector"
import * as Errors from "@httpool/core/Errors"
import * as Url from "@httpool/core/Url"
import * as dns from "node:dns"
import * as net from "node:net"
import { mapConnectError } from "../errors.js"
import { type Dial, type Listening, listening } from "./dial.js"

/** SOCKS5 reply codes (RFC 1928 section 6), with PySocks' texts, which urllib3 shows. */
const SOCKS5_REPLIES: ReadonlyMap<number, readonly [Errors.SocksReason, string]> = new Map([
  [0x01, ["GeneralFailure", "General SOCKS server failure"]],
  [0x02, ["NotAllowed", "Connection not allowed by ruleset"]],
  [0x03, ["NetworkUnreachable", "Network unreachable"]],
  [0x04, ["HostUnreachable", "Host unreachable"]],
  [0x05, ["ConnectionRefused", "Connection refused"]],
  [0x06, ["TtlExpired", "TTL expired"]],
  [0x07, ["CommandNotSupported", "Command not supported, or protocol error"]],
  [0x08, ["AddressTypeNotSupported", "Address type not supported"]]
] as const)

/** SOCKS4 reply codes other than 0x5a (granted). */
const SOCKS4_REPLIES: ReadonlyMap<number, readonly [Errors.SocksReason, string]> = new Map([
  [0x5b, ["Rejected", "Request rejected or failed"]],
  [0x5c, ["IdentdUnreachable", "Request rejected because SOCKS server cannot connect to identd on the client"]],
  [0x5d, ["IdentdMismatch", "Request rejected because the client program and identd report different user-ids"]]
] as const)

const hex = (code: number) => `0x${code.toString(16).padStart(2, "0")}`

/** Where the tunnel goes, as the request carries it. */
type Destination =
  | { readonly _tag: "Ip4"; readonly bytes: Buffer }
  | { readonly _tag: "Ip6"; readonly bytes: Buffer }
  | { readonly _tag: "Name"; readonly name: Buffer }

const ip4Bytes = (address: string): Buffer => Buffer.from(address.split(".").map(Number))

const ip6Bytes = (address: string): Buffer => {
  // Expands `::` and an IPv4 tail (`::ffff:1.2.3.4`) into eight words.
  let text = address
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4 !== null) {
    const b = ip4Bytes(v4[1])
    text = `${text.slice(0, -v4[1].length)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null]
  const left = head === "" ? [] : head.split(":")
  const right = tail === null || tail === "" ? [] : tail.split(":")
  const words =
    tail === null ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill("0"), ...right]
  const out = Buffer.alloc(16)
  for (let i = 0; i < words.length; i++) out.writeUInt16BE(Number.parseInt(words[i], 16), i * 2)
  return out
}

const withoutZone = (host: string) => {
  const pct = host.indexOf("%")
  return pct === -1 ? host : host.slice(0, pct)
}

/**
 * A SOCKS hop over a socket connected to the proxy: negotiates SOCKS5 (no authentication,
 * or RFC 1929 user name and password) or SOCKS4/4a (with the userid), asks for a tunnel to
 * `host:port` (a name the proxy resolves for socks5h and socks4a; else the address this
 * side resolves, IPv4 first) and, once granted, gives the same socket back as the tunnel
 * (with any bytes the proxy sent after its reply put back). A refusal, a broken answer or a
 * socket closed first is a ProxyError whose `socks` names the reason and reply code, its
 * `error` the NewConnectionError urllib3 raises.
 *
 * @internal
 */
export const socks = (socket: net.Socket, hop: Connector.SocksHop, host: string, port: number): Dial =>
  listening({
    over: null,
    mapThrow: (error) =>
      new Errors.ProxyError({
        message: `Unable to connect to proxy: SOCKS${hop.version} proxy ${Url.hostPort(hop.host, hop.port)}: ${String(error)}`,
        error: null
      }),
    listen: (finish, isSettled) => talk(socket, hop, host, port, finish, isSettled)
  })

/** The SOCKS conversation of `socks`: its listeners, and `begin`, which starts it. */
const talk = (
  socket: net.Socket,
  hop: Connector.SocksHop,
  host: string,
  port: number,
  finish: (error: Error | null) => void,
  isSettled: () => boolean
): Listening<net.Socket> => {
  let buffer: Buffer = Buffer.alloc(0)
  /** What the next bytes from the proxy answer; null while nothing is awaited. */
  let step: ((buffer: Buffer) => number | null) | null = null
  const version = hop.version
  const where = Url.hostPort(host, port)
  const refuse = (reason: Errors.SocksReason, reply: number | null, text: string) => {
    const cause = new Errors.NewConnectionError({
      message: `Failed to establish a new connection to ${where}: ${text}`
    })
    finish(
      new Errors.ProxyError({
        message: `Unable to connect to proxy: SOCKS${version} proxy ${Url.hostPort(hop.host, hop.port)}: ${text}`,
        error: cause,
        socks: { version, reason, reply }
      })
    )
  }
  const malformed = () => refuse("MalformedReply", null, `SOCKS${version} proxy server sent invalid data`)
  const onClose = () => refuse("ClosedBeforeReply", null, "Connection closed unexpectedly")
  const onData = (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
    // Each step takes the bytes it needs and may set the next one; null: not enough yet.
    while (!isSettled() && step !== null) {
      const used = step(buffer)
      if (used === null) return
      buffer = buffer.subarray(used)
    }
    if (!isSettled() && step === null && buffer.length > 0) malformed()
  }
  const expect = (next: (buffer: Buffer) => number | null) => {
    step = next
  }
  const send = (bytes: Buffer) => {
    if (!isSettled()) socket.write(bytes)
  }

  // SOCKS5 -----------------------------------------------------------------
  const socks5 = (destination: Destination) => {
    const auth = hop.username !== null
    send(Buffer.from(auth ? [0x05, 0x02, 0x00, 0x02] : [0x05, 0x01, 0x00]))
    expect((b) => {
      if (b.length < 2) return null
      step = null
      if (b[0] !== 0x05) {
        malformed()
        return 2
      }
      const method = b[1]
      if (method === 0xff) {
        refuse("NoAcceptableMethods", method, "All offered authentication methods were rejected")
      } else if (method === 0x00) {
        request5(destination)
      } else if (method === 0x02 && auth) {
        const user = Buffer.from(hop.username ?? "", "utf8")
        const password = Buffer.from(hop.password ?? "", "utf8")
        send(Buffer.concat([Buffer.from([0x01, user.length]), user, Buffer.from([password.length]), password]))
        expect((a) => {
          if (a.length < 2) return null
          step = null
          if (a[0] !== 0x01) malformed()
          else if (a[1] !== 0x00) refuse("AuthenticationFailed", a[1], "SOCKS5 authentication failed")
          else request5(destination)
          return 2
        })
      } else {
        malformed()
      }
      return 2
    })
  }
  const request5 = (destination: Destination) => {
    const address =
      destination._tag === "Ip4"
        ? Buffer.concat([Buffer.from([0x01]), destination.bytes])
        : destination._tag === "Ip6"
          ? Buffer.concat([Buffer.from([0x04]), destination.bytes])
          : Buffer.concat([Buffer.from([0x03, destination.name.length]), destination.name])
    const portBytes = Buffer.alloc(2)
    portBytes.writeUInt16BE(port)
    send(Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), address, portBytes]))
    expect((b) => {
      if (b.length < 2) return null
      if (b[0] !== 0x05) {
        malformed()
        return 2
      }
      const reply = b[1]
      if (reply !== 0x00) {
        step = null
        const known = SOCKS5_REPLIES.get(reply)
        refuse(known?.[0] ?? "UnknownReply", reply, `${hex(reply)}: ${known?.[1] ?? "Unknown error"}`)
        return 2
      }
      if (b.length < 5) return null
      const length = b[3] === 0x01 ? 4 : b[3] === 0x04 ? 16 : b[3] === 0x03 ? 1 + b[4] : -1
      if (b[2] !== 0x00 || length === -1) {
        malformed()
        return 2
      }
      const total = 4 + length + 2
      if (b.length < total) return null
      step = null
      granted(b.subarray(total))
      return b.length
    })
  }

  // SOCKS4 -----------------------------------------------------------------
  const socks4 = (destination: Destination) => {
    const portBytes = Buffer.alloc(2)
    portBytes.writeUInt16BE(port)
    const userid = Buffer.from(hop.username ?? "", "utf8")
    const ip = destination._tag === "Ip4" ? destination.bytes : Buffer.from([0, 0, 0, 1])
    const name = destination._tag === "Name" ? Buffer.concat([destination.name, Buffer.from([0])]) : Buffer.alloc(0)
    send(Buffer.concat([Buffer.from([0x04, 0x01]), portBytes, ip, userid, Buffer.from([0]), name]))
    expect((b) => {
      if (b.length < 8) return null
      step = null
      if (b[0] !== 0x00) {
        malformed()
        return 8
      }
      const reply = b[1]
      if (reply === 0x5a) {
        granted(b.subarray(8))
        return b.length
      }
      const known = SOCKS4_REPLIES.get(reply)
      refuse(known?.[0] ?? "UnknownReply", reply, `${hex(reply)}: ${known?.[1] ?? "Unknown error"}`)
      return 8
    })
  }

  const granted = (rest: Buffer) => {
    socket.pause()
    if (rest.length > 0) socket.unshift(rest)
    finish(null)
  }

  const start = (destination: Destination) => {
    if (isSettled()) return
    if (version === 5) socks5(destination)
    else socks4(destination)
  }

  const begin = () => {
    const literal = withoutZone(host)
    const family = net.isIP(literal)
    if (family === 4) {
      start({ _tag: "Ip4", bytes: ip4Bytes(literal) })
    } else if (family === 6) {
      if (version === 4) refuse("AddressNotSupported", null, `SOCKS4 cannot carry the IPv6 address ${host}`)
      else start({ _tag: "Ip6", bytes: ip6Bytes(literal) })
    } else if (hop.remoteDns) {
      const name = Buffer.from(host, "utf8")
      if (version === 5 && name.length > 255) {
        refuse("AddressNotSupported", null, `SOCKS5 cannot carry a host name of ${name.length} bytes`)
      } else {
        start({ _tag: "Name", name })
      }
    } else {
      dns.lookup(host, { all: true, family: version === 4 ? 4 : 0 }, (error, addresses) => {
        if (isSettled()) return
        if (error !== null) {
          const resolution = mapConnectError(error, host, port, false)
          return finish(
            new Errors.ProxyError({
              message: `Unable to connect to proxy: ${resolution.message}`,
              error: resolution
            })
          )
        }
        const chosen = addresses.find((a) => a.family === 4) ?? addresses[0]
        if (chosen === undefined || (version === 4 && chosen.family !== 4)) {
          return refuse("AddressNotSupported", null, `SOCKS4 cannot carry an address of ${host} (no IPv4 address)`)
        }
        start(
          chosen.family === 4
            ? { _tag: "Ip4", bytes: ip4Bytes(chosen.address) }
            : { _tag: "Ip6", bytes: ip6Bytes(chosen.address) }
        )
      })
    }
  }
  return { socket, onData, onError: finish, onClose, begin }
}
