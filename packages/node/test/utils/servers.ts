/**
 * Real loopback servers for integration tests, as scoped resources: each one listens on
 * 127.0.0.1 (or ::1) port 0, records what it receives and how many sockets it saw, and is
 * closed with every socket it accepted when its Scope closes.
 *
 * Use them from `it.scopedLive` (real clock): `waitForOpenSockets` and `waitUntil` wait on the
 * sockets' open and close events and the requests' arrival, with a real-clock timeout.
 *
 * @example
 * it.scopedLive("reuses the socket", () =>
 *   Effect.gen(function*() {
 *     const server = yield* Servers.http(Servers.echo)
 *     // ... send requests to server.url
 *     expect(server.socketsOpened()).toBe(1)
 *   }))
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import * as net from "node:net"
import type * as tls from "node:tls"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Certs from "./certs.js"
import * as Watch from "./watch.js"

/** Loopback addresses only, ever. */
export type LoopbackHost = "127.0.0.1" | "::1"

/** A request as the server received it. */
export interface ReceivedRequest {
  readonly method: string
  readonly url: string
  /** Header names and values in the order they arrived: `[name, value, name, value, ...]`. */
  readonly rawHeaders: ReadonlyArray<string>
  /** Header values by lower-case name, as node:http merges them. */
  readonly headers: http.IncomingHttpHeaders
  /** The whole request body. */
  readonly body: Uint8Array
  readonly remoteAddress: string
  readonly remotePort: number
  /** 1 for the first socket the server accepted, 2 for the second, ... */
  readonly socketId: number
}

/**
 * Answers a request. The body has been read already (it is in `received.body`); `req` is
 * the node:http request, `res` the response to write.
 */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, received: ReceivedRequest) => void

/** Sockets a server has seen. */
export interface SocketCounts {
  /** TCP connections accepted since the server started (including failed TLS handshakes). */
  readonly socketsOpened: () => number
  /** TCP connections open right now. */
  readonly openSockets: () => number
  /** Waits (on the sockets' events, up to `timeout`, default 5 s) until `openSockets()` is `n`. */
  readonly waitForOpenSockets: (n: number, timeout?: Duration.DurationInput) => Effect.Effect<void>
  /**
   * Waits until `condition` holds, checked whenever a socket opens or closes or a request has
   * arrived (no clock); fails the test naming `what` after `timeout` (default 5 s).
   */
  readonly waitUntil: (condition: () => boolean, what: string, timeout?: Duration.DurationInput) => Effect.Effect<void>
}

/** A running http or https test server. */
export interface TestServer extends SocketCounts {
  readonly scheme: "http" | "https"
  readonly host: LoopbackHost
  readonly port: number
  /** `http://127.0.0.1:port` (IPv6 hosts in brackets), without a trailing slash. */
  readonly url: string
  /** Every request received so far, oldest first (a live view). */
  readonly requests: ReadonlyArray<ReceivedRequest>
  readonly server: http.Server | https.Server
}

/** Options of `http` and `https`. */
export interface ServerOptions {
  /** Default `"127.0.0.1"`. */
  readonly host?: LoopbackHost
  /** node:http's idle keep-alive timeout in ms (its default is 5000). */
  readonly keepAliveTimeout?: number
  /**
   * TLS options of an https server, merged over the default: the test CA's `server`
   * certificate and key, and the CA as `ca` (so `requestCert: true` accepts the test
   * client certificate).
   */
  readonly tls?: tls.TlsOptions
}

/** A raw TCP test server (for silent peers and hand-written responses). */
export interface RawServer extends SocketCounts {
  readonly host: LoopbackHost
  readonly port: number
  readonly server: net.Server
}

const formatUrl = (scheme: string, host: LoopbackHost, port: number): string =>
  `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`

const trackSockets = (server: net.Server) => {
  const sockets = new Set<net.Socket>()
  // Socket ids by remote address and port, which a TLS socket shares with its TCP socket.
  const ids = new Map<string, number>()
  // Told whenever a socket opens or closes or a request arrives: what the waits wait on.
  const watch = Watch.make(() => `${sockets.size} open sockets, ${opened} accepted`)
  let opened = 0
  server.on("connection", (socket: net.Socket) => {
    const id = ++opened
    const key = `${socket.remoteAddress}:${socket.remotePort}`
    ids.set(key, id)
    sockets.add(socket)
    watch.changed()
    socket.on("close", () => {
      sockets.delete(socket)
      if (ids.get(key) === id) {
        ids.delete(key)
      }
      watch.changed()
    })
  })
  const counts: SocketCounts = {
    socketsOpened: () => opened,
    openSockets: () => sockets.size,
    waitForOpenSockets: (n, timeout = "5 seconds") =>
      watch.until(() => sockets.size === n, `the server has ${n} open sockets`, timeout),
    waitUntil: watch.until
  }
  return { sockets, ids, counts, changed: watch.changed }
}

const listen = (server: net.Server, host: LoopbackHost): Effect.Effect<number> =>
  Effect.async<number>((resume) => {
    server.listen(0, host, () => {
      const address = server.address()
      resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const shutdown = (server: net.Server, sockets: Set<net.Socket>): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if ("closeAllConnections" in server && typeof server.closeAllConnections === "function") {
      server.closeAllConnections()
    }
    for (const socket of sockets) {
      socket.destroy()
    }
    if (!server.listening) {
      resume(Effect.void)
      return
    }
    server.close(() => resume(Effect.void))
  }).pipe(Effect.timeoutTo({ duration: "2 seconds", onSuccess: () => undefined, onTimeout: () => undefined }))

const serve = (
  scheme: "http" | "https",
  handler: Handler,
  options: ServerOptions,
  tlsOptions: tls.TlsOptions | null
): Effect.Effect<TestServer, never, Scope.Scope> => {
  const host = options.host ?? "127.0.0.1"
  return Effect.acquireRelease(
    Effect.gen(function* () {
      const server: http.Server | https.Server =
        tlsOptions === null ? http.createServer() : https.createServer(tlsOptions)
      if (options.keepAliveTimeout !== undefined) {
        server.keepAliveTimeout = options.keepAliveTimeout
      }
      const { sockets, ids, counts, changed } = trackSockets(server)
      const requests: Array<ReceivedRequest> = []
      server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("error", () => res.destroy())
        req.on("end", () => {
          const socket = req.socket
          const received: ReceivedRequest = {
            method: req.method ?? "",
            url: req.url ?? "",
            rawHeaders: req.rawHeaders,
            headers: req.headers,
            body: new Uint8Array(Buffer.concat(chunks)),
            remoteAddress: socket.remoteAddress ?? "",
            remotePort: socket.remotePort ?? 0,
            socketId: ids.get(`${socket.remoteAddress}:${socket.remotePort}`) ?? 0
          }
          requests.push(received)
          changed()
          try {
            handler(req, res, received)
          } catch (error) {
            res.statusCode = 500
            res.end(String(error))
          }
        })
      })
      // A TLS handshake the client aborts is part of many tests; it is not an error here.
      server.on("tlsClientError", () => {})
      server.on("clientError", (_error, socket) => socket.destroy())
      const port = yield* listen(server, host)
      const testServer: TestServer = {
        ...counts,
        scheme,
        host,
        port,
        url: formatUrl(scheme, host, port),
        requests,
        server
      }
      return { testServer, server, sockets }
    }),
    ({ server, sockets }) => shutdown(server, sockets)
  ).pipe(Effect.map(({ testServer }) => testServer))
}

/**
 * Starts a node:http server with `handler` on a loopback port; closed, with every socket,
 * when the Scope closes.
 */
export const http_ = (handler: Handler, options: ServerOptions = {}): Effect.Effect<TestServer, never, Scope.Scope> =>
  serve("http", handler, options, null)

export { http_ as http }

/**
 * Starts a node:https server with `handler` on a loopback port, presenting the test CA's
 * `server` certificate unless `options.tls` says otherwise.
 */
export const https_ = (handler: Handler, options: ServerOptions = {}): Effect.Effect<TestServer, never, Scope.Scope> =>
  Effect.flatMap(Certs.certs, (certs) =>
    serve("https", handler, options, {
      key: certs.server.key,
      cert: certs.server.cert,
      ca: [certs.ca.cert],
      ...options.tls
    })
  )

export { https_ as https }

/**
 * Starts a raw TCP server on a loopback port; `onSocket` gets each accepted socket (do
 * nothing with it for a peer that never answers). Every socket is destroyed when the
 * Scope closes.
 */
export const raw = (
  onSocket: (socket: net.Socket) => void = () => {},
  options: { readonly host?: LoopbackHost } = {}
): Effect.Effect<RawServer, never, Scope.Scope> => {
  const host = options.host ?? "127.0.0.1"
  return Effect.acquireRelease(
    Effect.gen(function* () {
      const server = net.createServer()
      const { sockets, counts } = trackSockets(server)
      server.on("connection", (socket: net.Socket) => {
        socket.on("error", () => {})
        onSocket(socket)
        // A socket nobody reads never sees the peer's FIN; read (and drop) what comes.
        if (socket.readableFlowing === null) socket.resume()
      })
      const port = yield* listen(server, host)
      return { rawServer: { ...counts, host, port, server } satisfies RawServer, server, sockets }
    }),
    ({ server, sockets }) => shutdown(server, sockets)
  ).pipe(Effect.map(({ rawServer }) => rawServer))
}

/** A raw server that reads HTTP requests (see `rawHttp`). */
export interface RawHttpServer extends RawServer {
  /** Whole requests read so far, over every socket. */
  readonly requestsRead: () => number
}

/**
 * A raw TCP server that reads whole requests (a head, and a Content-Length body) and calls
 * `answer` for each with its socket, its head and its ordinal number on that socket; what to
 * write back (or not), and whether to close, is `answer`'s. `onConnect` gets each socket as it
 * is accepted, before any request (for a server that speaks first).
 */
export const rawHttp = (
  answer: (socket: net.Socket, head: string, index: number) => void,
  options: { readonly host?: LoopbackHost; readonly onConnect?: (socket: net.Socket) => void } = {}
): Effect.Effect<RawHttpServer, never, Scope.Scope> => {
  let read = 0
  return Effect.map(
    raw((socket) => {
      options.onConnect?.(socket)
      let buffer = Buffer.alloc(0)
      let index = 0
      socket.on("data", (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk])
        for (;;) {
          const end = buffer.indexOf("\r\n\r\n")
          if (end < 0) return
          const head = buffer.subarray(0, end).toString("latin1")
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
          if (buffer.length < end + 4 + length) return
          buffer = buffer.subarray(end + 4 + length)
          read++
          answer(socket, head, index++)
        }
      })
    }, options),
    (server) => ({ ...server, requestsRead: () => read })
  )
}

/**
 * The first port of the kernel's ephemeral range: every server of the tests (in every test
 * process at once) listens on port 0, so it gets a port from that range, never one below it.
 */
const ephemeralLow = (): number => {
  try {
    const low = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > 2048 ? low : 32768
  } catch {
    return 32768
  }
}

/** Whether a connection to `port` on 127.0.0.1 is refused (nothing listens there). */
const refuses = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve(false)
    })
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"))
  })

/**
 * A port on 127.0.0.1 where nothing listens, for connection-refused cases: one below the
 * ephemeral range, where no test server can be given a port (a port bound and released in the
 * range could be handed to a server of another test file running at the same time).
 */
export const closedPort: Effect.Effect<number> = Effect.promise(async () => {
  const low = ephemeralLow()
  for (let tries = 0; tries < 20; tries++) {
    const port = low - 1 - Math.floor(Math.random() * Math.min(10_000, low - 2048))
    if (await refuses(port)) return port
  }
  throw new Error("no refused port found below the ephemeral range")
})

// ---------------------------------------------------------------------------
// Ready handlers
// ---------------------------------------------------------------------------

/** What `echo` answers: the request as the server saw it. */
export interface Echoed {
  readonly method: string
  readonly url: string
  readonly rawHeaders: ReadonlyArray<string>
  /** The request body as latin1 text (bytes 0-255 map to code points 0-255). */
  readonly body: string
  readonly bodyLength: number
  readonly remoteAddress: string
  readonly remotePort: number
  readonly socketId: number
}

/** The value of a header in a flat `[name, value, ...]` list, by lower-case name. */
export const headerOf = (raw: ReadonlyArray<string>, name: string): string | undefined => {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1]
  return undefined
}

/** Parses what `echo` answered. */
export const echoedOf = (text: string): Echoed => JSON.parse(text) as Echoed

/** Answers 200 with the request as JSON (`Echoed`). */
export const echo: Handler = (_req, res, received) => {
  const echoed: Echoed = {
    method: received.method,
    url: received.url,
    rawHeaders: received.rawHeaders,
    body: Buffer.from(received.body).toString("latin1"),
    bodyLength: received.body.length,
    remoteAddress: received.remoteAddress,
    remotePort: received.remotePort,
    socketId: received.socketId
  }
  const body = JSON.stringify(echoed)
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) })
  res.end(body)
}

/** Options of `fixed`. */
export interface FixedOptions {
  /** Default 200. */
  readonly status?: number
  /** Sent as given, in order; a Content-Length is added unless present. */
  readonly headers?: ReadonlyArray<readonly [string, string]>
}

/** Answers every request with the same status, headers and body. */
export const fixed = (body: string | Uint8Array = "", options: FixedOptions = {}): Handler => {
  const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body)
  const headers = options.headers ?? []
  const hasLength = headers.some(([name]) => name.toLowerCase() === "content-length")
  const flat: Array<string> = headers.flat()
  if (!hasLength) {
    flat.push("Content-Length", String(bytes.length))
  }
  return (_req, res) => {
    res.writeHead(options.status ?? 200, flat)
    res.end(bytes)
  }
}

/**
 * `size` bytes of a repeating pattern (`byteAt(i)`), so a test can check every byte it
 * read.
 */
export const patternBytes = (size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) {
    bytes[i] = byteAt(i)
  }
  return bytes
}

/** The byte at offset `i` of `patternBytes`. */
export const byteAt = (i: number): number => (i * 31 + (i >>> 8)) & 0xff

/** Progress of a `streamed` response, as the server sees it. */
export interface StreamProgress {
  /** Bytes handed to the socket and flushed (their write callback ran). */
  readonly flushed: number
  /** Whether the whole body was flushed. */
  readonly done: boolean
}

/**
 * Answers with `size` pattern bytes (Content-Length set) written in `chunkSize` pieces,
 * waiting for `drain` whenever the socket's buffer is full, so that how far the server got
 * (`progress()`) shows whether the client applies backpressure.
 */
export const streamed = (
  size: number,
  chunkSize = 64 * 1024
): {
  readonly handler: Handler
  readonly progress: () => StreamProgress
  /** Waits (on the last write's callback, up to 5 s) until the whole body was flushed. */
  readonly untilDone: Effect.Effect<void>
} => {
  const body = patternBytes(size)
  let flushed = 0
  let done = false
  const watch = Watch.make(() => `${flushed} of ${size} bytes flushed`)
  const handler: Handler = (_req, res) => {
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": size })
    let offset = 0
    const pump = (): void => {
      while (offset < size) {
        const end = Math.min(offset + chunkSize, size)
        const chunk = body.subarray(offset, end)
        offset = end
        const more = res.write(chunk, () => {
          flushed += chunk.length
        })
        if (!more) {
          res.once("drain", pump)
          return
        }
      }
      res.end(() => {
        done = true
        watch.changed()
      })
    }
    pump()
  }
  return {
    handler,
    progress: () => ({ flushed, done }),
    untilDone: watch.until(() => done, "the server flushed the whole body")
  }
}

/** Waits `delayMs` before answering like `fixed`. */
export const slowHeaders = (delayMs: number, body = "late"): Handler => {
  const answer = fixed(body)
  return (req, res, received) => {
    const timer = setTimeout(() => answer(req, res, received), delayMs)
    res.on("close", () => clearTimeout(timer))
  }
}

/**
 * Sends the headers (Content-Length of both parts) and `first` at once, then `second`
 * after `delayMs`.
 */
export const slowBody = (delayMs: number, first = "first,", second = "second"): Handler => {
  return (_req, res) => {
    res.writeHead(200, { "Content-Length": Buffer.byteLength(first) + Buffer.byteLength(second) })
    res.write(first)
    const timer = setTimeout(() => res.end(second), delayMs)
    res.on("close", () => clearTimeout(timer))
  }
}

/**
 * Declares a Content-Length of `declared` bytes, sends `body` (shorter), then closes the
 * connection.
 */
export const truncated = (declared: number, body = "only part"): Handler => {
  return (req, res) => {
    res.writeHead(200, { "Content-Length": declared })
    res.write(body, () => req.socket.end())
  }
}

/** Answers 200 with `Connection: close` and closes the socket after the response. */
export const connectionClose = (body = "bye"): Handler => fixed(body, { headers: [["Connection", "close"]] })

/** Never answers (the request stays open until the client gives up or the Scope closes). */
export const silent: Handler = () => {}
