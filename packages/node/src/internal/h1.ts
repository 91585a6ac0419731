/**
 * httpool's HTTP/1.1 engine: one request at a time on one keep-alive socket, its answers read
 * by Node's own llhttp parser (`HTTPParser`, the one node:http uses). A connection dials its
 * sockets itself (`connect`) and hands each exchange a handler; the engine writes the request,
 * parses the answer into the handler's callbacks, and keeps, closes or drops the socket after.
 *
 * What it does, and why, as a client must (RFC 9112):
 *
 * - The head is one latin1 string: the request line, `host`, `connection` (`keep-alive`, or
 *   `close` on a socket's last request), the caller's headers, and the framing: a body of known
 *   size gets `content-length` (a declared one must match it), a streamed one goes chunked
 *   unless a Content-Length was declared, an empty one sends `content-length: 0` only for the
 *   methods that expect a body. Header names and values are checked once per header list.
 * - A socket is closed after an answer that does not keep it alive, after a HEAD (a server may
 *   wrongly send a body after it), after a request that carried a body its method does not
 *   expect, after an answer that came before its request was written, and when it has served
 *   `maxRequestsPerConnection`. An idle socket is closed after its keep-alive time: the
 *   server's `Keep-Alive: timeout` less `keepAliveTimeoutThreshold`, at most
 *   `keepAliveMaxTimeout`, else `keepAliveTimeout`; while idle it does not keep Node running.
 * - What the server does with a kept socket is learnt by a pool's connections together
 *   (`ServerKeeping`): whether it keeps it for the next request, or closes it right after
 *   answering without saying so (as tinyproxy 1.11 does). A request that must not reach the
 *   server twice goes out on a kept socket only once the server is known to keep its sockets,
 *   or after the socket has stayed open `SETTLE_MS` after its answer; on a server known to
 *   close after answering, it takes a new socket at once (see `settleLeft`).
 * - An answer that completes leaves its kept socket read, even if its handler had paused it
 *   (its reader behind): an idle socket must show its end of stream and the next answer.
 * - 1xx answers other than 101 are skipped; a 101 or any answer nobody asked for drops the
 *   socket; a body without length ends with the socket.
 * - A body of `TAKE_BODY_MIN` bytes or more with a Content-Length is read by the engine itself,
 *   as views of what the socket read: the parser hands over a copy of every piece.
 * - A plain socket (`reads.ts`) reads into one buffer shared by every such socket; its bytes
 *   are lent to the handler (`onData`'s `lent`), which copies what it keeps.
 *
 * @internal
 */
import { createRequire } from "node:module"
import type * as net from "node:net"
import { readsFor } from "./reads.js"
import type { Settings } from "./settings.js"

/** What the engine reports of one exchange (the callbacks `Exchange` implements). @internal */
export interface H1Handler {
  /** The request is about to be written; `abort` drops the socket, failing the request with `error`. */
  onConnect(abort: (error?: Error) => void): void
  onBodySent(): void
  onRequestSent(): void
  /** The first byte of the answer arrived. */
  onResponseStarted(): void
  /** The head of an answer (1xx ones too); false pauses the socket until `resume`. */
  onHeaders(status: number, headers: Array<string>, resume: () => void, statusText: string): boolean
  /**
   * A piece of the body; false pauses the socket until `resume`. `lent`: its bytes are the
   * socket's shared read buffer (`reads.ts`), valid only during the call: what is kept is copied.
   */
  onData(chunk: Buffer, lent: boolean): boolean
  onComplete(): void
  onError(error: Error): void
}

/** One request as the engine writes it. @internal */
export interface H1Request {
  readonly method: string
  /** Origin-form, or absolute-form to a proxy. */
  readonly path: string
  /** Flat `[name, value, ...]`. A `host` among them replaces the connection's own. */
  readonly headers: ReadonlyArray<string>
  readonly body: string | Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | null
  /** Chunked framing whatever the body, ending with the last chunk even when it has no bytes. */
  readonly chunked?: boolean | undefined
}

/** An error of the engine: `code` says which, for `errors.ts` to map. @internal */
export class H1Error extends Error {
  constructor(
    message: string,
    readonly code: string
  ) {
    super(message)
    this.name = "H1Error"
  }
}

/** @internal */
export const H1_SOCKET = "ERR_H1_SOCKET"
/** @internal */
export const H1_CLOSED = "ERR_H1_CLOSED"
/** @internal */
export const H1_INVALID_ARG = "ERR_H1_INVALID_ARG"
/** @internal */
export const H1_NOT_SUPPORTED = "ERR_H1_NOT_SUPPORTED"
/** @internal */
export const H1_REQ_CONTENT_LENGTH_MISMATCH = "ERR_H1_REQ_CONTENT_LENGTH_MISMATCH"

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void
  execute(data: Buffer): number | Error
  finish(): Error | undefined
  close(): void
  [callback: number]: unknown
}

interface NativeParserClass {
  new (): NativeParser
  readonly RESPONSE: number
  readonly kOnHeaders: number
  readonly kOnHeadersComplete: number
  readonly kOnBody: number
  readonly kOnMessageComplete: number
}

const { HTTPParser } = createRequire(import.meta.url)("_http_common") as { readonly HTTPParser: NativeParserClass }

const tokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const invalidValueRe = /[^\t\x20-\x7e\x80-\xff]/
const invalidPathRe = /[^\u0021-\u00ff]/

/** The methods whose requests carry a body (RFC 9110): an empty one still says `content-length: 0`. */
const expectsPayload = (method: string): boolean =>
  method === "POST" ||
  method === "PUT" ||
  method === "PATCH" ||
  method === "QUERY" ||
  method === "PROPFIND" ||
  method === "PROPPATCH"

/** A caller's header list as the engine writes it, worked out once per list. */
class HeadLines {
  constructor(
    /** `host: ...\r\n`, or null for the connection's own. */
    readonly host: string | null,
    /** Every other line, each ending in CRLF. */
    readonly lines: string,
    /** A declared Content-Length, or null. */
    readonly contentLength: number | null,
    /** `Transfer-Encoding: chunked` was among them. */
    readonly chunked: boolean,
    /** `Connection: close` was among them. */
    readonly close: boolean
  ) {}
}

/** Requests written and not yet ended, on every engine of the process. */
let inFlight = 0

/** Requests written and not yet ended, on every engine of the process (for tests). @internal */
export const requestsInFlight = (): number => inFlight

/** A bodiless request's head: bytes kept for repeated requests, or latin1 text. */
const writeHead = (socket: net.Socket, head: Buffer | string): void => {
  if (typeof head === "string") socket.write(head, "latin1")
  else socket.write(head)
}

/**
 * Heads of requests without body written once this turn of the event loop has read what it
 * could (`setImmediate`), one after the other. Answers that arrive together are read in one
 * turn, and each sends its socket's next request: written as each is read, they reach the
 * server one by one, and a server that has gone back to sleep is woken for each; written
 * together, it reads them in one go. Measured (docs/performance.md): for 64 B GETs at
 * concurrency 16, the server process woke 2 to 3 times per 100 requests instead of 12 to 16,
 * and both processes spent less CPU per request. A request waits at most for the rest of the
 * turn's reads; one written alone, with no other request waiting for its answer, goes at once.
 */
class Batch {
  private readonly sockets: Array<net.Socket> = Array.of()
  private readonly heads: Array<Buffer | string> = Array.of()

  add(socket: net.Socket, head: Buffer | string): void {
    if (this.sockets.length === 0) setImmediate(this.flush)
    this.sockets.push(socket)
    this.heads.push(head)
  }

  /** Writes the heads waiting (also called by the turn's own `setImmediate`). */
  readonly flush = (): void => {
    const sockets = this.sockets
    const heads = this.heads
    for (let i = 0; i < sockets.length; i++) {
      const socket = sockets[i]!
      const head = heads[i]!
      // A socket dropped meanwhile (an abort, an interruption) has failed its request already.
      if (socket.destroyed) continue
      try {
        writeHead(socket, head)
      } catch (error) {
        // As a write that fails at once: the socket goes, and its request fails with it.
        socket.destroy(error instanceof Error ? error : new Error(String(error)))
      }
    }
    sockets.length = 0
    heads.length = 0
  }
}

const batch = new Batch()

/**
 * Writes the heads waiting for the end of this turn now: for a caller that runs in the turn's
 * check phase itself, where a `setImmediate` would only run in the next turn. @internal
 */
export const flushHeads = (): void => batch.flush()

const invalid = (message: string) => new H1Error(message, H1_INVALID_ARG)

const contentLengthMismatch = () =>
  new H1Error("Request body length does not match content-length header", H1_REQ_CONTENT_LENGTH_MISMATCH)

/** Checks and joins a header list (see `HeadLines`), or the error that refuses it. */
const headLinesOf = (headers: ReadonlyArray<string>): HeadLines | H1Error => {
  if (headers.length % 2 !== 0) return invalid("headers array must be even")
  let host: string | null = null
  let lines = ""
  let contentLength: number | null = null
  let chunked = false
  let close = false
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    const value = headers[i + 1]!
    if (typeof name !== "string" || !tokenRe.test(name)) return invalid("invalid header key")
    if (typeof value !== "string" || invalidValueRe.test(value)) return invalid(`invalid ${name} header`)
    switch (name.toLowerCase()) {
      case "host":
        if (host !== null) return invalid("duplicate host header")
        host = `host: ${value}\r\n`
        continue
      case "content-length":
        if (contentLength !== null) return invalid("duplicate content-length header")
        if (!/^\d+$/.test(value)) return invalid("invalid content-length header")
        contentLength = Number(value)
        continue
      case "transfer-encoding":
        if (value.trim().toLowerCase() !== "chunked") return invalid("invalid transfer-encoding header")
        chunked = true
        continue
      case "keep-alive":
      case "upgrade":
        return invalid(`invalid ${name.toLowerCase()} header`)
      case "expect":
        return new H1Error("expect header not supported", H1_NOT_SUPPORTED)
      case "connection":
        for (const token of value.toLowerCase().split(",")) {
          const trimmed = token.trim()
          if (!tokenRe.test(trimmed)) return invalid("invalid connection header")
          if (trimmed === "close") close = true
        }
        continue
    }
    lines += `${name}: ${value}\r\n`
  }
  return new HeadLines(host, lines, contentLength, chunked, close)
}

/** The last `Keep-Alive` value read, and its timeout: a server says the same every time. */
let lastKeepAlive = ""
let lastHint: number | null = null

/** The `Keep-Alive: timeout=N` of an answer's headers, in milliseconds, or null. */
const keepAliveHint = (headers: ReadonlyArray<string>): number | null => {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (name.length !== 10 || name.toLowerCase() !== "keep-alive") continue
    const value = headers[i + 1]!
    if (value !== lastKeepAlive) {
      const match = /timeout=(\d+)/i.exec(value)
      lastHint = match === null ? null : Number(match[1]) * 1000
      lastKeepAlive = value
    }
    return lastHint
  }
  return null
}

const noop = () => {}

/**
 * How long a kept socket must stay open after its answer before a request that must not
 * reach the server twice goes out on it, while the server is not known to keep its sockets: a
 * server that closes right after answering has done so by then (tinyproxy's end of stream
 * follows its answer by 0.02 to 0.5 ms on loopback, even with every core busy).
 */
const SETTLE_MS = 25

/**
 * A server that closes an idle socket within this time of its answer is taken to close after
 * answering (servers that close idle sockets on a keep-alive timeout wait seconds); one that
 * leaves a socket open this long after an answer is no longer taken to.
 */
const CLOSES_AFTER_MS = 1000

/**
 * What the engine has seen of how the server keeps its sockets: nothing telling yet; that it
 * keeps them (an answer said `Connection: keep-alive`, or a kept socket answered another
 * request); or that it closes them right after answering, without `Connection: close` (an idle
 * socket closed within `CLOSES_AFTER_MS` of its answer, or a kept socket closed under the
 * next request before any of its answer).
 */
type Keeping = "unknown" | "keeps" | "closes"

/**
 * What the connections to one server (a pool's, which come and go) have learnt of how it
 * keeps its sockets.
 *
 * @internal
 */
export class ServerKeeping {
  keeping: Keeping = "unknown"
}

/** Whether a header list says `Connection: keep-alive`. */
const saysKeepAlive = (headers: ReadonlyArray<string>): boolean => {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (
      name.length === 10 &&
      name.toLowerCase() === "connection" &&
      /(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(headers[i + 1]!)
    ) {
      return true
    }
  }
  return false
}

/** From this Content-Length, the engine reads a body itself instead of through the parser. */
const TAKE_BODY_MIN = 16 * 1024

/**
 * The Content-Length of an answer whose body the engine reads itself (one of at least
 * `TAKE_BODY_MIN` bytes, without Transfer-Encoding), or -1. The parser has checked the head
 * already: a Content-Length is digits, and one beside a Transfer-Encoding, or two that differ,
 * were refused.
 */
const largeContentLength = (headers: ReadonlyArray<string>): number => {
  let length = -1
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (name.length === 14 && name.toLowerCase() === "content-length") length = Number(headers[i + 1])
    else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") return -1
  }
  return Number.isSafeInteger(length) && length >= TAKE_BODY_MIN ? length : -1
}

/** An answer llhttp refused, as an `H1Error` with llhttp's code (`HPE_...`) and reason. */
const parseError = (error: Error): H1Error => {
  const { code, reason } = error as Error & { readonly code?: unknown; readonly reason?: unknown }
  return new H1Error(
    `Response does not match the HTTP/1.1 protocol (${typeof reason === "string" ? reason : error.message})`,
    typeof code === "string" ? code : "HPE_UNKNOWN"
  )
}

/** The request on the socket, from its write to the end of its answer. */
class Running {
  /** The socket closes after this answer. */
  reset: boolean
  /** A streamed body is still being written. */
  writing = false
  /** Bytes of the answer have arrived (`H1Handler.onResponseStarted` was called). */
  started = false
  /** The head of the final answer was parsed. */
  answered = false
  /** That answer keeps the socket alive. */
  keepAlive = false
  /** The answer's keep-alive time, from its `Keep-Alive` header, or null for the default. */
  keepAliveMs: number | null = null
  /** Bytes of the body still to come when the engine reads it itself; 0 otherwise (see `takeBody`). */
  bodyLeft = 0
  constructor(
    readonly request: H1Request,
    readonly handler: H1Handler,
    readonly socket: net.Socket,
    reset: boolean
  ) {
    this.reset = reset
  }
}

/**
 * One connection's engine: its socket (dialled by `connect` when there is none), the request
 * running on it, and its idle time.
 *
 * @internal
 */
export class H1Client {
  private socket: net.Socket | null = null
  private readonly parser = new HTTPParser()
  private current: Running | null = null
  private destroyed = false
  /** Requests written on the current socket. */
  private served = 0
  /** The first error the current socket reported. */
  private socketError: Error | null = null
  /** Header lines of the current socket's partial head (a head of more than 32 lines comes in parts). */
  private partial: Array<string> = Array.of()
  /** The current socket's keep-alive time (see the module comment). */
  private keepAliveMs: number
  private idleSince = 0
  private idleTimer: ReturnType<typeof setTimeout> | null = null
  /** The header list last written, and what it became. */
  private lastHeaders: ReadonlyArray<string> | null = null
  private lastLines: HeadLines | H1Error | null = null
  /** The method and path last checked (a pool asks for the same ones again and again). */
  private lastMethod = ""
  private lastPath = ""
  /** The head of a request without body last written, its bytes, and what it was made of. */
  private lastHead: Buffer | null = null
  private lastHeadMethod = ""
  private lastHeadPath = ""
  private lastHeadLines: HeadLines | null = null
  private lastHeadReset = false
  private lastHeadFraming = ""
  /** The parser is running (`execute` or `finish` is on the stack). */
  private parsing = false
  private parserClosed = false

  constructor(
    /** The connection's own `host: ...\r\n` line. */
    private readonly hostLine: string,
    private readonly settings: Settings,
    /** Dials a socket; calls back exactly once. */
    private readonly connect: (callback: (error: Error | null, socket: net.Socket | null) => void) => void,
    /** What this connection and the others to its server have learnt of how it keeps sockets. */
    private readonly server: ServerKeeping
  ) {
    this.keepAliveMs = settings.keepAliveTimeout
    const parser = this.parser
    parser[HTTPParser.kOnHeaders] = this.onHeaderLines
    parser[HTTPParser.kOnHeadersComplete] = this.onHeadersComplete
    parser[HTTPParser.kOnBody] = this.onBody
    parser[HTTPParser.kOnMessageComplete] = this.onMessageComplete
  }

  /** Sends `request`; the handler hears of it until `onComplete` or `onError`. One at a time. */
  dispatch(request: H1Request, handler: H1Handler): void {
    if (this.destroyed) {
      handler.onError(new H1Error("the connection is closed", H1_CLOSED))
      return
    }
    const lines = this.check(request)
    if (lines instanceof H1Error) {
      handler.onError(lines)
      return
    }
    const socket = this.socket
    if (socket !== null && !socket.destroyed && this.socketError === null) {
      this.write(request, lines, handler, socket)
      return
    }
    this.dropSocket()
    this.connect((error, opened) => {
      if (error !== null || opened === null) {
        handler.onError(error ?? new H1Error("no socket", H1_SOCKET))
        return
      }
      if (this.destroyed) {
        opened.destroy()
        handler.onError(new H1Error("the connection is closed", H1_CLOSED))
        return
      }
      this.attach(opened)
      this.write(request, lines, handler, opened)
    })
  }

  /**
   * For a request that must not reach the server twice, the milliseconds it should wait before
   * going out on the idle kept socket: 0 when it may go now (no such socket, a server known to
   * keep its sockets, or a socket open `SETTLE_MS` after its answer). On a server known to
   * close right after answering, a socket younger than `CLOSES_AFTER_MS` is let go instead
   * and -1 says so: the request dials a new one at once.
   */
  settleLeft(): number {
    if (this.socket === null || this.current !== null || this.server.keeping === "keeps") return 0
    const idle = performance.now() - this.idleSince
    if (this.server.keeping === "closes") {
      if (idle >= CLOSES_AFTER_MS) return 0
      this.dropSocket()
      return -1
    }
    return idle < SETTLE_MS ? SETTLE_MS - idle : 0
  }

  /** Fails the running request with `error` and closes the socket; nothing is sent after. */
  destroy(error: Error): void {
    if (this.destroyed) return
    this.destroyed = true
    const running = this.running
    this.running = null
    this.dropSocket()
    this.closeParser()
    running?.handler.onError(error)
  }

  /** The request's header lines, or why it cannot be sent (nothing of it is written then). */
  private check(request: H1Request): HeadLines | H1Error {
    const { method, path } = request
    if (method !== this.lastMethod || path !== this.lastPath) {
      if (!tokenRe.test(method)) return invalid("invalid request method")
      if (path[0] !== "/" && !path.startsWith("http://") && !path.startsWith("https://")) {
        return invalid("path must be an absolute URL or start with a slash")
      }
      if (invalidPathRe.test(path)) return invalid("invalid request path")
      this.lastMethod = method
      this.lastPath = path
    }
    const lines = this.linesOf(request.headers)
    if (lines instanceof H1Error) return lines
    // A body of known size must match a declared Content-Length (an empty one is sent as such).
    if (lines.contentLength !== null && !lines.chunked && request.chunked !== true) {
      const body = request.body
      const length = typeof body === "string" ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.length : -1
      if (length > 0 && length !== lines.contentLength) return contentLengthMismatch()
    }
    return lines
  }

  /**
   * The bytes of a request without body: made once for a pool's repeated requests, which
   * then write the same buffer (never changed once written) instead of encoding a string.
   * A head whose header lines differ from the last request's (a trace header of its own) is
   * written as a string: bytes kept for it would not be written again.
   */
  private bodilessHead(
    method: string,
    path: string,
    lines: HeadLines,
    reset: boolean,
    framing: string
  ): Buffer | string {
    if (
      this.lastHead !== null &&
      method === this.lastHeadMethod &&
      path === this.lastHeadPath &&
      lines === this.lastHeadLines &&
      reset === this.lastHeadReset &&
      framing === this.lastHeadFraming
    ) {
      return this.lastHead
    }
    const text = `${this.headOf(method, path, lines, reset)}${framing}`
    if (lines !== this.lastHeadLines) {
      this.lastHead = null
      this.lastHeadLines = lines
      return text
    }
    const head = Buffer.from(text, "latin1")
    this.lastHead = head
    this.lastHeadMethod = method
    this.lastHeadPath = path
    this.lastHeadLines = lines
    this.lastHeadReset = reset
    this.lastHeadFraming = framing
    return head
  }

  /** The request line and header lines (not yet ended). */
  private headOf(method: string, path: string, lines: HeadLines, reset: boolean): string {
    return `${method} ${path} HTTP/1.1\r\n${lines.host ?? this.hostLine}${reset ? "connection: close\r\n" : "connection: keep-alive\r\n"}${lines.lines}`
  }

  private linesOf(headers: ReadonlyArray<string>): HeadLines | H1Error {
    if (headers === this.lastHeaders && this.lastLines !== null) return this.lastLines
    const lines = headLinesOf(headers)
    this.lastHeaders = headers
    this.lastLines = lines
    return lines
  }

  // -- the socket --------------------------------------------------------------------------

  private attach(socket: net.Socket): void {
    this.socket = socket
    this.served = 0
    this.socketError = null
    this.partial = Array.of()
    this.keepAliveMs = this.settings.keepAliveTimeout
    this.resetParser()
    const parser = this.parser
    const reads = readsFor(socket)
    const lent = reads !== undefined
    const onData = (data: Buffer): void => {
      if (this.socket !== socket) return
      const running = this.running
      if (running !== null) {
        if (running.bodyLeft > 0) {
          this.takeBody(running, socket, data, 0, lent)
          return
        }
        // The answer's first bytes: told here rather than by the parser's message-begin
        // callback, which would cost a call from C++ per answer.
        if (!running.started) {
          running.started = true
          running.handler.onResponseStarted()
        }
      }
      this.parsing = true
      const parsed = parser.execute(data)
      this.parsing = false
      if (this.destroyed) this.closeParser()
      else if (parsed instanceof Error) socket.destroy(parseError(parsed))
      else {
        // The parser stopped after a head whose body the engine reads itself (see `takeBody`).
        const taking = this.running
        if (taking !== null && taking.bodyLeft > 0 && taking.socket === socket) {
          this.takeBody(taking, socket, data, parsed, lent)
        }
      }
    }
    if (reads !== undefined) reads.take(onData)
    else socket.on("data", onData)
    socket.on("end", () => {
      if (this.socket !== socket) return
      const running = this.running
      if (running !== null && running.bodyLeft > 0) {
        socket.destroy(new H1Error("other side closed", H1_SOCKET))
        return
      }
      if (running?.answered && !running.keepAlive) {
        // A body without length ends here (or was cut short: the parser says which).
        this.parsing = true
        const ended = parser.finish()
        this.parsing = false
        if (this.destroyed) this.closeParser()
        else if (ended instanceof Error) socket.destroy(parseError(ended))
        return
      }
      socket.destroy(new H1Error("other side closed", H1_SOCKET))
    })
    socket.on("error", (error: Error) => {
      if (this.socket !== socket) return
      this.socketError ??= error
    })
    socket.on("close", () => {
      if (this.socket !== socket) return
      const running = this.running
      // The server closed the socket right after its answer, or under the next request
      // before any of the answer to it (the engine's own closing lets go of the socket first).
      if (
        running === null
          ? performance.now() - this.idleSince < CLOSES_AFTER_MS
          : running.socket === socket && !running.started && this.served > 1
      ) {
        this.server.keeping = "closes"
      }
      const error = this.socketError ?? new H1Error("closed", H1_SOCKET)
      this.socket = null
      this.stopIdleTimer()
      if (running !== null && running.socket === socket) {
        this.running = null
        running.handler.onError(error)
      }
    })
    // A dial that read a handshake (SOCKS, CONNECT) leaves its socket paused.
    socket.resume()
  }

  /** Lets go of the current socket (destroying it): its events no longer reach the engine. */
  private dropSocket(): void {
    const socket = this.socket
    this.stopIdleTimer()
    if (socket === null) return
    this.socket = null
    socket.on("error", noop)
    socket.destroy()
  }

  private readonly resume = (): void => {
    this.socket?.resume()
  }

  /** The request on the socket, from its writing to its end; counted in `inFlight`. */
  private get running(): Running | null {
    return this.current
  }

  private set running(running: Running | null) {
    if (this.current === null) {
      if (running !== null) inFlight++
    } else if (running === null) {
      inFlight--
    }
    this.current = running
  }

  // -- writing -----------------------------------------------------------------------------

  private write(request: H1Request, lines: HeadLines, handler: H1Handler, socket: net.Socket): void {
    const method = request.method
    this.served++
    const max = this.settings.maxRequestsPerConnection
    const reset = lines.close || method === "HEAD" || (max !== null && this.served >= max)
    const running = new Running(request, handler, socket, reset)
    this.running = running
    if (this.served > 1) socket.ref()
    handler.onConnect((error) => this.abort(running, error))
    if (this.running !== running) return
    const chunked = request.chunked === true || lines.chunked
    let body = request.body
    if (typeof body === "string") body = Buffer.from(body)
    try {
      if (body === null || body === undefined || (body instanceof Uint8Array && body.length === 0)) {
        const head = this.bodilessHead(
          method,
          request.path,
          lines,
          reset,
          chunked
            ? "transfer-encoding: chunked\r\n\r\n0\r\n\r\n"
            : expectsPayload(method)
              ? "content-length: 0\r\n\r\n"
              : "\r\n"
        )
        // With other requests waiting for their answers, the head goes out with the others
        // written in this turn of the event loop (see `Batch`); alone, at once.
        if (inFlight > 1) batch.add(socket, head)
        else writeHead(socket, head)
        handler.onRequestSent()
        return
      }
      const head = this.headOf(method, request.path, lines, reset)
      if (body instanceof Uint8Array) {
        const length = body.length
        socket.cork()
        socket.write(
          chunked
            ? `${head}transfer-encoding: chunked\r\n\r\n${length.toString(16)}\r\n`
            : `${head}content-length: ${length}\r\n\r\n`,
          "latin1"
        )
        socket.write(body)
        if (chunked) socket.write("\r\n0\r\n\r\n", "latin1")
        socket.uncork()
        if (!expectsPayload(method)) running.reset = true
        handler.onBodySent()
        handler.onRequestSent()
        return
      }
    } catch (error) {
      this.abort(running, error instanceof Error ? error : new Error(String(error)))
      return
    }
    running.writing = true
    void this.writeStream(
      running,
      socket,
      this.headOf(method, request.path, lines, reset),
      body,
      chunked ? null : lines.contentLength
    )
  }

  /**
   * Writes a streamed body as it comes: chunked, or exactly `contentLength` bytes when one was
   * declared. The head goes with the first bytes (or alone at the end, for an empty body), so
   * a body that fails before yielding anything sends nothing.
   */
  private async writeStream(
    running: Running,
    socket: net.Socket,
    head: string,
    body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    contentLength: number | null
  ): Promise<void> {
    const { request, handler } = running
    let written = 0
    let waiting: (() => void) | null = null
    const wake = () => {
      const resume = waiting
      waiting = null
      resume?.()
    }
    socket.on("drain", wake).on("close", wake)
    const live = () => this.running === running && !socket.destroyed
    try {
      for await (const piece of body) {
        if (!live()) return
        const chunk = typeof piece === "string" ? Buffer.from(piece) : piece
        if (chunk.length === 0) continue
        if (contentLength !== null && written + chunk.length > contentLength) {
          throw contentLengthMismatch()
        }
        socket.cork()
        if (written === 0) {
          if (!expectsPayload(request.method)) running.reset = true
          socket.write(
            contentLength === null
              ? `${head}transfer-encoding: chunked\r\n`
              : `${head}content-length: ${contentLength}\r\n\r\n`,
            "latin1"
          )
        }
        if (contentLength === null) socket.write(`\r\n${chunk.length.toString(16)}\r\n`, "latin1")
        written += chunk.length
        const flushed = socket.write(chunk)
        socket.uncork()
        handler.onBodySent()
        if (!flushed && live()) await new Promise<void>((resolve) => (waiting = resolve))
      }
      if (!live()) return
      if (contentLength !== null && written !== contentLength) {
        throw contentLengthMismatch()
      }
      running.writing = false
      if (written === 0) {
        socket.write(
          contentLength === null
            ? `${head}transfer-encoding: chunked\r\n\r\n0\r\n\r\n`
            : expectsPayload(request.method)
              ? `${head}content-length: 0\r\n\r\n`
              : `${head}\r\n`,
          "latin1"
        )
      } else if (contentLength === null) {
        socket.write("\r\n0\r\n\r\n", "latin1")
      }
      handler.onRequestSent()
    } catch (error) {
      running.writing = false
      this.abort(running, error instanceof Error ? error : new Error(String(error)))
    } finally {
      socket.off("drain", wake).off("close", wake)
    }
  }

  /** Fails `running` with `error` (if it still runs) and drops its socket. */
  private abort(running: Running, error: Error | undefined): void {
    if (this.running !== running) return
    this.running = null
    if (this.socket === running.socket) this.dropSocket()
    else running.socket.destroy()
    running.handler.onError(error ?? new H1Error("Request aborted", H1_SOCKET))
  }

  // -- reading (the parser's callbacks) -----------------------------------------------------

  private readonly onHeaderLines = (headers: Array<string>): void => {
    for (let i = 0; i < headers.length; i++) this.partial.push(headers[i]!)
  }

  private readonly onHeadersComplete = (
    _major: number,
    _minor: number,
    parsed: Array<string> | undefined,
    _method: unknown,
    _url: unknown,
    status: number,
    statusText: string,
    upgrade: boolean,
    keepAlive: boolean
  ): number => {
    const socket = this.socket
    const running = this.running
    let headers = parsed
    if (this.partial.length > 0) {
      headers = parsed === undefined ? this.partial : this.partial.concat(parsed)
      this.partial = Array.of()
    }
    if (socket === null || socket.destroyed) return 0
    if (running === null || running.socket !== socket) {
      socket.destroy(new H1Error("bad response", H1_SOCKET))
      return 0
    }
    if (upgrade) {
      socket.destroy(new H1Error("bad upgrade", H1_SOCKET))
      return 0
    }
    const list = headers ?? Array.of()
    if (status < 200) {
      running.handler.onHeaders(status, list, this.resume, statusText ?? "")
      return 0
    }
    running.answered = true
    running.keepAlive = keepAlive
    if (keepAlive && this.server.keeping === "unknown" && saysKeepAlive(list)) this.server.keeping = "keeps"
    if (keepAlive) {
      const hint = keepAliveHint(list)
      if (hint !== null) {
        const ms = Math.min(hint - this.settings.keepAliveTimeoutThreshold, this.settings.keepAliveMaxTimeout)
        if (ms <= 0) running.reset = true
        else running.keepAliveMs = ms
      }
    }
    if (running.handler.onHeaders(status, list, this.resume, statusText ?? "") === false) socket.pause()
    // A HEAD's answer has no body, whatever its Content-Length says.
    if (running.request.method === "HEAD") return 1
    if (status === 204 || status === 304) return 0
    const length = largeContentLength(list)
    if (length === -1) return 0
    // The parser stops after this head (as after an upgrade): the engine reads the body.
    running.bodyLeft = length
    return 2
  }

  /**
   * Hands over `data` from `offset` as body of `running`, up to what is left of it: views of
   * what the socket read, never copied here (the parser hands over copies; `lent` views are
   * copied by the handler if it keeps them). At the body's end
   * the parser starts afresh and the answer is complete; bytes past it, which nobody asked
   * for, close the socket after the answer.
   */
  private takeBody(running: Running, socket: net.Socket, data: Buffer, offset: number, lent: boolean): void {
    const available = data.length - offset
    if (available <= 0) return
    const take = Math.min(available, running.bodyLeft)
    running.bodyLeft -= take
    const piece = offset === 0 && take === data.length ? data : data.subarray(offset, offset + take)
    const more = running.handler.onData(piece, lent)
    if (this.running !== running || this.socket !== socket) return
    if (running.bodyLeft > 0) {
      if (more === false) socket.pause()
      return
    }
    if (offset + take < data.length) running.reset = true
    this.resetParser()
    this.complete(running, socket)
  }

  private readonly onBody = (chunk: Buffer): void => {
    const running = this.running
    if (running === null || running.socket !== this.socket) return
    if (running.handler.onData(chunk, false) === false) this.socket?.pause()
  }

  private readonly onMessageComplete = (): void => {
    const running = this.running
    const socket = this.socket
    if (running === null || socket === null || running.socket !== socket || !running.answered) return
    // A body the engine reads itself completes in `takeBody`.
    if (running.bodyLeft > 0) return
    this.complete(running, socket)
  }

  /** The answer to `running` has ended: the socket is kept for the next request, or let go. */
  private complete(running: Running, socket: net.Socket): void {
    this.running = null
    if (running.writing || running.reset || !running.keepAlive || socket.destroyed) {
      // Closed quietly: no request runs on it any more (a body still being written stops).
      this.dropSocket()
    } else {
      this.keepAliveMs = running.keepAliveMs ?? this.settings.keepAliveTimeout
      // A kept socket answered another request.
      if (this.served > 1) this.server.keeping = "keeps"
      // A handler that paused the socket for this answer's body (its reader behind) and got
      // the end in the same read has nothing left to resume it for: an idle socket is read, so
      // that its end of stream is seen and the next answer on it arrives.
      if (socket.isPaused()) socket.resume()
      this.idle(socket)
    }
    running.handler.onComplete()
  }

  // -- idle --------------------------------------------------------------------------------

  /** The socket waits for the next request: for at most its keep-alive time, without keeping Node running. */
  private idle(socket: net.Socket): void {
    socket.unref()
    this.idleSince = performance.now()
    if (this.idleTimer === null) this.armIdleTimer(this.keepAliveMs)
  }

  private armIdleTimer(ms: number): void {
    const timer = setTimeout(this.onIdleTimer, Math.max(1, Math.ceil(ms)))
    timer.unref()
    this.idleTimer = timer
  }

  private readonly onIdleTimer = (): void => {
    this.idleTimer = null
    if (this.running !== null || this.socket === null) return
    const left = this.keepAliveMs - (performance.now() - this.idleSince)
    if (left <= 0) this.dropSocket()
    else this.armIdleTimer(left)
  }

  /**
   * Stops the idle timer once the socket is gone. A busy socket leaves it to fire: it finds
   * the socket busy and stops (cheaper than clearing and arming one per request); a socket let
   * go clears it, so that a closed connection is not kept until its keep-alive time is up.
   */
  private stopIdleTimer(): void {
    const timer = this.idleTimer
    if (timer === null) return
    this.idleTimer = null
    clearTimeout(timer)
  }

  /** The parser ready for the next answer, from its first byte. */
  private resetParser(): void {
    this.parser.initialize(HTTPParser.RESPONSE, {}, this.settings.maxHeaderSize, 0)
  }

  /** Frees the native parser, once, and never while it is parsing (it is on the stack then). */
  private closeParser(): void {
    if (this.parsing || this.parserClosed) return
    this.parserClosed = true
    this.parser.close()
  }
}
