import * as zlib from "node:zlib"
import { zlibDataError } from "./codings.js"

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

export const crcTable: Uint32Array = (() => {
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

export const crc32: (data: Uint8Array, value: number) => number =
  typeof zlib.crc32 === "function" ? (data, value) => zlib.crc32(data, value) : crc32Portable

export const FHCRC = 0x02
export const FEXTRA = 0x04
export const FNAME = 0x08
export const FCOMMENT = 0x10
export const FRESERVED = 0xe0

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
