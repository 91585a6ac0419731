import * as Errors from "@httpool/core/Errors"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as zlib from "node:zlib"
import {
  EMPTY,
  ENGINE_CHUNK_SIZE,
  Engine,
  HIGH_WATER_MARK,
  Kind,
  corrupt,
  noZstd,
  tooLarge,
  zlibDataError,
  zstd
} from "./codings.js"
import { GzipHeaderParser, crc32, isZlibHeader } from "./framing.js"

// ---------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------

let openEngines = 0

/**
 * How many `node:zlib` engines the stream decoders have created and not yet closed: 0 once
 * every streamed decode has ended, failed or been interrupted.
 *
 * @internal
 */
export const openEngineCount = (): number => openEngines

export const makeEngine = (kind: Kind, zlibWrapped: boolean): Engine => {
  const engine = createEngine(kind, zlibWrapped)
  openEngines++
  engine.once("close", () => {
    openEngines--
  })
  return engine
}

export const createEngine = (kind: Kind, zlibWrapped: boolean): Engine => {
  switch (kind) {
    case "gzip":
      // Members are framed by the decoder itself; the engine inflates one member's body.
      return zlib.createInflateRaw({ chunkSize: ENGINE_CHUNK_SIZE, finishFlush: zlib.constants.Z_SYNC_FLUSH })
    case "deflate":
      return zlibWrapped
        ? zlib.createInflate({ chunkSize: ENGINE_CHUNK_SIZE, finishFlush: zlib.constants.Z_SYNC_FLUSH })
        : zlib.createInflateRaw({ chunkSize: ENGINE_CHUNK_SIZE, finishFlush: zlib.constants.Z_SYNC_FLUSH })
    case "br":
      return zlib.createBrotliDecompress({
        chunkSize: ENGINE_CHUNK_SIZE,
        finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH
      })
    case "zstd":
      if (zstd === undefined) throw new Error("zstd is not supported by this Node")
      return zstd.createZstdDecompress({ chunkSize: ENGINE_CHUNK_SIZE })
  }
}

/**
 * One `node:zlib` stream in flowing mode, written one chunk at a time and paused while the
 * decoder holds `HIGH_WATER_MARK` bytes of its output, so a fast producer never outruns the
 * consumer (zlib itself stops when its readable side is full).
 */
export class Driver {
  chunks: Array<Buffer> = []
  private bytes = 0
  /** The engine's output has ended (end of the compressed stream, or of the input). */
  ended = false
  endCalled = false
  error: unknown = undefined
  private pending = 0
  private written = 0
  private last: Uint8Array = EMPTY

  constructor(
    readonly engine: Engine,
    private readonly wake: () => void
  ) {
    engine.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk)
      this.bytes += chunk.length
      if (this.bytes >= HIGH_WATER_MARK) engine.pause()
      wake()
    })
    engine.on("end", () => {
      this.ended = true
      wake()
    })
    engine.on("error", (error: unknown) => {
      if (this.error === undefined) this.error = error
      wake()
    })
  }

  /** Nothing to do until the engine reports something. */
  get blocked(): boolean {
    return this.error === undefined && this.chunks.length === 0 && (this.pending > 0 || (!this.ended && this.endCalled))
  }

  /** Whether the engine finished and every chunk written was accounted for. */
  get finished(): boolean {
    return this.ended && this.pending === 0
  }

  write(chunk: Uint8Array): void {
    this.pending++
    this.written += chunk.length
    this.last = chunk
    this.engine.write(chunk, this.onWritten)
  }

  private readonly onWritten = (): void => {
    this.pending--
    this.wake()
  }

  end(): void {
    this.endCalled = true
    this.engine.end()
  }

  take(): Array<Buffer> {
    const chunks = this.chunks
    this.chunks = []
    this.bytes = 0
    if (this.engine.isPaused()) this.engine.resume()
    return chunks
  }

  /** The input the engine left unread when its compressed stream ended (a part of the last write). */
  leftover(): Uint8Array {
    const unread = this.written - this.engine.bytesWritten
    return unread <= 0 ? EMPTY : this.last.subarray(Math.max(0, this.last.length - unread))
  }

  destroy(): void {
    this.engine.destroy()
  }
}

/** What the stream decoder needs next. */
export type Step =
  | { readonly _tag: "Emit"; readonly chunk: Chunk.Chunk<Uint8Array> }
  | { readonly _tag: "Fail"; readonly error: Errors.DecodeError }
  | { readonly _tag: "NeedInput" }
  | { readonly _tag: "Wait" }
  | { readonly _tag: "Done" }

export const NEED_INPUT: Step = { _tag: "NeedInput" }
export const WAIT: Step = { _tag: "Wait" }
export const DONE: Step = { _tag: "Done" }

export type State =
  /** deflate: reading the first two bytes to tell zlib from raw deflate. */
  | "detect"
  /** gzip: reading a member header. */
  | "header"
  /** The engine is decoding. */
  | "body"
  /** gzip: reading a member's CRC-32 and size. */
  | "trailer"
  /** Decoding is over; the rest of the body is read and dropped, so the connection can be reused. */
  | "drain"

/**
 * The synchronous half of a streamed decode: a state machine fed input chunks, driving one
 * engine at a time, and telling the effectful loop what it needs next. gzip members are framed
 * here (header, raw deflate body, trailer) so that, as in urllib3, bytes after a complete member
 * that do not start another member end the body instead of failing it.
 */
export class Machine {
  private state: State
  private readonly inputs: Array<Uint8Array> = []
  private inputEnded = false
  private driver: Driver | undefined = undefined
  private total = 0
  private destroyed = false
  /** The waiting reader's `resume` (kept as it is: see `Waiter.wake` in core's leasing.ts). */
  private waiter: ((effect: Effect.Effect<void>) => void) | undefined = undefined
  // gzip
  private header = new GzipHeaderParser()
  private members = 0
  private crc = 0
  private size = 0
  private readonly trailer = new Uint8Array(8)
  private trailerLength = 0

  constructor(
    private readonly kind: Kind,
    private readonly cap: number,
    private readonly label: string
  ) {
    this.state = kind === "gzip" ? "header" : kind === "deflate" ? "detect" : "body"
  }

  push(chunk: Chunk.Chunk<Uint8Array>): void {
    for (const piece of chunk) if (piece.length > 0) this.inputs.push(piece)
  }

  endInput(): void {
    this.inputEnded = true
  }

  readonly wait: Effect.Effect<void> = Effect.async<void>((resume) => {
    if (this.driver === undefined || !this.driver.blocked) return resume(Effect.void)
    this.waiter = resume
    return Effect.sync(() => {
      this.waiter = undefined
    })
  })

  private readonly wake = (): void => {
    const waiter = this.waiter
    this.waiter = undefined
    if (waiter !== undefined && !this.destroyed) waiter(Effect.void)
  }

  destroy(): void {
    this.destroyed = true
    this.waiter = undefined
    this.driver?.destroy()
    this.driver = undefined
  }

  step(): Step {
    try {
      return this.advance()
    } catch (error) {
      this.destroy()
      return { _tag: "Fail", error: corrupt(this.label, error) }
    }
  }

  private fail(cause: unknown): Step {
    this.destroy()
    return { _tag: "Fail", error: corrupt(this.label, cause) }
  }

  private startBody(zlibWrapped: boolean): void {
    this.driver = new Driver(makeEngine(this.kind, zlibWrapped), this.wake)
    this.state = "body"
  }

  private advance(): Step {
    for (;;) {
      switch (this.state) {
        case "detect": {
          const available = this.inputs.reduce((n, piece) => n + piece.length, 0)
          if (available < 2 && !this.inputEnded) return NEED_INPUT
          // A body of zero or one byte decodes to nothing, as in urllib3.
          if (available < 2) {
            this.state = "drain"
            break
          }
          const first = this.inputs[0]
          const second = first.length > 1 ? first[1] : this.inputs[1][0]
          this.startBody(isZlibHeader(first[0], second))
          break
        }
        case "header": {
          if (this.inputs.length === 0) {
            // An empty body, or one cut short in a header, ends here, as in urllib3.
            if (this.inputEnded) return DONE
            return NEED_INPUT
          }
          const piece = this.inputs[0]
          const consumed = this.header.feed(piece)
          if (consumed instanceof Error) {
            if (this.members === 0) return this.fail(consumed)
            // Trailing bytes after a complete member that are no gzip member: dropped, as in urllib3.
            this.state = "drain"
            break
          }
          if (consumed === piece.length) this.inputs.shift()
          else this.inputs[0] = piece.subarray(consumed)
          if (this.header.done) this.startBody(false)
          break
        }
        case "body": {
          if (this.driver === undefined) {
            // br and zstd start their engine on the first byte: an empty body decodes to
            // nothing, as in urllib3 (Node 24's zstd calls an empty input truncated).
            if (this.inputs.length === 0) return this.inputEnded ? DONE : NEED_INPUT
            this.startBody(false)
          }
          const driver = this.driver!
          if (driver.error !== undefined) return this.fail(driver.error)
          if (driver.chunks.length > 0) return this.emit(driver.take())
          if (driver.finished) {
            const leftover = driver.leftover()
            if (leftover.length > 0) this.inputs.unshift(leftover)
            driver.destroy()
            this.driver = undefined
            this.state = this.kind === "gzip" ? "trailer" : "drain"
            break
          }
          // Not blocked and not finished: no write is in flight and the input was not ended.
          if (driver.blocked) return WAIT
          if (this.inputs.length > 0) driver.write(this.inputs.shift()!)
          else if (this.inputEnded) driver.end()
          else return NEED_INPUT
          break
        }
        case "trailer": {
          while (this.trailerLength < 8 && this.inputs.length > 0) {
            const piece = this.inputs[0]
            const n = Math.min(8 - this.trailerLength, piece.length)
            this.trailer.set(piece.subarray(0, n), this.trailerLength)
            this.trailerLength += n
            if (n === piece.length) this.inputs.shift()
            else this.inputs[0] = piece.subarray(n)
          }
          // As zlib does, the CRC is checked once its four bytes are there, the size once all eight are.
          const t = this.trailer
          if (this.trailerLength >= 4) {
            const crc = (t[0] | (t[1] << 8) | (t[2] << 16) | (t[3] << 24)) >>> 0
            if (crc !== this.crc >>> 0) return this.fail(zlibDataError("incorrect data check"))
          }
          if (this.trailerLength < 8) {
            // A body cut short in a trailer keeps what was decoded, as in urllib3.
            if (this.inputEnded) return DONE
            return NEED_INPUT
          }
          const size = (t[4] | (t[5] << 8) | (t[6] << 16) | (t[7] << 24)) >>> 0
          if (size !== this.size >>> 0) return this.fail(zlibDataError("incorrect length check"))
          this.members++
          this.crc = 0
          this.size = 0
          this.trailerLength = 0
          this.header = new GzipHeaderParser()
          this.state = "header"
          break
        }
        case "drain": {
          this.inputs.length = 0
          return this.inputEnded ? DONE : NEED_INPUT
        }
      }
    }
  }

  private emit(chunks: Array<Buffer>): Step {
    let bytes = 0
    for (const chunk of chunks) bytes += chunk.length
    if (this.total + bytes > this.cap) {
      this.destroy()
      return { _tag: "Fail", error: tooLarge(this.label, this.cap) }
    }
    this.total += bytes
    if (this.kind === "gzip") {
      for (const chunk of chunks) this.crc = crc32(chunk, this.crc)
      this.size += bytes
    }
    return { _tag: "Emit", chunk: Chunk.unsafeFromArray<Uint8Array>(chunks) }
  }
}

export const decodeStreamKind =
  (kind: Kind, cap: number, label: string) =>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E | Errors.DecodeError, R> =>
    Stream.fromPull(
      Effect.gen(function* () {
        if (kind === "zstd" && zstd === undefined)
          return Effect.fail(Option.some<E | Errors.DecodeError>(noZstd(label)))
        const pullInput = yield* Stream.toPull(self)
        const machine = yield* Effect.acquireRelease(
          Effect.sync(() => new Machine(kind, cap, label)),
          (machine) => Effect.sync(() => machine.destroy())
        )
        return Effect.gen(function* () {
          for (;;) {
            const step = machine.step()
            switch (step._tag) {
              case "Emit":
                return step.chunk
              case "Fail":
                return yield* Effect.fail(Option.some<E | Errors.DecodeError>(step.error))
              case "Done":
                return yield* Effect.fail(Option.none())
              case "Wait":
                yield* machine.wait
                break
              case "NeedInput": {
                const input = yield* Effect.either(pullInput)
                if (input._tag === "Right") machine.push(input.right)
                else if (Option.isNone(input.left)) machine.endInput()
                else return yield* Effect.fail(Option.some<E | Errors.DecodeError>(input.left.value))
                break
              }
            }
          }
        })
      })
    )
