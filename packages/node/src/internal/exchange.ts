import * as Connector from "@httpool/core/Connector"
import * as Errors from "@httpool/core/Errors"
import * as Effect from "effect/Effect"
import { abortedError, interruptedError, mapSendError, readTimeoutError } from "./errors.js"
import { Deadline } from "./deadline.js"
import type { H1Handler } from "./h1.js"
import { performance } from "node:perf_hooks"

/** @internal */
export type Resume<A, E> = (effect: Effect.Effect<A, E>) => void

const EMPTY = new Uint8Array(0)

/** The empty list an exchange's lists start as (frozen: a push on it would be a bug, and throws). */
const NONE: Array<never> = Object.freeze(Array.of()) as Array<never>

/**
 * The engine's handler of one request (`H1Handler`, the callbacks of `h1.ts`), which is
 * also the state of its streamed response.
 *
 * The read timeout is ours rather than a socket timeout or undici's `headersTimeout`, whose
 * timers tick every half second (a 0.2 s timeout would fire after up to a second): a
 * `Deadline`, started when the engine starts writing the request and stamped by every sign of
 * progress (a body chunk sent, the request written, the response's first byte, its headers,
 * each body chunk), so it measures silence as urllib3's socket timeout does. It is stopped
 * while the reader applies backpressure: a slow reader is not a slow server.
 */
/** What an exchange needs of the connection it runs on. @internal */
export interface ExchangeHost {
  /** The first TLS error seen on the current socket after its handshake. */
  readonly tlsError: Error | null
  readonly requestDone: (exchange: Exchange) => void
  readonly isCurrent: (exchange: Exchange) => boolean
  readonly abortRunning: (abort: (error?: Error) => void, error: Error) => void
  readonly cancelDial: (reason: Error) => void
  readonly discardSocket: () => void
}

/** @internal */
/** Below this, a body comes in one chunk or a few: gathering them at the end costs less. */
const SIZED_MIN = 64 * 1024

/**
 * A buffer for a preloaded body of a known, large Content-Length, so its chunks are copied
 * once as they arrive instead of held and joined at the end (half the peak memory); null
 * when the answer has no body or the length is unknown, small or not a plain number.
 */
const sizedBuffer = (method: string, status: number, headers: ReadonlyArray<string>): Buffer | null => {
  if (method === "HEAD" || status === 204 || status === 304) return null
  let length: string | undefined
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      if (length !== undefined && length !== headers[i + 1]) return null
      length = headers[i + 1]
    }
  }
  if (length === undefined || !/^\d{1,15}$/.test(length)) return null
  const size = Number(length)
  return size >= SIZED_MIN && size <= MAX_SIZED ? Buffer.allocUnsafe(size) : null
}

/**
 * Larger bodies are gathered from their chunks: a buffer is only allocated for what a server
 * says it will send up to this size, so a false Content-Length cannot make it reserve more.
 */
const MAX_SIZED = 32 * 1024 * 1024

export class Exchange implements H1Handler {
  requestSent = false
  responseStarted = false
  /** The send effect was resumed, or interrupted. */
  private settled = false
  /** The engine reported the end of the request (complete or error). */
  private finished = false
  private interrupted = false
  private cancelled = false
  private abortRequest: ((error?: Error) => void) | null = null
  private status = 0
  /** When the head was parsed (`performance.now()`). */
  private headAt = 0
  private reason = ""
  // Arrays are made with `Array.of`, not `[]` (see `WholeResponse`), and only once needed:
  // until then these fields hold the shared empty `NONE`, which is never written to.
  private headers: ReadonlyArray<string> = NONE
  /** The read timeout; null when there is none. */
  private readonly deadline: Deadline | null
  // Preloaded body.
  private chunks: Array<Buffer> = NONE
  /** A preloaded body's buffer, sized from its Content-Length, filled as chunks arrive; null when unused. */
  private sized: Buffer | null = null
  private length = 0
  // Streamed body.
  private queue: Array<Buffer> = NONE
  private queued = 0
  private paused = false
  private resumeParser: (() => void) | null = null
  private ended = false
  private failure: Connector.SendFailure | null = null
  private reader: Resume<Uint8Array | null, Connector.SendFailure> | null = null
  /** A `readMany` waiting for chunks. */
  private manyReader: Resume<ReadonlyArray<Uint8Array> | null, Connector.SendFailure> | null = null

  constructor(
    private readonly connection: ExchangeHost,
    readonly request: Connector.WireRequest,
    private readonly resume: Resume<Connector.WireResponse, Connector.SendFailure>,
    private readonly highWaterMark: number
  ) {
    this.deadline =
      request.readTimeout === null ? null : new Deadline(Math.max(1, Math.ceil(request.readTimeout)), this.onTimeout)
  }

  // -- the engine's handler interface ----------------------------------------------------

  onConnect(abort: (error?: Error) => void): void {
    if (this.interrupted) {
      abort(interruptedError())
      return
    }
    this.abortRequest = abort
    // From here on the engine writes the request: part of it may reach the server.
    this.requestSent = true
    this.arm()
  }

  onBodySent(): void {
    this.arm()
  }

  onRequestSent(): void {
    this.requestSent = true
    this.arm()
  }

  onResponseStarted(): void {
    this.responseStarted = true
    this.arm()
  }

  onHeaders(status: number, headers: Array<string>, resume: () => void, statusText: string): boolean {
    this.arm()
    // 1xx informational responses (100 Continue, 103 Early Hints) are not the response.
    if (status < 200) return true
    this.responseStarted = true
    this.headAt = performance.now()
    this.status = status
    this.reason = statusText
    this.headers = headers
    if (!this.request.preload) {
      this.resumeParser = resume
      // Handed over once the parser has gone through what it already holds (it goes on synchronously
      // after this callback): a body that came with its head is then handed over whole.
      queueMicrotask(() => this.settleStreamed(status, statusText, headers))
    }
    return true
  }

  /**
   * Hands a streamed response to its reader: whole when its body has already ended (a small
   * answer arrives with its head, and its connection can go back to its pool at once), else
   * to be read chunk by chunk.
   */
  private settleStreamed(status: number, statusText: string, headers: Array<string>): void {
    if (this.settled) return
    if (this.ended && this.failure === null) {
      const queue = this.queue
      const body = queue.length === 1 ? queue[0]! : this.queued === 0 ? EMPTY : Buffer.concat(queue, this.queued)
      this.queue = NONE
      this.queued = 0
      this.settle(Effect.succeed(new WholeResponse(status, statusText, headers, body, this.headAt)))
      return
    }
    this.settle(
      Effect.succeed(
        new StreamedResponse(
          status,
          statusText,
          headers,
          this.headAt,
          // What has arrived is taken at once; only a wait registers (and needs a canceler).
          Effect.suspend(() => this.take() ?? this.waitRead()),
          Effect.suspend(() => this.takeAll() ?? this.waitReadMany()),
          Effect.sync(() => this.cancel())
        )
      )
    )
  }

  onData(chunk: Buffer, lent: boolean): boolean {
    // An empty piece (should the parser hand one over) is no part of the body, and a reader
    // never gets an empty chunk. Backpressure is unchanged.
    if (chunk.length === 0) return !this.paused
    if (this.request.preload) {
      this.arm()
      // A lent piece is copied anyway: into the body's own buffer from the first one on.
      if (this.sized === null && (this.chunks.length === 1 || (lent && this.chunks.length === 0))) this.gatherInto()
      const sized = this.sized
      if (sized !== null && this.length + chunk.length <= sized.length) {
        sized.set(chunk, this.length)
      } else {
        if (sized !== null) {
          // More than the Content-Length said (the parser refuses that): keep what came as chunks.
          this.chunks = Array.of(sized.subarray(0, this.length))
          this.sized = null
        }
        const kept = lent ? Buffer.from(chunk) : chunk
        if (this.chunks === NONE) this.chunks = Array.of(kept)
        else this.chunks.push(kept)
      }
      this.length += chunk.length
      return true
    }
    if (this.cancelled) return true
    const kept = lent ? Buffer.from(chunk) : chunk
    if (this.queue === NONE) this.queue = Array.of(kept)
    else this.queue.push(kept)
    this.queued += chunk.length
    this.wake()
    if (this.queued >= this.highWaterMark) {
      this.paused = true
      this.disarm()
      return false
    }
    this.arm()
    return true
  }

  /**
   * A body that comes in more than one chunk goes into one buffer sized from its
   * Content-Length when that is known and large (see `sizedBuffer`), the first chunk copied
   * in now. A body of one chunk never gets here, unless its bytes are lent (then from its
   * first chunk on, which is copied in by the caller).
   */
  private gatherInto(): void {
    const sized = sizedBuffer(this.request.method, this.status, this.headers)
    if (sized === null || this.length > sized.length) return
    if (this.chunks.length === 1) sized.set(this.chunks[0]!, 0)
    this.chunks = NONE
    this.sized = sized
  }

  onComplete(): void {
    this.finished = true
    this.disarm()
    this.connection.requestDone(this)
    if (this.request.preload) {
      const body =
        this.sized !== null
          ? this.length === 0
            ? EMPTY
            : this.sized.subarray(0, this.length)
          : this.chunks.length === 1
            ? this.chunks[0]!
            : this.length === 0
              ? EMPTY
              : Buffer.concat(this.chunks, this.length)
      this.chunks = NONE
      this.sized = null
      this.settle(Effect.succeed(new WholeResponse(this.status, this.reason, this.headers, body, this.headAt)))
      return
    }
    this.ended = true
    this.wake()
  }

  onError(error: Error): void {
    this.finished = true
    this.disarm()
    this.connection.requestDone(this)
    if (this.cancelled) return
    // A TLS alert (say, "certificate required" after a TLS 1.3 handshake) is often followed
    // by the peer's FIN, which the engine reports instead; the alert is the better reason.
    const tlsError = Errors.isHttpoolError(error) ? null : this.connection.tlsError
    let mapped = mapSendError(tlsError ?? error, this.responseStarted)
    if (this.settled && mapped._tag === "ClosedPoolError") {
      // The pool closed while the body was being read: a body's read fails with a ProtocolError.
      mapped = new Errors.ProtocolError({ message: `Connection broken: ${mapped.message}` })
    }
    const failure = new Connector.SendFailure({
      error: mapped,
      requestSent: this.requestSent,
      responseStarted: this.responseStarted
    })
    if (!this.settled) {
      this.settle(Effect.fail(failure))
      return
    }
    this.failure = failure
    this.chunks = NONE
    this.queue = NONE
    this.queued = 0
    this.wake()
  }

  // -- ours ------------------------------------------------------------------------------

  private settle(effect: Effect.Effect<Connector.WireResponse, Connector.SendFailure>): void {
    if (this.settled) return
    this.settled = true
    this.resume(effect)
  }

  /** Starts or refreshes the read timer. */
  private arm(): void {
    if (this.deadline === null || this.finished) return
    this.deadline.touch()
  }

  private disarm(): void {
    this.deadline?.stop()
  }

  private readonly onTimeout = (): void => {
    if (this.finished || this.cancelled || this.abortRequest === null) return
    this.connection.abortRunning(this.abortRequest, readTimeoutError(this.request))
  }

  /** A read that waits for the next chunk (or the end, or a failure). */
  private waitRead(): Effect.Effect<Uint8Array | null, Connector.SendFailure> {
    return Connector.cancelable((resume) => {
      // Checked again, so that the wait is right on its own.
      const next = this.take()
      if (next !== undefined) return resume(next)
      this.reader = resume
      return Effect.sync(() => {
        if (this.reader === resume) this.reader = null
      })
    })
  }

  /** `waitRead` for every chunk that arrives until the reader comes back. */
  private waitReadMany(): Effect.Effect<ReadonlyArray<Uint8Array> | null, Connector.SendFailure> {
    return Connector.cancelable((resume) => {
      const next = this.takeAll()
      if (next !== undefined) return resume(next)
      this.manyReader = resume
      return Effect.sync(() => {
        if (this.manyReader === resume) this.manyReader = null
      })
    })
  }

  /** The next read's outcome if one is ready. */
  private take(): Effect.Effect<Uint8Array | null, Connector.SendFailure> | undefined {
    // (`shift` is a write even on an empty array: `NONE` would throw.)
    const chunk = this.queue.length > 0 ? this.queue.shift() : undefined
    if (chunk !== undefined) {
      this.queued -= chunk.length
      this.unpause()
      return Effect.succeed(chunk)
    }
    if (this.failure !== null) return Effect.fail(this.failure)
    if (this.ended) return endOfBody
    return undefined
  }

  /** Every queued chunk as one read's outcome, if any is ready. */
  private takeAll(): Effect.Effect<ReadonlyArray<Uint8Array> | null, Connector.SendFailure> | undefined {
    if (this.queue.length > 0) {
      const chunks = this.queue
      this.queue = NONE
      this.queued = 0
      this.unpause()
      return Effect.succeed(chunks)
    }
    if (this.failure !== null) return Effect.fail(this.failure)
    if (this.ended) return endOfBody
    return undefined
  }

  /** Lets the engine go on reading once the reader has taken enough of what was queued. */
  private unpause(): void {
    if (this.paused && this.queued < this.highWaterMark / 2) {
      this.paused = false
      this.arm()
      const resume = this.resumeParser
      // The engine may hand over more data synchronously; the state above is already settled.
      if (resume !== null) resume()
    }
  }

  // A waiting reader is taken off before its chunks are: taking them may let the engine hand over
  // more at once (see `unpause`), which must not wake the same reader twice.
  private wake(): void {
    const many = this.manyReader
    if (many !== null) {
      this.manyReader = null
      const all = this.takeAll()
      if (all === undefined) this.manyReader = many
      else many(all)
      return
    }
    const reader = this.reader
    if (reader === null) return
    this.reader = null
    const next = this.take()
    if (next === undefined) this.reader = reader
    else reader(next)
  }

  /** The send was interrupted before it completed: nothing of the request may go on. */
  interrupt(): void {
    this.settled = true
    this.interrupted = true
    this.cancelled = true
    this.disarm()
    if (this.finished) return
    if (this.abortRequest !== null) {
      this.connection.abortRunning(this.abortRequest, interruptedError())
    } else {
      this.connection.cancelDial(interruptedError())
    }
  }

  /** `WireResponse.abort`: stops a streamed response and destroys its socket. */
  private cancel(): void {
    if (this.cancelled) return
    this.cancelled = true
    this.disarm()
    const unread = this.queue.length > 0
    this.queue = NONE
    this.queued = 0
    if (!this.finished || unread) {
      this.failure ??= new Connector.SendFailure({
        error: new Errors.ProtocolError({ message: "Connection broken: the response was aborted before its end" }),
        requestSent: this.requestSent,
        responseStarted: this.responseStarted
      })
    }
    if (!this.finished) {
      if (this.abortRequest !== null) this.connection.abortRunning(this.abortRequest, abortedError())
    } else if (this.connection.isCurrent(this)) {
      // An aborted response's socket is never reused, even when the engine had finished it.
      this.connection.discardSocket()
    }
    this.wake()
  }
}

const endOfBody: Effect.Effect<null> = Effect.succeed(null)

// Responses are class instances, not object literals: V8 may allocate the literals of a hot
// site in the old generation, where they keep a request's young objects alive until a full
// collection (see docs/performance.md).

/** A response whose whole body came with its head. */
class WholeResponse implements Connector.WireResponse {
  readonly read = endOfBody
  readonly abort = Effect.void
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: ReadonlyArray<string>,
    readonly body: Uint8Array,
    readonly headAt: number
  ) {}
}

/** A response whose body is read as it arrives. */
class StreamedResponse implements Connector.WireResponse {
  readonly body = null
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: ReadonlyArray<string>,
    readonly headAt: number,
    readonly read: Effect.Effect<Uint8Array | null, Connector.SendFailure>,
    readonly readMany: Effect.Effect<ReadonlyArray<Uint8Array> | null, Connector.SendFailure>,
    readonly abort: Effect.Effect<void>
  ) {}
}
