import * as Stream from "effect/Stream"
import { chooseBoundary, formatMultipartParam } from "./fields.js"

const encoder = new TextEncoder()

/** A FormData body as httpool sends it. @internal */
export interface MultipartStream {
  /** The body: runs again from the start on every run, so a redirect or retry can resend it. */
  readonly body: Stream.Stream<Uint8Array, Error>
  /** The exact length in bytes, sent as Content-Length. */
  readonly length: number
  readonly contentType: string
}

type Piece = Uint8Array | Blob

/**
 * Encodes form data as multipart/form-data the way `Fields.encodeMultipart` does (the same
 * part headers, line breaks and closing delimiter), but streams each file from its Blob
 * instead of reading it into memory first. A file without a type is sent as
 * application/octet-stream, as fetch does.
 *
 * @internal
 */
export const multipartStream = (formData: FormData, boundary: string = chooseBoundary()): MultipartStream => {
  const pieces: Array<Piece> = []
  let length = 0
  let pending = ""
  const flush = () => {
    if (pending.length === 0) return
    const bytes = encoder.encode(pending)
    pieces.push(bytes)
    length += bytes.length
    pending = ""
  }
  const delimiter = `--${boundary}\r\n`
  for (const [name, value] of formData.entries()) {
    pending += `${delimiter}Content-Disposition: form-data; ${formatMultipartParam("name", name)}`
    if (typeof value === "string") {
      pending += `\r\n\r\n${value}\r\n`
      continue
    }
    const type = value.type === "" ? "application/octet-stream" : value.type
    pending += `; ${formatMultipartParam("filename", value.name)}\r\nContent-Type: ${type}\r\n\r\n`
    if (value.size > 0) {
      flush()
      pieces.push(value)
      length += value.size
    }
    pending += "\r\n"
  }
  pending += `--${boundary}--\r\n`
  flush()
  const body = Stream.fromIterable(pieces).pipe(
    Stream.flatMap(
      (piece) =>
        piece instanceof Uint8Array
          ? Stream.succeed(piece)
          : Stream.fromReadableStream({
              evaluate: () => piece.stream(),
              // Surfaces as the send's failure: the request is cut short, never sent incomplete.
              onError: (cause) =>
                new Error(`A form file (${piece instanceof File ? piece.name : "blob"}) could not be read`, { cause })
            }),
      { concurrency: 1 }
    )
  )
  return { body, length, contentType: `multipart/form-data; boundary=${boundary}` }
}
