import { H1_CLOSED, H1_INVALID_ARG, H1_NOT_SUPPORTED, H1_REQ_CONTENT_LENGTH_MISMATCH, H1_SOCKET } from "./h1.js"
import type * as Connector from "@httpool/core/Connector"
import * as Errors from "@httpool/core/Errors"
import * as Url from "@httpool/core/Url"
import * as util from "node:util"

interface ErrorLike {
  readonly message?: unknown
  readonly code?: unknown
  readonly errno?: unknown
  readonly syscall?: unknown
  readonly library?: unknown
  readonly errors?: unknown
}

const asErrorLike = (u: unknown): ErrorLike => (typeof u === "object" && u !== null ? (u as ErrorLike) : {})

/** @internal */
export const codeOf = (u: unknown): string => {
  const error = asErrorLike(u)
  if (typeof error.code === "string") return error.code
  // Happy Eyeballs gives an AggregateError of the attempts; the first attempt's code speaks.
  if (Array.isArray(error.errors) && error.errors.length > 0) return codeOf(error.errors[0])
  return ""
}

/** @internal */
export const messageOf = (u: unknown): string => {
  const message = asErrorLike(u).message
  return typeof message === "string" && message.length > 0 ? message : String(u)
}

const RESOLUTION_CODES: ReadonlySet<string> = new Set([
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NONAME",
  "EAI_NODATA",
  "EAI_ADDRFAMILY",
  "ESERVFAIL",
  "ENODATA",
  "ENONAME"
])

const TLS_CODE =
  /^(?:ERR_SSL_|ERR_TLS_|ERR_OSSL_|CERT_|UNABLE_TO_|X509_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$|INVALID_CA$|INVALID_PURPOSE$|PATH_LENGTH_EXCEEDED$|EPROTO$)/

/** @internal */
export const isTlsError = (u: unknown): boolean => {
  const error = asErrorLike(u)
  return TLS_CODE.test(codeOf(u)) || (typeof error.library === "string" && /SSL|X509/i.test(error.library))
}

const isResolutionError = (u: unknown): boolean =>
  RESOLUTION_CODES.has(codeOf(u)) || asErrorLike(u).syscall === "getaddrinfo"

const systemErrors: ReadonlyMap<number, [string, string]> = util.getSystemErrorMap()

/** `[Errno 111] Connection refused (ECONNREFUSED)`, as urllib3 shows an OSError. @internal */
export const describeOsError = (u: unknown): string => {
  const error = asErrorLike(u)
  // Happy Eyeballs: the first attempt's error stands for all of them.
  if (typeof error.errno !== "number" && Array.isArray(error.errors) && error.errors.length > 0) {
    return describeOsError(error.errors[0])
  }
  const code = codeOf(u)
  const errno = typeof error.errno === "number" ? error.errno : null
  const known = errno === null ? undefined : systemErrors.get(errno)
  if (errno !== null && known !== undefined) {
    const text = known[1].charAt(0).toUpperCase() + known[1].slice(1)
    return `[Errno ${Math.abs(errno)}] ${text} (${known[0]})`
  }
  return code === "" ? messageOf(u) : `${messageOf(u)} (${code})`
}

/** `ENOTFOUND: Unknown node or service`: resolver errnos are libuv's, not the OS's. */
const describeResolutionError = (u: unknown): string => {
  const error = asErrorLike(u)
  const known = typeof error.errno === "number" ? systemErrors.get(error.errno) : undefined
  const code = codeOf(u)
  if (known === undefined) return code === "" ? messageOf(u) : `${code}: ${messageOf(u)}`
  return `${code === "" ? known[0] : code}: ${known[1].charAt(0).toUpperCase()}${known[1].slice(1)}`
}

/** Milliseconds as urllib3 prints a timeout: seconds. @internal */
export const seconds = (millis: number): string => String(millis / 1000)

/** Maps a failure while opening a socket to `host:port` (TCP, then TLS when `tlsStarted`). @internal */
export const mapConnectError = (
  error: unknown,
  host: string,
  port: number,
  tlsStarted: boolean
): Errors.HttpoolError => {
  if (Errors.isHttpoolError(error)) return error
  const where = Url.hostPort(host, port)
  if (tlsStarted || isTlsError(error)) {
    const code = codeOf(error)
    return new Errors.SSLError({
      message: `[SSL${code === "" ? "" : `: ${code}`}] ${messageOf(error)} (${where})`,
      cause: error
    })
  }
  if (isResolutionError(error)) {
    return new Errors.NameResolutionError({ host, reason: describeResolutionError(error), cause: error })
  }
  return new Errors.NewConnectionError({
    message: `Failed to establish a new connection to ${where}: ${describeOsError(error)}`,
    cause: error
  })
}

const protocolDetail = (error: unknown, responseStarted: boolean): string => {
  const code = codeOf(error)
  switch (code) {
    case H1_SOCKET:
      return responseStarted ? "Response ended prematurely" : "Remote end closed connection without response"
    case "HPE_HEADER_OVERFLOW":
      return "the response headers are too large"
    case H1_CLOSED:
      return "the connection was closed"
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
    case "ETIMEDOUT":
      return describeOsError(error)
    default:
      if (code.startsWith("HPE_")) return `Invalid HTTP response: ${messageOf(error)} (${code})`
      return code === "" ? messageOf(error) : `${messageOf(error)} (${code})`
  }
}

/** Maps a failure of a request on an open (or opening) connection. @internal */
export const mapSendError = (error: unknown, responseStarted: boolean): Errors.HttpoolError => {
  if (Errors.isHttpoolError(error)) return error
  const code = codeOf(error)
  switch (code) {
    case H1_INVALID_ARG:
      return /header/i.test(messageOf(error))
        ? new Errors.InvalidHeader({ message: `Invalid request header: ${messageOf(error)}` })
        : new Errors.ValueError({ message: `Invalid request: ${messageOf(error)}` })
    case H1_NOT_SUPPORTED:
      return new Errors.ValueError({ message: `Unsupported request: ${messageOf(error)}` })
    case H1_REQ_CONTENT_LENGTH_MISMATCH:
      return new Errors.ValueError({ message: "The request body length does not match its Content-Length header" })
  }
  if (isTlsError(error)) {
    return new Errors.SSLError({ message: `[SSL${code === "" ? "" : `: ${code}`}] ${messageOf(error)}`, cause: error })
  }
  return new Errors.ProtocolError({
    message: responseStarted
      ? `Connection broken: ${protocolDetail(error, true)}`
      : `Connection aborted. (${protocolDetail(error, false)})`,
    cause: error
  })
}

/** @internal */
export const readTimeoutError = (request: Connector.WireRequest) =>
  new Errors.ReadTimeoutError({
    pool: null,
    url: request.path,
    reason: `Read timed out. (read timeout=${request.readTimeout === null ? "None" : seconds(request.readTimeout)})`
  })

/** @internal */
export const interruptedError = () =>
  new Errors.ProtocolError({ message: "Connection aborted. (the request was interrupted)" })

/** @internal */
export const abortedError = () =>
  new Errors.ProtocolError({ message: "Connection aborted. (the response was aborted)" })

/** @internal */
export const closedError = () =>
  new Errors.ProtocolError({ message: "Connection aborted. (the connection was closed)" })
