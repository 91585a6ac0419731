/**
 * Form fields and their two encodings: `application/x-www-form-urlencoded` (for query
 * strings and simple bodies, byte-for-byte Python's `urllib.parse.urlencode`) and
 * `multipart/form-data` (for bodies with files, byte-for-byte urllib3's
 * `encode_multipart_formdata`).
 *
 * @since 0.1.0
 */
import * as internal from "./internal/fields.js"

/**
 * The contents of a file field: text (sent as UTF-8) or bytes (sent as they are).
 *
 * @since 0.1.0
 * @category models
 */
export type FileData = string | Uint8Array

/**
 * A file field: `[filename, data]`, whose Content-Type is guessed from the filename's
 * extension (`guessContentType`), or `[filename, data, mimeType]`. An empty `mimeType`
 * sends no Content-Type for the part at all; an empty filename is sent as `filename=""`. A
 * `mimeType` holding CR, LF or NUL is refused by the request methods with a `ValueError`.
 *
 * @since 0.1.0
 * @category models
 */
export type FileTuple =
  | readonly [filename: string, data: FileData]
  | readonly [filename: string, data: FileData, mimeType: string]

/**
 * The value of a field: text (UTF-8), bytes, or a file.
 *
 * @since 0.1.0
 * @category models
 */
export type Value = string | Uint8Array | FileTuple

/**
 * Fields to encode: a plain record, or an array of `[name, value]` pairs, which may repeat
 * a name. Fields are encoded in order. JavaScript lists a record's integer-like keys
 * (`"1"`, `"20"`) before the others, so use pairs when such names must keep their place.
 *
 * @example
 * import * as Fields from "@httpool/core/Fields"
 *
 * const fields: Fields.Input = [
 *   ["tag", "a"],
 *   ["tag", "b"],
 *   ["upload", ["report.csv", "x,y\n1,2\n"]]
 * ]
 *
 * @since 0.1.0
 * @category models
 */
export type Input = Readonly<Record<string, Value>> | ReadonlyArray<readonly [name: string, value: Value]>

/**
 * An encoded multipart body with the Content-Type header that announces its boundary.
 *
 * @since 0.1.0
 * @category models
 */
export interface Multipart {
  readonly body: Uint8Array
  /** `multipart/form-data; boundary=<boundary>` */
  readonly contentType: string
  readonly boundary: string
}

/**
 * Whether there are no fields at all (urllib3 sends neither `?` nor a body then).
 *
 * @since 0.1.0
 * @category getters
 */
export const isEmpty: (fields: Input) => boolean = internal.isEmpty

/**
 * Whether a field value is a file tuple.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isFileTuple: (value: Value) => value is FileTuple = internal.isFileTuple

/**
 * Encodes fields as `name=value&name=value`, exactly as Python's `urlencode` with
 * `quote_plus`: letters, digits and `_.-~` stay as they are, a space becomes `+`, every
 * other byte of the UTF-8 text (or of the bytes) becomes `%XX` with upper-case hex. The
 * same string serves as a query string and as an `application/x-www-form-urlencoded` body.
 * A file tuple contributes its data (Python would send the tuple's `repr`).
 *
 * @example
 * import * as Fields from "@httpool/core/Fields"
 *
 * Fields.encodeUrlencoded({ q: "café au lait", page: "2" }) // "q=caf%C3%A9+au+lait&page=2"
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeUrlencoded: (fields: Input) => string = internal.encodeUrlencoded

/**
 * Appends the urlencoded fields to a URL's query: after `?` when the URL has no query, after
 * `&` when it has one, before any `#fragment`. No fields leave the URL unchanged.
 *
 * @example
 * import * as Fields from "@httpool/core/Fields"
 *
 * Fields.appendToUrl("http://example.com/search", { q: "a b" }) // "http://example.com/search?q=a+b"
 * Fields.appendToUrl("http://example.com/search?lang=en#top", { q: "a" }) // "http://example.com/search?lang=en&q=a#top"
 *
 * @since 0.1.0
 * @category encoding
 */
export const appendToUrl: (url: string, fields: Input) => string = internal.appendToUrl

/**
 * The Content-Type a file field gets when its tuple names none, from the filename's last
 * extension (case-insensitive) in a small built-in table of common types; `fallback`
 * (default `"application/octet-stream"`) otherwise.
 *
 * @example
 * import * as Fields from "@httpool/core/Fields"
 *
 * Fields.guessContentType("photo.JPG") // "image/jpeg"
 * Fields.guessContentType("notes") // "application/octet-stream"
 *
 * @since 0.1.0
 * @category encoding
 */
export const guessContentType: (filename: string, fallback?: string) => string = internal.guessContentType

/**
 * Renders one parameter of a part's Content-Disposition, `name="value"`, as browsers do
 * (WHATWG HTML): `"` becomes `%22`, CR `%0D`, LF `%0A`; everything else is kept and sent
 * as UTF-8.
 *
 * @example
 * import * as Fields from "@httpool/core/Fields"
 *
 * Fields.formatMultipartParam("filename", 'say "hi".txt') // 'filename="say %22hi%22.txt"'
 *
 * @since 0.1.0
 * @category encoding
 */
export const formatMultipartParam: (name: string, value: string) => string = internal.formatMultipartParam

/**
 * A fresh boundary: 32 random lower-case hex characters (16 bytes from
 * `crypto.getRandomValues`).
 *
 * @since 0.1.0
 * @category encoding
 */
export const chooseBoundary: () => string = internal.chooseBoundary

/**
 * Encodes fields as a `multipart/form-data` body, byte-for-byte as urllib3's
 * `encode_multipart_formdata`. Each field is one part,
 * `--<boundary>\r\n<headers>\r\n<data>\r\n`, and the body ends with `--<boundary>--\r\n`.
 * A plain field's only header is `Content-Disposition: form-data; name="<name>"`; a file
 * field adds `; filename="<filename>"` and a `Content-Type` line, in which CR, LF and NUL
 * become `%0D`, `%0A` and `%00` so that no mime type can start a header of its own (the
 * request methods refuse such a field with a `ValueError` before encoding). Text is sent as
 * UTF-8, bytes as they are. `boundary` defaults to `chooseBoundary()`; one you pass must be ASCII
 * and must not occur in the data.
 *
 * @example
 * import * as Fields from "@httpool/core/Fields"
 *
 * const { body, contentType } = Fields.encodeMultipart(
 *   { name: "report", file: ["report.txt", "hello"] },
 *   "boundary"
 * )
 * // contentType: "multipart/form-data; boundary=boundary"
 * // body: --boundary\r\n
 * //       Content-Disposition: form-data; name="name"\r\n\r\nreport\r\n
 * //       --boundary\r\n
 * //       Content-Disposition: form-data; name="file"; filename="report.txt"\r\n
 * //       Content-Type: text/plain\r\n\r\nhello\r\n
 * //       --boundary--\r\n
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeMultipart: (fields: Input, boundary?: string) => Multipart = internal.encodeMultipart
