/**
 * httpool's Node content decoder: `Content-Encoding` gzip, x-gzip, deflate (zlib-wrapped or
 * raw), br, and zstd where the runtime's `node:zlib` has it, one-shot for preloaded bodies and
 * as a Stream transformer for streamed ones, with a cap on the decoded size.
 *
 * @internal
 */
import * as ContentDecoder from "@httpool/core/ContentDecoder"
import * as Errors from "@httpool/core/Errors"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import {
  Kind,
  MAX_ENCODINGS,
  kindOf,
  normalize,
  normalizeCap,
  parseContentEncoding,
  supported
} from "./decoder/codings.js"
import { decodeStreamKind } from "./decoder/stream.js"
import { decodeKind } from "./decoder/oneShot.js"
export { crc32Portable, GzipHeaderParser, isZlibHeader } from "./decoder/framing.js"
export { hasZstd, MAX_ENCODINGS, parseContentEncoding, supported } from "./decoder/codings.js"
export { openEngineCount } from "./decoder/stream.js"

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
