import { ValueError } from "../Errors.js"
import type * as Fields from "../Fields.js"
import { randomHex } from "./randomHex.js"

const encoder = new TextEncoder()

/** Calls `f` for every field in order, whatever the input's shape. */
const forEachField = (fields: Fields.Input, f: (name: string, value: Fields.Value) => void): void => {
  if (Array.isArray(fields)) {
    for (const pair of fields as ReadonlyArray<readonly [string, Fields.Value]>) f(pair[0], pair[1])
  } else {
    const record = fields as Readonly<Record<string, Fields.Value>>
    for (const name of Object.keys(record)) f(name, record[name])
  }
}

/** @internal */
export const isEmpty = (fields: Fields.Input): boolean =>
  Array.isArray(fields) ? fields.length === 0 : Object.keys(fields).length === 0

/** @internal */
export const isFileTuple = (value: Fields.Value): value is Fields.FileTuple => Array.isArray(value)

// ---------------------------------------------------------------------------
// application/x-www-form-urlencoded (Python's urlencode with quote_plus)
// ---------------------------------------------------------------------------

/** byte -> its form in quote_plus: unreserved as is, space as "+", anything else %XX. */
const byteForms: ReadonlyArray<string> = Array.from({ length: 256 }, (_, byte) => {
  const char = String.fromCharCode(byte)
  if (/[A-Za-z0-9_.~-]/.test(char)) return char
  if (byte === 0x20) return "+"
  return `%${byte.toString(16).toUpperCase().padStart(2, "0")}`
})

const unreservedRe = /^[A-Za-z0-9_.~-]*$/

const quotePlusBytes = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += byteForms[bytes[i]]
  return out
}

/** quote_plus of the UTF-8 bytes of a string, encoded inline (a lone surrogate becomes U+FFFD). */
const quotePlusString = (text: string): string => {
  if (unreservedRe.test(text)) return text
  let out = ""
  const length = text.length
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) {
      out += byteForms[code]
    } else if (code < 0x800) {
      out += byteForms[0xc0 | (code >> 6)] + byteForms[0x80 | (code & 0x3f)]
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        const point = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00)
        out +=
          byteForms[0xf0 | (point >> 18)] +
          byteForms[0x80 | ((point >> 12) & 0x3f)] +
          byteForms[0x80 | ((point >> 6) & 0x3f)] +
          byteForms[0x80 | (point & 0x3f)]
        i++
      } else {
        out += "%EF%BF%BD"
      }
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += "%EF%BF%BD"
    } else {
      out += byteForms[0xe0 | (code >> 12)] + byteForms[0x80 | ((code >> 6) & 0x3f)] + byteForms[0x80 | (code & 0x3f)]
    }
  }
  return out
}

const quotePlus = (data: string | Uint8Array): string =>
  typeof data === "string" ? quotePlusString(data) : quotePlusBytes(data)

/** @internal */
export const encodeUrlencoded = (fields: Fields.Input): string => {
  let out = ""
  let first = true
  forEachField(fields, (name, value) => {
    const data = isFileTuple(value) ? value[1] : value
    out += `${first ? "" : "&"}${quotePlusString(name)}=${quotePlus(data)}`
    first = false
  })
  return out
}

/** @internal */
export const appendToUrl = (url: string, fields: Fields.Input): string => {
  if (isEmpty(fields)) return url
  const hash = url.indexOf("#")
  const base = hash === -1 ? url : url.slice(0, hash)
  const fragment = hash === -1 ? "" : url.slice(hash)
  const separator = !base.includes("?") ? "?" : base.endsWith("?") || base.endsWith("&") ? "" : "&"
  return `${base}${separator}${encodeUrlencoded(fields)}${fragment}`
}

// ---------------------------------------------------------------------------
// multipart/form-data
// ---------------------------------------------------------------------------

/** @internal */
export const DEFAULT_CONTENT_TYPE = "application/octet-stream"

/** Extension (lower case, without the dot) -> media type. Kept small on purpose. */
const mediaTypes: ReadonlyMap<string, string> = new Map([
  ["txt", "text/plain"],
  ["text", "text/plain"],
  ["html", "text/html"],
  ["htm", "text/html"],
  ["css", "text/css"],
  ["csv", "text/csv"],
  ["md", "text/markdown"],
  ["ics", "text/calendar"],
  ["js", "text/javascript"],
  ["mjs", "text/javascript"],
  ["json", "application/json"],
  ["xml", "application/xml"],
  ["pdf", "application/pdf"],
  ["zip", "application/zip"],
  ["gz", "application/gzip"],
  ["tar", "application/x-tar"],
  ["7z", "application/x-7z-compressed"],
  ["wasm", "application/wasm"],
  ["rtf", "application/rtf"],
  ["bin", "application/octet-stream"],
  ["doc", "application/msword"],
  ["docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  ["xls", "application/vnd.ms-excel"],
  ["xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
  ["ppt", "application/vnd.ms-powerpoint"],
  ["pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["png", "image/png"],
  ["gif", "image/gif"],
  ["svg", "image/svg+xml"],
  ["webp", "image/webp"],
  ["avif", "image/avif"],
  ["bmp", "image/bmp"],
  ["ico", "image/vnd.microsoft.icon"],
  ["tif", "image/tiff"],
  ["tiff", "image/tiff"],
  ["mp3", "audio/mpeg"],
  ["wav", "audio/x-wav"],
  ["ogg", "audio/ogg"],
  ["flac", "audio/flac"],
  ["mp4", "video/mp4"],
  ["webm", "video/webm"],
  ["mpeg", "video/mpeg"],
  ["mov", "video/quicktime"],
  ["woff", "font/woff"],
  ["woff2", "font/woff2"],
  ["ttf", "font/ttf"],
  ["otf", "font/otf"],
  ["eml", "message/rfc822"]
])

/**
 * The extension as Python's `posixpath.splitext` finds it: after the last dot of the last
 * path segment, unless every character before that dot is a dot too (".bashrc" has none).
 */
const extensionOf = (filename: string): string => {
  const start = filename.lastIndexOf("/") + 1
  const dot = filename.lastIndexOf(".")
  if (dot <= start) return ""
  for (let i = start; i < dot; i++) {
    if (filename.charCodeAt(i) !== 0x2e) return filename.slice(dot + 1).toLowerCase()
  }
  return ""
}

/** @internal */
export const guessContentType = (filename: string, fallback: string = DEFAULT_CONTENT_TYPE): string =>
  mediaTypes.get(extensionOf(filename)) ?? fallback

const paramEscapeRe = /[\r\n"]/
const paramEscapeAllRe = /[\r\n"]/g
const paramEscapes: Readonly<Record<string, string>> = { "\r": "%0D", "\n": "%0A", '"': "%22" }

/** @internal */
export const formatMultipartParam = (name: string, value: string): string =>
  paramEscapeRe.test(value)
    ? `${name}="${value.replace(paramEscapeAllRe, (char) => paramEscapes[char])}"`
    : `${name}="${value}"`

const typeBreakRe = /[\r\n\0]/
const typeBreakAllRe = /[\r\n\0]/g
const typeEscapes: Readonly<Record<string, string>> = { "\r": "%0D", "\n": "%0A", "\0": "%00" }

/**
 * A part's Content-Type line: CR, LF and NUL, which would end the line and start a header of
 * the caller's making, are percent-encoded (requests refuse them before this, see
 * {@link checkMultipart}).
 */
const contentTypeLine = (type: string): string =>
  typeBreakRe.test(type)
    ? `Content-Type: ${type.replace(typeBreakAllRe, (char) => typeEscapes[char])}\r\n`
    : `Content-Type: ${type}\r\n`

/**
 * The ValueError for the first file field whose mime type holds CR, LF or NUL, or null.
 *
 * @internal
 */
export const checkMultipart = (fields: Fields.Input): ValueError | null => {
  let error: ValueError | null = null
  forEachField(fields, (name, value) => {
    if (error === null && isFileTuple(value) && value.length === 3 && typeBreakRe.test(value[2])) {
      error = new ValueError({
        message: `The content type of file field ${JSON.stringify(name)} contains CR, LF or NUL: ${JSON.stringify(value[2])}`
      })
    }
  })
  return error
}

/** @internal */
export const chooseBoundary = (): string => randomHex(16)

/** @internal */
export const encodeMultipart = (fields: Fields.Input, boundary: string = chooseBoundary()): Fields.Multipart => {
  // Text accumulates in `pending` and is encoded in one call whenever binary data interrupts
  // it, so a body made only of strings costs a single TextEncoder call.
  const chunks: Array<Uint8Array> = []
  let length = 0
  let pending = ""
  const flush = () => {
    if (pending.length > 0) {
      const bytes = encoder.encode(pending)
      chunks.push(bytes)
      length += bytes.length
      pending = ""
    }
  }
  const delimiter = `--${boundary}\r\n`
  forEachField(fields, (name, value) => {
    let data: string | Uint8Array
    pending += `${delimiter}Content-Disposition: form-data; ${formatMultipartParam("name", name)}`
    if (isFileTuple(value)) {
      const filename = value[0]
      data = value[1]
      const type = value.length === 3 ? value[2] : guessContentType(filename)
      pending += `; ${formatMultipartParam("filename", filename)}\r\n`
      if (type) pending += contentTypeLine(type)
      pending += "\r\n"
    } else {
      data = value
      pending += "\r\n\r\n"
    }
    if (typeof data === "string") {
      pending += data
    } else if (data.length > 0) {
      flush()
      chunks.push(data)
      length += data.length
    }
    pending += "\r\n"
  })
  pending += `--${boundary}--\r\n`
  flush()
  let body: Uint8Array
  if (chunks.length === 1) {
    body = chunks[0]
  } else {
    body = new Uint8Array(length)
    let offset = 0
    for (const chunk of chunks) {
      body.set(chunk, offset)
      offset += chunk.length
    }
  }
  return { body, contentType: `multipart/form-data; boundary=${boundary}`, boundary }
}
