import * as Connector from "@httpool/core/Connector"
import * as Errors from "@httpool/core/Errors"
import * as Url from "@httpool/core/Url"
import * as Effect from "effect/Effect"
import type * as net from "node:net"
import { type buildConnector, Client, type Dispatcher } from "undici"
import type { Dial } from "./dial/dial.js"
import { closedError, isTlsError, messageOf } from "./errors.js"
import { Exchange, type Resume } from "./exchange.js"
import type { Settings } from "./settings.js"

const noop = () => {}

/** The reason given to undici when a connection with no request is closed. */
const idleClosedError = closedError()

let nextConnectionId = 0

/**
 * Event-loop turns, counted (one per check phase) only while some connection waits for them.
 *
 * A response completes while the loop reads its socket; a server that closed the connection
 * right after answering (without `Connection: close`) has its end of stream read only on a
 * later poll. A request dispatched at once would be written on that dead socket (urllib3
 * checks `is_connection_dropped` before reuse). So a connection whose response completed is
 * used again only two check phases later, with a poll phase of the loop in between: by then
 * undici has read an end of stream that had reached us and dropped the socket, and the
 * request dials a new one. One shared `setImmediate` per loop turn serves every connection.
 * A request the pool marks `replayable` (idempotent, with a body it can send again) skips the
 * wait on a socket that has already been reused once: if the socket proves closed before any
 * of the response arrived, the pool sends the request again on a new connection, which costs
 * less than a loop turn on every reuse. Its first reuse still waits, so a server that closes
 * after each answer (and may go on reading) never gets a request twice. Turns are counted
 * only while a connection may need them: after a replayable request on a socket reused
 * twice, none are (see `requestDone`).
 */
let turn = 0
let ticking = false
/** The ticking goes on until this turn (the latest `readyAt`) and while requests are held. */
let until = 0
/** Connections holding a request back until their `readyAt` turn, in the order they came. */
let held: Array<NodeConnection> = []

const tick = (): void => {
  turn++
  if (held.length > 0) {
    const ready = held
    held = []
    for (let i = 0; i < ready.length; i++) {
      const connection = ready[i]!
      if (connection.readyAt <= turn) connection.dispatchWaiting()
      else held.push(connection)
    }
  }
  if (held.length === 0 && turn >= until) {
    ticking = false
    return
  }
  setImmediate(tick)
}

const startTicking = (): void => {
  if (ticking) return
  ticking = true
  setImmediate(tick)
}

interface DispatchOptions extends Dispatcher.DispatchOptions {
  /** undici reconnects when a request's servername differs from the last one; ours never does. */
  readonly servername: string
}

/** What undici is asked to send (a class instance: see `WholeResponse` in exchange.ts). */
class Dispatched implements DispatchOptions {
  // The read timeout is the exchange's own timer (see `Exchange`).
  readonly headersTimeout = 0
  readonly bodyTimeout = 0
  constructor(
    readonly method: Dispatcher.HttpMethod,
    readonly path: string,
    readonly headers: Array<string>,
    readonly body: Exclude<Dispatcher.DispatchOptions["body"], undefined>,
    readonly servername: string,
    readonly reset: boolean
  ) {}
}

const TRANSFER_ENCODING = "transfer-encoding"

/**
 * undici frames bodies itself (an iterable without Content-Length goes chunked) and rejects
 * an explicit `Transfer-Encoding`; `Transfer-Encoding: chunked` is dropped for it.
 */
const wireHeaders = (headers: ReadonlyArray<string>): Array<string> => {
  let found = false
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (name.length === TRANSFER_ENCODING.length && name.toLowerCase() === TRANSFER_ENCODING) {
      found = true
      break
    }
  }
  if (!found) return headers as Array<string>
  const out: Array<string> = []
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    const value = headers[i + 1] ?? ""
    if (name.toLowerCase() === TRANSFER_ENCODING && value.trim().toLowerCase() === "chunked") continue
    out.push(name, value)
  }
  return out
}

const CONTENT_LENGTH_0 = "content-length: 0\r\n\r\n"
const LAST_CHUNK = "transfer-encoding: chunked\r\n\r\n0\r\n\r\n"

/**
 * undici frames an iterable body in chunks only once it yields bytes: with none, it ends the
 * head with `content-length: 0` (or nothing, for a GET). A request asked to go chunked must
 * still end with the last chunk (urllib3 sends `Transfer-Encoding: chunked` and `0\r\n\r\n`),
 * so the one head undici writes next for `method` on this socket gets that framing instead.
 */
const endWithLastChunk = (socket: net.Socket, method: string): void => {
  const write = socket.write
  const prefix = `${method} `
  // Stored through a local: V8 allocates a function literal stored straight into a property in
  // the old generation, where it would keep this socket until a full collection.
  const lastChunkFirst = function (this: net.Socket, chunk: unknown, ...rest: Array<unknown>) {
    if (typeof chunk === "string" && chunk.startsWith(prefix)) {
      socket.write = write
      if (chunk.endsWith("\r\n\r\n") && !/\r\ntransfer-encoding:/i.test(chunk)) {
        chunk = chunk.endsWith(CONTENT_LENGTH_0)
          ? chunk.slice(0, -CONTENT_LENGTH_0.length) + LAST_CHUNK
          : chunk.slice(0, -2) + LAST_CHUNK
      }
    }
    return (write as (...args: Array<unknown>) => boolean).call(this, chunk, ...rest)
  } as net.Socket["write"]
  socket.write = lastChunkFirst
}

/** What of undici's HTTP/1.1 parser (llhttp's callbacks, `lib/dispatcher/client-h1.js`) we touch. */
interface UndiciParser {
  statusCode: number
  headers: Array<Buffer>
  headersSize: number
  onHeadersComplete: (statusCode: number, upgrade: boolean, shouldKeepAlive: boolean) => number
}

const guardedParsers = new WeakSet<object>()

/** undici's symbol for a socket's parser (one for all its sockets), once found. */
let parserSymbol: symbol | null = null

/** The undici parser of `socket`, found by its symbol's description (undici does not export it). */
const parserOf = (socket: net.Socket): UndiciParser | undefined => {
  const holder = socket as unknown as Record<symbol, UndiciParser | null | undefined>
  if (parserSymbol !== null && parserSymbol in holder) return holder[parserSymbol] ?? undefined
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    if (symbol.description === "parser") {
      parserSymbol = symbol
      return holder[symbol] ?? undefined
    }
  }
  return undefined
}

/**
 * undici destroys the socket on any `100 Continue` (it never sends `Expect: 100-continue`,
 * so it takes one as a broken server). RFC 9110 (15.2) says a client skips a 1xx it did not
 * expect, as Python's http.client does: this socket's parser takes a 100 as undici takes any
 * other 1xx (103 Early Hints): its headers are dropped, it has no body, and llhttp goes on to
 * the final answer. llhttp still parses every byte; only undici's verdict on 100 changes.
 */
const skipUnexpectedContinue = (socket: net.Socket): void => {
  const parser = parserOf(socket)
  if (parser === undefined || guardedParsers.has(parser) || typeof parser.onHeadersComplete !== "function") return
  guardedParsers.add(parser)
  const onHeadersComplete = parser.onHeadersComplete
  // Through a local, as `lastChunkFirst` above.
  const guarded: UndiciParser["onHeadersComplete"] = function (
    this: UndiciParser,
    statusCode,
    upgrade,
    shouldKeepAlive
  ) {
    if (statusCode !== 100 || upgrade || socket.destroyed) {
      return onHeadersComplete.call(this, statusCode, upgrade, shouldKeepAlive)
    }
    // undici's own 1xx path: onMessageComplete then resets the state for the next answer.
    this.statusCode = statusCode
    this.headers = Array.of()
    this.headersSize = 0
    // Skip the body (a 1xx has none).
    return 1
  }
  parser.onHeadersComplete = guarded
}

/**
 * One undici `Client` (pipelining 1) whose sockets come from `dial`.
 *
 * @internal
 */
export class NodeConnection implements Connector.Connection {
  readonly id = ++nextConnectionId
  /** A class field, not set in the constructor: see `lastChunkFirst`. */
  readonly send = (request: Connector.WireRequest): Effect.Effect<Connector.WireResponse, Connector.SendFailure> =>
    Connector.cancelable<Connector.WireResponse, Connector.SendFailure>((resume) => this.begin(request, resume))
  readonly close: Effect.Effect<void>
  private client: Client | null = null
  private closed = false
  private socket: net.Socket | null = null
  /** The socket whose parser skips unexpected 100s already (see `skipUnexpectedContinue`). */
  private guarded: net.Socket | null = null
  private cancel: ((reason: Error) => void) | null = null
  private current: Exchange | null = null
  /** The loop turn from which a request may go out on the current socket (see `turn`). */
  readyAt = 0
  /** Responses completed on the current socket. */
  private served = 0
  /** A request held back until `readyAt`; null when none. */
  private waiting: Exchange | null = null
  private readonly servername: string
  /** The Host undici writes itself when a request gives none (its `host: ` line for our origin); null until the client is made. */
  private ownHost: string | null = null
  /** The header list last sent and what undici was given for it (see `sentHeaders`). */
  private lastHeaders: ReadonlyArray<string> | null = null
  private lastSent: Array<string> = Array.of()

  constructor(
    private readonly target: Connector.ConnectionTarget,
    private readonly events: Connector.ConnectionEvents,
    private readonly settings: Settings,
    private readonly dialer: (target: Connector.ConnectionTarget) => Dial
  ) {
    this.servername = target.host.length > 0 ? target.host : "localhost"
    this.close = Effect.sync(() => this.destroy())
  }

  isConnected = (): boolean => !this.closed && this.socket !== null && !this.socket.destroyed

  remoteAddress = (): string | null => this.socket?.remoteAddress ?? null

  /** The first TLS error seen on the current socket after its handshake. */
  tlsError: Error | null = null

  private readonly connect = (_options: buildConnector.Options, callback: buildConnector.Callback): void => {
    this.events.onSocket()
    this.tlsError = null
    const connectTimeout = this.current?.request.connectTimeout
    const target = connectTimeout === undefined ? this.target : { ...this.target, connectTimeout }
    this.cancel = this.dialer(target)((error, socket) => {
      this.cancel = null
      if (error !== null || socket === null) {
        callback(error ?? new Error("no socket"), null)
        return
      }
      this.socket = socket
      this.served = 0
      const running = this.current?.request
      if (running?.chunked === true) endWithLastChunk(socket, running.method)
      if (this.target.scheme === "https") {
        socket.on("error", (error: Error) => {
          if (this.socket === socket && this.tlsError === null && isTlsError(error)) this.tlsError = error
        })
      }
      callback(null, socket)
    })
  }

  private undici(): Client | Errors.HttpoolError {
    if (this.client !== null) return this.client
    if (this.closed) return closedError()
    const { scheme, host, port } = this.target
    try {
      // Parsed once: undici takes the URL as it is (a string it would parse again).
      const origin = new URL(`${scheme}://${Url.hostPort(host, port)}`)
      // undici's own Host line: the URL's hostname, and its port when it has one (its `host`).
      this.ownHost = origin.host
      this.client = new Client(origin, {
        connect: this.connect,
        pipelining: 1,
        keepAliveTimeout: this.settings.keepAliveTimeout,
        keepAliveMaxTimeout: this.settings.keepAliveMaxTimeout,
        keepAliveTimeoutThreshold: this.settings.keepAliveTimeoutThreshold,
        maxHeaderSize: this.settings.maxHeaderSize,
        // undici closes a socket after maxRequestsPerClient + 1 requests (1 is `reset` in dispatch).
        maxRequestsPerClient: (this.settings.maxRequestsPerConnection ?? 1) - 1,
        headersTimeout: 0,
        bodyTimeout: 0,
        strictContentLength: true
      })
      return this.client
    } catch (error) {
      return new Errors.LocationValueError({
        message: `Cannot connect to ${Url.hostPort(host, port)}: ${messageOf(error)}`
      })
    }
  }

  readonly begin = (
    request: Connector.WireRequest,
    resume: Resume<Connector.WireResponse, Connector.SendFailure>
  ): Effect.Effect<void> | undefined => {
    const client = this.undici()
    if (!(client instanceof Client)) {
      resume(Effect.fail(new Connector.SendFailure({ error: client, requestSent: false, responseStarted: false })))
      return undefined
    }
    const exchange = new Exchange(this, request, resume, this.settings.highWaterMark)
    this.current = exchange
    if (this.readyAt > turn && (request.replayable !== true || this.served < 2)) {
      // The previous response completed in this loop turn: wait for the loop to have read
      // an end of stream that may be on its way (see `turn`).
      this.waiting = exchange
      held.push(this)
      startTicking()
    } else {
      this.dispatch(client, exchange)
    }
    return Effect.sync(() => {
      if (this.waiting === exchange) this.waiting = null
      exchange.interrupt()
    })
  }

  /** Sends the request held back until now, unless it was interrupted or failed meanwhile. */
  dispatchWaiting(): void {
    const exchange = this.waiting
    if (exchange === null || this.client === null) return
    this.waiting = null
    this.dispatch(this.client, exchange)
  }

  private dispatch(client: Client, exchange: Exchange): void {
    if (this.closed) {
      exchange.onError(closedError())
      return
    }
    const request = exchange.request
    if (request.chunked === true && this.socket !== null && !this.socket.destroyed) {
      endWithLastChunk(this.socket, request.method)
    }
    const options = new Dispatched(
      request.method,
      request.path,
      this.sentHeaders(request.headers),
      // undici sends strings, bytes and (async) iterables; its types only list the first two.
      request.body as Exclude<Dispatcher.DispatchOptions["body"], undefined>,
      this.servername,
      this.settings.maxRequestsPerConnection === 1
    )
    try {
      client.dispatch(options, exchange)
    } catch (error) {
      exchange.onError(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /**
   * The header list undici is given for `headers`: without a Host equal to the one undici
   * writes itself when none is given (the same `host: ` line, first, either way; undici then
   * validates one header less), and see `wireHeaders`. A pool sends the same list object on
   * every request, so the last one is remembered.
   */
  private sentHeaders(headers: ReadonlyArray<string>): Array<string> {
    if (headers === this.lastHeaders) return this.lastSent
    let sent = wireHeaders(headers)
    const name = sent[0]
    if (name !== undefined && name.length === 4 && sent[1] === this.ownHost && name.toLowerCase() === "host") {
      sent = sent.slice(2)
    }
    this.lastHeaders = headers
    this.lastSent = sent
    return sent
  }

  /** Called by an exchange when undici starts writing it on the current socket. */
  requestWriting(): void {
    const socket = this.socket
    if (socket === null || socket === this.guarded) return
    this.guarded = socket
    skipUnexpectedContinue(socket)
  }

  /** Called by an exchange when undici is done with it. */
  requestDone(exchange: Exchange): void {
    if (this.current === exchange) this.current = null
    this.served++
    // The next request on this socket waits for the loop to poll it once more.
    this.readyAt = turn + 2
    // A request like this one (replayable, on a socket reused twice) skips that wait: when the
    // next one is likely to, no turn is counted for it. Should it not skip (a POST after
    // GETs), the turns it waits are counted from its own arrival, later than from here.
    if (exchange.request.replayable === true && this.served >= 2) return
    if (until < this.readyAt) until = this.readyAt
    startTicking()
  }

  /** Whether no later request has started since `exchange`. */
  isCurrent(exchange: Exchange): boolean {
    return this.current === null || this.current === exchange
  }

  /**
   * Stops the running request by destroying its socket with `error`. undici's own abort
   * destroys the socket with an "informational" error, after which it re-queues the aborted
   * request and dials a new socket only to drop it; a plain error avoids that.
   */
  abortRunning(abort: (error?: Error) => void, error: Error): void {
    const socket = this.socket
    if (socket !== null && !socket.destroyed) {
      socket.destroy(error)
    } else {
      abort(error)
    }
  }

  /** Cancels a dial in progress (an interrupted request must not wait for it). */
  cancelDial(reason: Error): void {
    const cancel = this.cancel
    this.cancel = null
    cancel?.(reason)
  }

  /** Destroys the current socket; the next `send` dials a new one. */
  discardSocket(): void {
    const socket = this.socket
    this.socket = null
    socket?.destroy()
  }

  private destroy(): void {
    if (this.closed) return
    this.closed = true
    // Closing an idle connection fails nothing, so it can spare making an error (and its
    // stack trace) for each connection a pool lets go. A pool closes a connection under a
    // request only when the pool itself closes: that request fails with ClosedPoolError (a
    // streamed body already being read, with a ProtocolError: see `Exchange.onError`).
    const error = this.current === null ? idleClosedError : this.poolClosedError()
    const waiting = this.waiting
    if (waiting !== null) {
      this.waiting = null
      waiting.onError(error)
    }
    this.cancelDial(error)
    const client = this.client
    if (client !== null) {
      // Fails what is queued or running with `error` and destroys the socket at once; the
      // callback only reports that undici finished, nobody waits for it.
      client.destroy(error, noop)
    }
    this.discardSocket()
  }

  private poolClosedError(): Errors.ClosedPoolError {
    const { scheme, host, port } = this.target
    return new Errors.ClosedPoolError({
      pool: { scheme, host, port },
      reason: "Pool is closed. (its connection was closed under the request)"
    })
  }
}
