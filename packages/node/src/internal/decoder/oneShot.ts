import * as Errors from "@httpool/core/Errors"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { constants as bufferConstants } from "node:buffer"
import * as zlib from "node:zlib"
import { EMPTY, Kind, corrupt, isOutputTooLarge, noZstd, tooLarge, zstd } from "./codings.js"
import { isZlibHeader } from "./framing.js"
import { decodeStreamKind } from "./stream.js"

// ---------------------------------------------------------------------------
// One-shot
// ---------------------------------------------------------------------------

/** Compressed size from which one-shot decoding uses `LARGE_CHUNK_SIZE` output buffers. */
export const LARGE_INPUT = 64 * 1024
export const LARGE_CHUNK_SIZE = 256 * 1024

/** Decodes with `node:zlib`'s one-shot functions; throws what they throw. */
export const decodeSync = (kind: Kind, data: Uint8Array, cap: number): Uint8Array => {
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

export const concat = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => {
  if (chunks.length === 1) return Chunk.unsafeGet(chunks, 0)
  return Buffer.concat(Chunk.toReadonlyArray(chunks))
}

export const decodeKind = (
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
