import * as Either from "effect/Either"
import { ValueError } from "../../Errors.js"
import * as Headers from "../../Headers.js"
import * as Url from "../../Url.js"
import type { HeadersImpl } from "../headers.js"
import type { PreparedBody } from "./body.js"

/** The User-Agent sent when neither the request nor the pool sets one. @internal */
export const DEFAULT_USER_AGENT = "httpool/0.1.0"

/** Methods that send no Content-Length: 0 when they carry no body. @internal */
export const METHODS_NOT_EXPECTING_BODY: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "DELETE",
  "TRACE",
  "OPTIONS",
  "CONNECT"
])

const INVALID_METHOD = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/

/**
 * The methods HTTP defines (RFC 9110, PATCH, QUERY), as OpenTelemetry lists them: tokens all,
 * so a method among them is checked without the pattern. @internal
 */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "CONNECT",
  "DELETE",
  "GET",
  "HEAD",
  "OPTIONS",
  "PATCH",
  "POST",
  "PUT",
  "QUERY",
  "TRACE"
])

/** The error for a method that is not a token (empty, space, CR, LF, NUL...), or null. @internal */
export const methodError = (method: string): ValueError | null =>
  KNOWN_METHODS.has(method)
    ? null
    : method.length === 0 || INVALID_METHOD.test(method)
      ? new ValueError({ message: `Method cannot contain non-token characters ${JSON.stringify(method)}` })
      : null

/**
 * The Host header of an origin: IPv6 in brackets, a trailing dot dropped, the port left out
 * when it is the scheme's default.
 *
 * @internal
 */
export const hostHeader = (scheme: string, host: string, port: number): string => {
  const name = host.includes(":") ? `[${host}]` : host.endsWith(".") ? host.slice(0, -1) : host
  return port === Url.defaultPort(scheme) ? name : `${name}:${port}`
}

/** The header lines of one request as they go on the wire, and whether the body is chunked. @internal */
export interface WireHeaders {
  readonly list: ReadonlyArray<string>
  readonly chunked: boolean
}

/** A `WireHeaders` (a class instance: see attempt.ts). */
class WireHeadersOf implements WireHeaders {
  constructor(
    readonly list: ReadonlyArray<string>,
    readonly chunked: boolean
  ) {}
}

const CONTENT_HEADERS_DROPPED_ON_303 = [
  "Content-Encoding",
  "Content-Language",
  "Content-Location",
  "Content-Type",
  "Content-Length",
  "Digest",
  "Last-Modified"
]

/** What a 303 drops along with the body when the request becomes a GET (urllib3's `_prepare_for_method_change`). @internal */
export const dropContentHeaders = (headers: Headers.Headers): Headers.Headers =>
  CONTENT_HEADERS_DROPPED_ON_303.reduce((h, name) => Headers.remove(h, name), headers)

/**
 * The header lines of a request, in urllib3's order: Host (the origin being asked, unless
 * given), Accept-Encoding (identity unless given), Content-Length 0 for a body-less method
 * that expects one, User-Agent (unless given), then the caller's in their order and case.
 * Framing is the transport's, from the body; `chunked` (or a caller's
 * `Transfer-Encoding: chunked`, or a streamed body without a Content-Length) asks for chunked
 * framing, with or without bytes to send, as urllib3.
 *
 * @internal
 */
export const wireHeaders = (
  headers: Headers.Headers,
  method: string,
  body: PreparedBody,
  chunked: boolean,
  hostLine: string
): Either.Either<WireHeaders, ValueError> => {
  let hasHost = false
  let hasAcceptEncoding = false
  let hasUserAgent = false
  let hasContentLength = false
  let wantsChunked = chunked
  const lines: Array<string> = []
  // The slots themselves, not the iterator: its pairs would be made for every request whose
  // headers are its own (a trace header is enough).
  const { keys, names, values } = headers as HeadersImpl
  for (let i = 0; i < keys.length; i++) {
    const lower = keys[i]
    const name = names[i]
    if (lower === "host") hasHost = true
    else if (lower === "accept-encoding") hasAcceptEncoding = true
    else if (lower === "user-agent") hasUserAgent = true
    else if (lower === "content-length") hasContentLength = true
    for (const value of values[i]) {
      if (value === Headers.SKIP_HEADER) continue
      if (lower === "transfer-encoding") {
        if (value.toLowerCase() !== "chunked") {
          return Either.left(new ValueError({ message: `Unsupported Transfer-Encoding ${JSON.stringify(value)}` }))
        }
        wantsChunked = true
        continue
      }
      if (lower === "keep-alive" || lower === "upgrade" || lower === "expect") {
        return Either.left(new ValueError({ message: `The ${name} header cannot be set on a request` }))
      }
      lines.push(name, value)
    }
  }
  const prefix: Array<string> = []
  if (!hasHost) prefix.push("Host", hostLine)
  if (!hasAcceptEncoding) prefix.push("Accept-Encoding", "identity")
  if (!hasContentLength && !wantsChunked && body.length === null && !body.isStream) {
    if (!METHODS_NOT_EXPECTING_BODY.has(method)) prefix.push("Content-Length", "0")
  }
  if (!hasUserAgent) prefix.push("User-Agent", DEFAULT_USER_AGENT)
  // A streamed body of unknown length goes chunked, even when it turns out empty (as urllib3).
  const framedChunked = wantsChunked || (body.isStream && !hasContentLength)
  return Either.right(new WireHeadersOf(prefix.length === 0 ? lines : prefix.concat(lines), framedChunked))
}
