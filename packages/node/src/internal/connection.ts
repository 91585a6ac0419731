import * as Connector from "@httpool/core/Connector"
import * as Errors from "@httpool/core/Errors"
import * as Url from "@httpool/core/Url"
import * as Effect from "effect/Effect"
import type * as net from "node:net"
import type { Dial } from "./dial/dial.js"
import { closedError, isTlsError, messageOf } from "./errors.js"
import { Exchange, type Resume } from "./exchange.js"
import { flushHeads, H1Client, type ServerKeeping } from "./h1.js"
import type { Settings } from "./settings.js"

/** The reason given to the engine when a connection with no request is closed. */
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
 * the engine has read an end of stream that had reached us and dropped the socket, and the
 * request dials a new one. One shared `setImmediate` per loop turn serves every connection.
 * A request the pool marks `replayable` (idempotent, with a body it can send again) skips the
 * wait on a socket that has already been reused once: if the socket proves closed before any
 * of the response arrived, the pool sends the request again on a new connection, which costs
 * less than a loop turn on every reuse. Its first reuse still waits, so a server that closes
 * after each answer (and may go on reading) never gets a request twice. Turns are counted
 * only while a connection may need them: after a replayable request on a socket reused
 * twice, none are (see `requestDone`).
 *
 * A server may close a moment later than that (tinyproxy, descheduled between its answer
 * and its close): a request that is not replayable also waits, on a timer of its own, while
 * the engine says its idle socket has not settled (`H1Client.settleLeft`, from what the
 * pool's connections have learnt of the server).
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
    // Heads those requests left for the end of the turn: this is it (h1.ts, `Batch`).
    flushHeads()
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

/**
 * One connection: httpool's HTTP/1.1 engine (`h1.ts`) over the sockets `dial` opens.
 *
 * @internal
 */
export class NodeConnection implements Connector.Connection {
  readonly id = ++nextConnectionId
  /**
   * A class field, not set in the constructor: V8 allocates a function literal stored straight
   * into a property in the old generation, where it would keep this connection until a full
   * collection.
   */
  readonly send = (request: Connector.WireRequest): Effect.Effect<Connector.WireResponse, Connector.SendFailure> =>
    Connector.cancelable<Connector.WireResponse, Connector.SendFailure>((resume) => this.begin(request, resume))
  readonly close: Effect.Effect<void>
  private client: H1Client | null = null
  private closed = false
  private socket: net.Socket | null = null
  private cancel: ((reason: Error) => void) | null = null
  private current: Exchange | null = null
  /** The loop turn from which a request may go out on the current socket (see `turn`). */
  readyAt = 0
  /** Responses completed on the current socket. */
  private served = 0
  /** A request held back until `readyAt`; null when none. */
  private waiting: Exchange | null = null
  /** A request held back until the idle socket has settled (`settle`); null when none. */
  private settling: Exchange | null = null
  private settleTimer: ReturnType<typeof setTimeout> | null = null

  constructor(
    private readonly target: Connector.ConnectionTarget,
    private readonly events: Connector.ConnectionEvents,
    private readonly settings: Settings,
    private readonly dialer: (target: Connector.ConnectionTarget) => Dial,
    /** What the connections to this target have learnt of how its server keeps sockets. */
    private readonly server: ServerKeeping
  ) {
    this.close = Effect.sync(() => this.destroy())
  }

  isConnected = (): boolean => !this.closed && this.socket !== null && !this.socket.destroyed

  remoteAddress = (): string | null => this.socket?.remoteAddress ?? null

  /** The first TLS error seen on the current socket after its handshake. */
  tlsError: Error | null = null

  private readonly connect = (callback: (error: Error | null, socket: net.Socket | null) => void): void => {
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
      if (this.target.scheme === "https") {
        socket.on("error", (error: Error) => {
          if (this.socket === socket && this.tlsError === null && isTlsError(error)) this.tlsError = error
        })
      }
      callback(null, socket)
    })
  }

  private engine(): H1Client | Errors.HttpoolError {
    if (this.client !== null) return this.client
    if (this.closed) return closedError()
    const { scheme, host, port } = this.target
    try {
      // The Host of a request that gives none: the URL's hostname, and its port unless it is
      // the scheme's default (the URL's `host`).
      const origin = new URL(`${scheme}://${Url.hostPort(host, port)}`)
      this.client = new H1Client(`host: ${origin.host}\r\n`, this.settings, this.connect, this.server)
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
    const client = this.engine()
    if (!(client instanceof H1Client)) {
      resume(Effect.fail(new Connector.SendFailure({ error: client, requestSent: false, responseStarted: false })))
      return undefined
    }
    const exchange = new Exchange(this, request, resume, this.settings.highWaterMark)
    this.current = exchange
    // A request that must not reach the server twice waits while the server may yet close
    // the idle socket (see `H1Client.settleLeft`); -1: that socket was let go.
    const settle = request.replayable === true ? 0 : client.settleLeft()
    if (settle > 0) {
      this.settle(client, exchange, settle)
    } else if (settle === 0 && this.readyAt > turn && (request.replayable !== true || this.served < 2)) {
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
      if (this.settling === exchange) this.stopSettling()
      exchange.interrupt()
    })
  }

  /** Holds `exchange` back for `ms`, then sends it (on the idle socket if it is still open). */
  private settle(client: H1Client, exchange: Exchange, ms: number): void {
    this.settling = exchange
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null
      if (this.settling !== exchange) return
      this.settling = null
      this.dispatch(client, exchange)
    }, Math.ceil(ms))
  }

  private stopSettling(): void {
    this.settling = null
    if (this.settleTimer !== null) clearTimeout(this.settleTimer)
    this.settleTimer = null
  }

  /** Sends the request held back until now, unless it was interrupted or failed meanwhile. */
  dispatchWaiting(): void {
    const exchange = this.waiting
    if (exchange === null || this.client === null) return
    this.waiting = null
    this.dispatch(this.client, exchange)
  }

  private dispatch(client: H1Client, exchange: Exchange): void {
    if (this.closed) {
      exchange.onError(closedError())
      return
    }
    // A WireRequest is what the engine takes.
    client.dispatch(exchange.request, exchange)
  }

  /** Called by an exchange when the engine is done with it. */
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

  /** Stops the running request by destroying its socket with `error` (or, with no socket yet, through the engine). */
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
    const waiting = this.waiting ?? this.settling
    this.waiting = null
    this.stopSettling()
    waiting?.onError(error)
    this.cancelDial(error)
    const client = this.client
    if (client !== null) {
      // Fails the running request with `error` and destroys the socket at once.
      client.destroy(error)
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
