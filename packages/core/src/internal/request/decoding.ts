import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as ContentDecoder from "../../ContentDecoder.js"
import { DecodeError } from "../../Errors.js"
import * as Headers from "../../Headers.js"

/** The largest decoded body by default: 64 MiB. @internal */
export const DEFAULT_MAX_DECODED_SIZE = 64 * 1024 * 1024

const MAX_STACKED_ENCODINGS = 5

/**
 * How a response body is decoded: the decoder, the codings to undo (last applied first) and
 * the cap on the decoded size.
 *
 * @internal
 */
export interface Decoding {
  readonly decoder: ContentDecoder.Service
  readonly maxDecodedSize: number
}

/** Whether a response to `method` with `status` has no body at all. @internal */
export const hasNoBody = (method: string, status: number): boolean =>
  method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200)

/**
 * The plan: the codings of `Content-Encoding` to undo, last applied first. A header naming
 * no coding the decoder knows passes the body through untouched (as urllib3); decoding
 * stops at a coding it does not know; `identity` changes nothing; more than five stacked
 * codings is a DecodeError (a decompression bomb in layers).
 *
 * @internal
 */
export const plan = (
  headers: Headers.Headers,
  decoder: ContentDecoder.Service
): Either.Either<ReadonlyArray<string>, DecodeError> => {
  const value = Headers.get(headers, "content-encoding")
  if (Option.isNone(value)) return Either.right([])
  const encodings = value.value
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e.length > 0)
  if (!encodings.some((e) => decoder.supported.has(e))) return Either.right([])
  if (encodings.length > MAX_STACKED_ENCODINGS) {
    return Either.left(
      new DecodeError({
        message: `Too many content encodings in the chain: ${encodings.length} > ${MAX_STACKED_ENCODINGS}`
      })
    )
  }
  const known: Array<string> = []
  for (let i = encodings.length - 1; i >= 0; i--) {
    if (encodings[i] === "identity") continue
    if (!decoder.supported.has(encodings[i])) break
    known.push(encodings[i])
  }
  return Either.right(known)
}

/** Decodes a whole body by the plan of its headers. @internal */
export const decodeAll = (
  decoding: Decoding,
  headers: Headers.Headers,
  data: Uint8Array
): Effect.Effect<Uint8Array, DecodeError> =>
  Effect.flatMap(plan(headers, decoding.decoder), (encodings) =>
    Effect.reduce(encodings, data, (bytes, encoding) =>
      decoding.decoder.decode(encoding, bytes, decoding.maxDecodedSize)
    )
  )

/** Decodes a streamed body by the plan of its headers. @internal */
export const decodeStream = <E>(
  decoding: Decoding,
  headers: Headers.Headers,
  stream: Stream.Stream<Uint8Array, E>
): Stream.Stream<Uint8Array, E | DecodeError> => {
  const encodings = plan(headers, decoding.decoder)
  if (Either.isLeft(encodings)) return Stream.fail(encodings.left)
  return encodings.right.reduce(
    (s: Stream.Stream<Uint8Array, E | DecodeError>, encoding) =>
      s.pipe(decoding.decoder.decodeStream(encoding, decoding.maxDecodedSize)),
    stream
  )
}
