/**
 * A small SOCKS server written for the tests (a raw `net.Server` on 127.0.0.1), beside the
 * real dante: it speaks SOCKS4, 4a, 5 and 5h, records each request as it arrived (the
 * version, the address type and the name a client sent, credentials), and answers as the
 * test says: a working tunnel to a loopback target, any reply code, or raw bytes (a
 * truncated, wrong-version or garbage answer) followed by a close. It only ever connects to
 * 127.0.0.1, ::1 or the name `localhost` (as 127.0.0.1); any other target gets a refusal.
 */
import * as net from "node:net"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** A CONNECT request as the server read it. */
export interface SocksRequest {
  readonly version: 4 | 5
  /** SOCKS5: the methods the client offered (0 none, 2 user name and password). */
  readonly methods: ReadonlyArray<number>
  /** How the target was sent: an IPv4 or IPv6 address, or a name (socks4a, socks5h). */
  readonly addressType: "ipv4" | "ipv6" | "name"
  /** The name, the dotted IPv4 address, or the IPv6 address as eight hex words (`0:0:0:0:0:0:0:1`). */
  readonly host: string
  readonly port: number
  /** SOCKS5: the RFC 1929 user name; SOCKS4: the userid (empty string when none was sent). */
  readonly username: string | null
  readonly password: string | null
}

/** What the server does with a request: tunnel, refuse with a reply code, or send bytes and close. */
export type Answer = "tunnel" | { readonly reply: number } | { readonly raw: Uint8Array }

/** Options of `start`. */
export interface Options {
  /** SOCKS5 users, name to password: with them the server selects method 2 and checks them. */
  readonly users?: Readonly<Record<string, string>>
  /** Bytes sent instead of the SOCKS5 method selection, then the socket is closed. */
  readonly methodReply?: Uint8Array
  /** The answer to each CONNECT request. Default: tunnel. */
  readonly answer?: (request: SocksRequest) => Answer
}

/** A running test SOCKS server. */
export interface SocksServer {
  readonly port: number
  readonly url: (scheme: "socks4" | "socks4a" | "socks5" | "socks5h", userinfo?: string) => string
  /** Every CONNECT request so far, oldest first. */
  readonly requests: ReadonlyArray<SocksRequest>
  /** Client connections accepted so far. */
  readonly connections: () => number
}

const ipv6Text = (bytes: Buffer): string => {
  const words: Array<string> = []
  for (let i = 0; i < 16; i += 2) words.push(bytes.readUInt16BE(i).toString(16))
  return words.join(":")
}

/** A reader of a socket's bytes: `take(n)` waits for n more bytes; null when the socket ended first. */
const reader = (socket: net.Socket) => {
  let buffer = Buffer.alloc(0)
  let waiting: (() => void) | null = null
  let ended = false
  const wake = () => {
    const w = waiting
    waiting = null
    w?.()
  }
  const onData = (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk])
    wake()
  }
  socket.on("data", onData)
  socket.on("end", () => {
    ended = true
    wake()
  })
  socket.on("close", () => {
    ended = true
    wake()
  })
  const take = async (n: number): Promise<Buffer | null> => {
    while (buffer.length < n) {
      if (ended) return null
      await new Promise<void>((resolve) => {
        waiting = resolve
      })
    }
    const out = buffer.subarray(0, n)
    buffer = buffer.subarray(n)
    return out
  }
  const until0 = async (): Promise<Buffer | null> => {
    const bytes: Array<number> = []
    while (true) {
      const b = await take(1)
      if (b === null) return null
      if (b[0] === 0) return Buffer.from(bytes)
      bytes.push(b[0])
    }
  }
  /** Stops reading and hands back what was read ahead. */
  const release = (): Buffer => {
    socket.off("data", onData)
    return buffer
  }
  return { take, until0, release }
}

const allowed = (host: string): string | null =>
  host === "127.0.0.1" ? host : host === "0:0:0:0:0:0:0:1" ? "::1" : host === "localhost" ? "127.0.0.1" : null

const serve = async (socket: net.Socket, options: Options, requests: Array<SocksRequest>): Promise<unknown> => {
  const read = reader(socket)
  const first = await read.take(1)
  if (first === null) return socket.destroy()
  const version = first[0]
  let request: SocksRequest
  if (version === 5) {
    const count = await read.take(1)
    const methods = count === null ? null : await read.take(count[0])
    if (methods === null) return socket.destroy()
    if (options.methodReply !== undefined) return socket.end(options.methodReply)
    const users = options.users
    let username: string | null = null
    let password: string | null = null
    if (users !== undefined) {
      if (!methods.includes(2)) return socket.end(Buffer.from([5, 0xff]))
      socket.write(Buffer.from([5, 2]))
      const head = await read.take(2)
      const user = head === null ? null : await read.take(head[1])
      const plen = user === null ? null : await read.take(1)
      const pass = plen === null ? null : await read.take(plen[0])
      if (user === null || pass === null) return socket.destroy()
      username = user.toString("utf8")
      password = pass.toString("utf8")
      const ok = Object.hasOwn(users, username) && users[username] === password
      if (!ok) return socket.end(Buffer.from([1, 1]))
      socket.write(Buffer.from([1, 0]))
    } else {
      if (!methods.includes(0)) return socket.end(Buffer.from([5, 0xff]))
      socket.write(Buffer.from([5, 0]))
    }
    const head = await read.take(4)
    if (head === null) return socket.destroy()
    let addressType: SocksRequest["addressType"]
    let host: string
    if (head[3] === 1) {
      const a = await read.take(4)
      if (a === null) return socket.destroy()
      addressType = "ipv4"
      host = [...a].join(".")
    } else if (head[3] === 4) {
      const a = await read.take(16)
      if (a === null) return socket.destroy()
      addressType = "ipv6"
      host = ipv6Text(a)
    } else {
      const length = await read.take(1)
      const name = length === null ? null : await read.take(length[0])
      if (name === null) return socket.destroy()
      addressType = "name"
      host = name.toString("utf8")
    }
    const portBytes = await read.take(2)
    if (portBytes === null) return socket.destroy()
    request = {
      version: 5,
      methods: [...methods],
      addressType,
      host,
      port: portBytes.readUInt16BE(0),
      username,
      password
    }
  } else if (version === 4) {
    const head = await read.take(7)
    const userid = head === null ? null : await read.until0()
    if (head === null || userid === null) return socket.destroy()
    const ip = [...head.subarray(3, 7)]
    const named = ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0
    const name = named ? await read.until0() : null
    if (named && name === null) return socket.destroy()
    request = {
      version: 4,
      methods: [],
      addressType: named ? "name" : "ipv4",
      host: named && name !== null ? name.toString("utf8") : ip.join("."),
      port: head.readUInt16BE(1),
      username: userid.toString("utf8"),
      password: null
    }
  } else {
    return socket.destroy()
  }
  requests.push(request)
  const answer = options.answer?.(request) ?? "tunnel"
  const refusal = (code: number) =>
    request.version === 5 ? Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]) : Buffer.from([0, code, 0, 0, 0, 0, 0, 0])
  if (answer !== "tunnel") {
    return socket.end("raw" in answer ? answer.raw : refusal(answer.reply))
  }
  const target = allowed(request.host)
  if (target === null) return socket.end(refusal(request.version === 5 ? 0x04 : 0x5b))
  const upstream = net.connect({ host: target, port: request.port })
  upstream.once("error", () => {
    socket.end(refusal(request.version === 5 ? 0x05 : 0x5b))
  })
  upstream.once("connect", () => {
    upstream.removeAllListeners("error")
    upstream.on("error", () => socket.destroy())
    socket.on("error", () => upstream.destroy())
    socket.write(
      request.version === 5 ? Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]) : Buffer.from([0, 0x5a, 0, 0, 0, 0, 0, 0])
    )
    const ahead = read.release()
    if (ahead.length > 0) upstream.write(ahead)
    socket.pipe(upstream)
    upstream.pipe(socket)
    socket.on("close", () => upstream.destroy())
    upstream.on("close", () => socket.destroy())
  })
  return undefined
}

/** Starts the server for the current Scope; closing the Scope closes it and every connection. */
export const start = (options: Options = {}): Effect.Effect<SocksServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: net.Server; readonly sockets: Set<net.Socket>; readonly info: SocksServer }>(
      (resume) => {
        const requests: Array<SocksRequest> = []
        const sockets = new Set<net.Socket>()
        let connections = 0
        const server = net.createServer((socket) => {
          connections++
          sockets.add(socket)
          socket.on("close", () => sockets.delete(socket))
          socket.on("error", () => socket.destroy())
          serve(socket, options, requests).catch(() => socket.destroy())
        })
        server.listen(0, "127.0.0.1", () => {
          const address = server.address() as net.AddressInfo
          resume(
            Effect.succeed({
              server,
              sockets,
              info: {
                port: address.port,
                url: (scheme, userinfo) =>
                  `${scheme}://${userinfo === undefined ? "" : `${userinfo}@`}127.0.0.1:${address.port}`,
                requests,
                connections: () => connections
              }
            })
          )
        })
      }
    ),
    ({ server, sockets }) =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ info }) => info))
