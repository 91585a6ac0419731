/**
 * httpool's Node content decoder: `Content-Encoding` gzip, x-gzip, deflate (zlib-wrapped or
 * raw), br, and zstd where the runtime's `node:zlib` has it, one-shot for preloaded bodies and
 * as a Stream transformer for streamed ones, with a cap on the decoded size.
 *
 * @internal
 */
import * as ContentDecoder from "@httpool/core/ContentDecoder"
import * as Errors from "@httpool/core/Errors"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import { constants as bufferConstants } from "node:buffer"
import type { Transform } from "node:stream"
import * as zlib from "node:zlib"

// ---------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------

/**
 * How many content codings one response may stack before it is a `DecodeError`, as urllib3's
 * `MultiDecoder.max_decode_links`.
 *
 * @internal
 */
export const MAX_ENCODINGS = 5

/** A decoding algorithm; `x-gzip` is `gzip` (RFC 9110 section 8.4.1.3). */
type Kind = "gzip" | "deflate" | "br" | "zstd"

/** A zlib stream as the decoder drives it. */
type Engine = Transform & { readonly bytesWritten: number }

/** Bytes of output a stream decoder holds before it pauses its engine. */
const HIGH_WATER_MARK = 64 * 1024

/** Size of the buffers a zlib engine writes its output into. */
const ENGINE_CHUNK_SIZE = 64 * 1024

const EMPTY = new Uint8Array(0)

interface ZstdBinding {
  readonly createZstdDecompress: (options: { readonly chunkSize: number }) => Engine
  readonly zstdDecompressSync: (data: Uint8Array, options: { readonly maxOutputLength: number }) => Uint8Array
}

/** `node:zlib`'s zstd functions where this Node has them (22.15 and later; Node 20 does not). */
const zstd: ZstdBinding | undefined = (() => {
  const create: unknown = Reflect.get(zlib, "createZstdDecompress")
  const sync: unknown = Reflect.get(zlib, "zstdDecompressSync")
  if (typeof create !== "function" || typeof sync !== "function") return undefined
  const createFn = create as (options: { readonly chunkSize: number }) => Engine
  const syncFn = sync as (data: Uint8Array, options: { readonly maxOutputLength: number }) => Uint8Array
  return {
    createZstdDecompress: (options) => createFn.call(zlib, options),
    zstdDecompressSync: (data, options) => syncFn.call(zlib, data, options)
  }
})()

/**
 * Whether this Node's `node:zlib` decodes zstd.
 *
 * @internal
 */
export const hasZstd: boolean = zstd !== undefined

/**
 * The (lower-case) encodings this decoder understands. zstd is one on every runtime: where
 * `node:zlib` cannot decode it (Node 20), a zstd body is a `DecodeError` that says so, never
 * bytes handed on as if they were the content.
 *
 * @internal
 */
export const supported: ReadonlySet<string> = new Set(["gzip", "x-gzip", "deflate", "br", "zstd"])

const normalize = (encoding: string): string => encoding.trim().toLowerCase()

const kindOf = (encoding: string): Kind | undefined => {
  switch (encoding) {
    case "gzip":
    case "x-gzip":
      return "gzip"
    case "deflate":
      return "deflate"
    case "br":
      return "br"
    case "zstd":
      return "zstd"
    default:
      return undefined
  }
}

/**
 * Splits a `Content-Encoding` header value into its codings, in the order they were applied:
 * trimmed, lower-cased, empty list elements dropped (RFC 9110 section 5.6.1).
 *
 * @internal
 */
export const parseContentEncoding = (header: string): ReadonlyArray<string> => {
  const encodings: Array<string> = []
  for (const part of header.split(",")) {
    const encoding = normalize(part)
    if (encoding.length > 0) encodings.push(encoding)
  }
  return encodings
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** A cap as a whole number of bytes: NaN and negatives are 0, Infinity stays. */
const normalizeCap = (maxOutput: number): number => (maxOutput >= 0 ? Math.floor(maxOutput) : 0)

const corrupt = (label: string, cause: unknown): Errors.DecodeError =>
  new Errors.DecodeError({
    message: `Received response with content-encoding: ${label}, but failed to decode it.`,
    cause
  })

const noZstd = (label: string): Errors.DecodeError =>
  new Errors.DecodeError({
    message:
      `Received response with content-encoding: ${label}, but this Node.js (${process.version}) cannot decode zstd: ` +
      "node:zlib has it from Node 22.15 on. Run on a newer Node, or pass decodeContent: false to get the encoded bytes."
  })

const tooLarge = (label: string, cap: number): Errors.DecodeError =>
  new Errors.DecodeError({
    message:
      `Received response with content-encoding: ${label} whose decoded body exceeds the limit of ${cap} bytes ` +
      "(maxDecodedSize); decoding stopped there, as the body may be a decompression bomb."
  })

/** An error as zlib reports it, for the failures the gzip framing detects itself. */
const zlibDataError = (message: string): Error =>
  Object.assign(new Error(message), { code: "Z_DATA_ERROR", errno: zlib.constants.Z_DATA_ERROR })

/** `maxOutputLength` was exceeded by a one-shot `node:zlib` call. */
const isOutputTooLarge = (error: unknown): boolean =>
  Predicate.hasProperty(error, "code") && error.code === "ERR_BUFFER_TOO_LARGE"

// ---------------------------------------------------------------------------
// Framing helpers
// ---------------------------------------------------------------------------

/**
 * Whether two bytes open a zlib (RFC 1950) stream: method 8, a window of at most 32 KiB and a
 * valid header check. urllib3 tries zlib first and falls back to raw deflate (RFC 1951) when
 * zlib rejects the start of the body; raw deflate as compressors write it never passes this check.
 *
 * @internal
 */
export const isZlibHeader = (b0: number, b1: number): boolean =>
  (b0 & 0x0f) === 8 && b0 >> 4 <= 7 && ((b0 << 8) | b1) % 31 === 0

const crcTable: Uint32Array = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/**
 * CRC-32 (the gzip trailer's) in JavaScript, for Nodes older than 20.15 that lack `zlib.crc32`.
 *
 * @internal
 */
export const crc32Portable = (data: Uint8Array, value = 0): number => {
  let crc = ~value
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8)
  return ~crc >>> 0
}

const crc32: (data: Uint8Array, value: number) => number =
  typeof zlib.crc32 === "function" ? (data, value) => zlib.crc32(data, value) : crc32Portable

const FHCRC = 0x02
const FEXTRA = 0x04
const FNAME = 0x08
const FCOMMENT = 0x10
const FRESERVED = 0xe0

enum HeaderField {
  Id1,
  Id2,
  Method,
  Flags,
  Fixed,
  ExtraLength,
  Extra,
  Name,
  Comment,
  HeaderCrc,
  Done
}

/**
 * An incremental parser of one gzip member header (RFC 1952 section 2.3): fed any slices of
 * the body, it buffers nothing, and checks what zlib checks (magic, method, reserved flags,
 * header CRC) with zlib's messages.
 *
 * @internal
 */
export class GzipHeaderParser {
  private field = HeaderField.Id1
  /** The first magic byte, checked with the second. */
  private id1 = 0
  private flags = 0
  /** Bytes left in the current field (Fixed, ExtraLength, Extra, HeaderCrc). */
  private remaining = 0
  /** The little-endian number being read (ExtraLength, HeaderCrc). */
  private value = 0
  /** CRC-32 of the header bytes before the header CRC field. */
  private crc = 0
  private crcComplete = false

  /** Whether the header is complete. */
  get done(): boolean {
    return this.field === HeaderField.Done
  }

  /**
   * Consumes header bytes from the start of `input` and returns how many, or the reason the
   * header is invalid.
   */
  feed(input: Uint8Array): number | Error {
    let i = 0
    while (i < input.length && this.field !== HeaderField.Done) {
      switch (this.field) {
        case HeaderField.Id1:
          // zlib judges the magic once it has both bytes: a body that ends after one byte,
          // whatever it is, is truncated, not corrupt (as the one-shot decoder says).
          this.id1 = input[i++]
          this.field = HeaderField.Id2
          break
        case HeaderField.Id2:
          if (this.id1 !== 0x1f || input[i++] !== 0x8b) return zlibDataError("incorrect header check")
          this.field = HeaderField.Method
          break
        case HeaderField.Method:
          if (input[i++] !== 8) return zlibDataError("unknown compression method")
          this.field = HeaderField.Flags
          break
        case HeaderField.Flags:
          this.flags = input[i++]
          if (this.flags & FRESERVED) return zlibDataError("unknown header flags set")
          this.enter(HeaderField.Fixed, 6)
          break
        case HeaderField.Fixed:
        case HeaderField.Extra: {
          const n = Math.min(this.remaining, input.length - i)
          i += n
          this.remaining -= n
          if (this.remaining === 0) this.afterField()
          break
        }
        case HeaderField.ExtraLength:
          this.value |= input[i++] << (8 * (2 - this.remaining))
          if (--this.remaining === 0) {
            this.enter(HeaderField.Extra, this.value)
            if (this.remaining === 0) this.afterField()
          }
          break
        case HeaderField.Name:
        case HeaderField.Comment: {
          const end = input.indexOf(0, i)
          i = end === -1 ? input.length : end + 1
          if (end !== -1) this.afterField()
          break
        }
        case HeaderField.HeaderCrc:
          if (!this.crcComplete) {
            this.crc = crc32(input.subarray(0, i), this.crc)
            this.crcComplete = true
          }
          this.value |= input[i++] << (8 * (2 - this.remaining))
          if (--this.remaining === 0) {
            if (this.value !== (this.crc & 0xffff)) return zlibDataError("header crc mismatch")
            this.field = HeaderField.Done
          }
          break
      }
    }
    if (!this.crcComplete) this.crc = crc32(input.subarray(0, i), this.crc)
    return i
  }

  private enter(field: HeaderField, length: number): void {
    this.field = field
    this.remaining = length
    this.value = 0
  }

  /** Moves past the optional field just finished to the next one the flags ask for. */
  private afterField(): void {
    const from = this.field
    if (from === HeaderField.Fixed && this.flags & FEXTRA) this.enter(HeaderField.ExtraLength, 2)
    else if (from <= HeaderField.Extra && this.flags & FNAME) this.enter(HeaderField.Name, 0)
    else if (from <= HeaderField.Name && this.flags & FCOMMENT) this.enter(HeaderField.Comment, 0)
    else if (this.flags & FHCRC) this.enter(HeaderField.HeaderCrc, 2)
    else this.field = HeaderField.Done
  }
}

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

const makeEngine = (kind: Kind, zlibWrapped: boolean): Engine => {
  const engine = createEngine(kind, zlibWrapped)
  openEngines++
  engine.once("close", () => {
    openEngines--
  })
  return engine
}

const createEngine = (kind: Kind, zlibWrapped: boolean): Engine => {
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
class Driver {
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
type Step =
  | { readonly _tag: "Emit"; readonly chunk: Chunk.Chunk<Uint8Array> }
  | { readonly _tag: "Fail"; readonly error: Errors.DecodeError }
  | { readonly _tag: "NeedInput" }
  | { readonly _tag: "Wait" }
  | { readonly _tag: "Done" }

const NEED_INPUT: Step = { _tag: "NeedInput" }
const WAIT: Step = { _tag: "Wait" }
const DONE: Step = { _tag: "Done" }

type State =
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
class Machine {
  private state: State
  private readonly inputs: Array<Uint8Array> = []
  private inputEnded = false
  private driver: Driver | undefined = undefined
  private total = 0
  private destroyed = false
  private waiter: (() => void) | undefined = undefined
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
    this.waiter = () => resume(Effect.void)
    return Effect.sync(() => {
      this.waiter = undefined
    })
  })

  private readonly wake = (): void => {
    const waiter = this.waiter
    this.waiter = undefined
    if (waiter !== undefined && !this.destroyed) waiter()
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

const decodeStreamKind =
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

// ---------------------------------------------------------------------------
// One-shot
// ---------------------------------------------------------------------------

/** Compressed size from which one-shot decoding uses `LARGE_CHUNK_SIZE` output buffers. */
const LARGE_INPUT = 64 * 1024
const LARGE_CHUNK_SIZE = 256 * 1024

/** Decodes with `node:zlib`'s one-shot functions; throws what they throw. */
const decodeSync = (kind: Kind, data: Uint8Array, cap: number): Uint8Array => {
  // `maxOutputLength` must lie in [1, buffer.constants.MAX_LENGTH]; a cap of 0 is checked below.
  const maxOutputLength = Math.max(1, Math.min(cap, bufferConstants.MAX_LENGTH))
  // Small bodies (the common case) keep zlib's 16 KiB buffers; large ones decode faster in fewer, larger steps.
  const chunkSize = data.length >= LARGE_INPUT ? LARGE_CHUNK_SIZE : zlib.constants.Z_DEFAULT_CHUNK
  const zlibOptions = { chunkSize, finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength }
  let out: Uint8Array
  switch (kind) {
    case "gzip":
      out = zlib.gunzipSync(data, zlibOptions)
      break
    case "deflate":
      if (data.length < 2) return EMPTY
      out = isZlibHeader(data[0], data[1])
        ? zlib.inflateSync(data, zlibOptions)
        : zlib.inflateRawSync(data, zlibOptions)
      break
    case "br":
      out = zlib.brotliDecompressSync(data, {
        chunkSize,
        finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
        maxOutputLength
      })
      break
    case "zstd":
      // An empty body decodes to nothing, as in urllib3 (Node 24's zstd calls it truncated).
      if (data.length === 0) return EMPTY
      if (zstd === undefined) throw new Error("zstd is not supported by this Node")
      out = zstd.zstdDecompressSync(data, { maxOutputLength })
      break
  }
  if (out.length > cap) throw Object.assign(new RangeError("decoded body too large"), { code: "ERR_BUFFER_TOO_LARGE" })
  return out
}

const concat = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => {
  if (chunks.length === 1) return Chunk.unsafeGet(chunks, 0)
  return Buffer.concat(Chunk.toReadonlyArray(chunks))
}

const decodeKind = (
  kind: Kind,
  data: Uint8Array,
  cap: number,
  label: string
): Effect.Effect<Uint8Array, Errors.DecodeError> =>
  Effect.suspend(() => {
    if (kind === "zstd" && zstd === undefined) return Effect.fail(noZstd(label))
    try {
      return Effect.succeed(decodeSync(kind, data, cap))
    } catch (error) {
      if (isOutputTooLarge(error)) return Effect.fail(tooLarge(label, cap))
      // Node's gunzip fails on any bytes after a member that do not form another member, and
      // loses the output of that call; urllib3 keeps the members before them. The streamed
      // decoder frames members itself, so it gives urllib3's answer for this rare body.
      if (kind === "gzip") {
        return Effect.map(Stream.runCollect(decodeStreamKind(kind, cap, label)(Stream.succeed(data))), concat)
      }
      return Effect.fail(corrupt(label, error))
    }
  })

// ---------------------------------------------------------------------------
// Stacked encodings
// ---------------------------------------------------------------------------

/**
 * Which decodings a `Content-Encoding` list calls for, outermost first. As in urllib3, the list
 * is left alone when none of it is understood, and more than `MAX_ENCODINGS` codings are a
 * `DecodeError` otherwise. `identity` is skipped; decoding stops at the first coding (from the
 * outside) it does not understand, whose bytes are passed through unchanged.
 */
const plan = (
  encodings: ReadonlyArray<string>
): { readonly kinds: ReadonlyArray<Kind>; readonly label: string } | Errors.DecodeError => {
  const list = encodings.flatMap(parseContentEncoding)
  const label = list.join(", ")
  if (!list.some((encoding) => supported.has(encoding))) return { kinds: [], label }
  if (list.length > MAX_ENCODINGS) {
    return new Errors.DecodeError({
      message: `Too many content encodings in the chain: ${list.length} > ${MAX_ENCODINGS}`
    })
  }
  const kinds: Array<Kind> = []
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i] === "identity") continue
    const kind = kindOf(list[i])
    if (kind === undefined) break
    kinds.push(kind)
  }
  return { kinds, label }
}

/**
 * Decodes a preloaded body whose `Content-Encoding` lists `encodings` (in the order they were
 * applied; items may themselves be comma-separated header values). Each layer's output is
 * capped at `maxOutput` bytes.
 *
 * @internal
 */
export const decodeAll = (
  encodings: ReadonlyArray<string>,
  data: Uint8Array,
  maxOutput: number
): Effect.Effect<Uint8Array, Errors.DecodeError> =>
  Effect.suspend(() => {
    const planned = plan(encodings)
    if (planned instanceof Errors.DecodeError) return Effect.fail(planned)
    const cap = normalizeCap(maxOutput)
    return Effect.reduce(planned.kinds, data, (bytes, kind) => decodeKind(kind, bytes, cap, planned.label))
  })

/**
 * Decodes a streamed body whose `Content-Encoding` lists `encodings`, as `decodeAll` does.
 *
 * @internal
 */
export const decodeStreamAll =
  (encodings: ReadonlyArray<string>, maxOutput: number) =>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E | Errors.DecodeError, R> =>
    Stream.suspend(() => {
      const planned = plan(encodings)
      if (planned instanceof Errors.DecodeError) return Stream.fail(planned)
      const cap = normalizeCap(maxOutput)
      return planned.kinds.reduce<Stream.Stream<Uint8Array, E | Errors.DecodeError, R>>(
        (stream, kind) => decodeStreamKind(kind, cap, planned.label)(stream),
        self
      )
    })

// ---------------------------------------------------------------------------
// The decoder
// ---------------------------------------------------------------------------

/**
 * The Node `ContentDecoder`: `node:zlib` one-shot functions for preloaded bodies, its streaming
 * classes for streamed ones. Encoding names are case-insensitive; `identity` and encodings it
 * does not understand pass the body through unchanged; a comma-separated list is decoded as
 * `decodeAll` does.
 *
 * @internal
 */
export const decoder: ContentDecoder.Service = {
  supported,
  decode: (encoding, data, maxOutput) => {
    const name = normalize(encoding)
    if (name.includes(",")) return decodeAll([name], data, maxOutput)
    const kind = kindOf(name)
    return kind === undefined ? Effect.succeed(data) : decodeKind(kind, data, normalizeCap(maxOutput), name)
  },
  decodeStream: (encoding, maxOutput) => {
    const name = normalize(encoding)
    if (name.includes(",")) return decodeStreamAll([name], maxOutput)
    const kind = kindOf(name)
    return kind === undefined ? identityStream : decodeStreamKind(kind, normalizeCap(maxOutput), name)
  }
}

/** @internal */
export const layer: Layer.Layer<ContentDecoder.ContentDecoder> = Layer.succeed(ContentDecoder.ContentDecoder, decoder)

const identityStream = <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E, R> => self
