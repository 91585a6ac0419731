import * as Errors from "@httpool/core/Errors"
import * as Predicate from "effect/Predicate"
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
export type Kind = "gzip" | "deflate" | "br" | "zstd"

/** A zlib stream as the decoder drives it. */
export type Engine = Transform & { readonly bytesWritten: number }

/** Bytes of output a stream decoder holds before it pauses its engine. */
export const HIGH_WATER_MARK = 64 * 1024

/** Size of the buffers a zlib engine writes its output into. */
export const ENGINE_CHUNK_SIZE = 64 * 1024

export const EMPTY = new Uint8Array(0)

export interface ZstdBinding {
  readonly createZstdDecompress: (options: { readonly chunkSize: number }) => Engine
  readonly zstdDecompressSync: (data: Uint8Array, options: { readonly maxOutputLength: number }) => Uint8Array
}

/** `node:zlib`'s zstd functions where this Node has them (22.15 and later; Node 20 does not). */
export const zstd: ZstdBinding | undefined = (() => {
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

export const normalize = (encoding: string): string => encoding.trim().toLowerCase()

export const kindOf = (encoding: string): Kind | undefined => {
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
export const normalizeCap = (maxOutput: number): number => (maxOutput >= 0 ? Math.floor(maxOutput) : 0)

export const corrupt = (label: string, cause: unknown): Errors.DecodeError =>
  new Errors.DecodeError({
    message: `Received response with content-encoding: ${label}, but failed to decode it.`,
    cause
  })

export const noZstd = (label: string): Errors.DecodeError =>
  new Errors.DecodeError({
    message:
      `Received response with content-encoding: ${label}, but this Node.js (${process.version}) cannot decode zstd: ` +
      "node:zlib has it from Node 22.15 on. Run on a newer Node, or pass decodeContent: false to get the encoded bytes."
  })

export const tooLarge = (label: string, cap: number): Errors.DecodeError =>
  new Errors.DecodeError({
    message:
      `Received response with content-encoding: ${label} whose decoded body exceeds the limit of ${cap} bytes ` +
      "(maxDecodedSize); decoding stopped there, as the body may be a decompression bomb."
  })

/** An error as zlib reports it, for the failures the gzip framing detects itself. */
export const zlibDataError = (message: string): Error =>
  Object.assign(new Error(message), { code: "Z_DATA_ERROR", errno: zlib.constants.Z_DATA_ERROR })

/** `maxOutputLength` was exceeded by a one-shot `node:zlib` call. */
export const isOutputTooLarge = (error: unknown): boolean =>
  Predicate.hasProperty(error, "code") && error.code === "ERR_BUFFER_TOO_LARGE"
