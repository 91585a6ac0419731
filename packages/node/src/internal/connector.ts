import * as Connector from "@httpool/core/Connector"
import * as ContentDecoder from "@httpool/core/ContentDecoder"
import * as Errors from "@httpool/core/Errors"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as tls from "node:tls"
import * as util from "node:util"
import { type buildConnector, Client, type Dispatcher } from "undici"
import { tunnelDial } from "./tunnel.js"
import * as decoder from "./decoder.js"

const noop = () => {}

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/** @internal */
export interface Options {
  readonly keepAliveTimeout?: number
  readonly keepAliveMaxTimeout?: number
  readonly keepAliveTimeoutThreshold?: number
  readonly highWaterMark?: number
  readonly maxHeaderSize?: number
}

/** @internal */
export interface Settings {
  readonly keepAliveTimeout: number
  readonly keepAliveMaxTimeout: number
  readonly keepAliveTimeoutThreshold: number
  readonly highWaterMark: number
  readonly maxHeaderSize: number
}

/** @internal */
export const defaultSettings: Settings = {
  keepAliveTimeout: 4_000,
  keepAliveMaxTimeout: 600_000,
  keepAliveTimeoutThreshold: 1_000,
  highWaterMark: 64 * 1024,
  maxHeaderSize: 64 * 1024
}

const positive = (name: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) {
    throw new Errors.ValueError({ message: `NodeConnector option ${name} must be a positive number, got ${value}` })
  }
  return value
}

/** @internal */
export const settingsOf = (options: Options): Settings => ({
  keepAliveTimeout: Math.ceil(positive("keepAliveTimeout", options.keepAliveTimeout, defaultSettings.keepAliveTimeout)),
  keepAliveMaxTimeout: Math.ceil(
    positive("keepAliveMaxTimeout", options.keepAliveMaxTimeout, defaultSettings.keepAliveMaxTimeout)
  ),
  keepAliveTimeoutThreshold:
    options.keepAliveTimeoutThreshold === undefined
      ? defaultSettings.keepAliveTimeoutThreshold
      : Math.max(0, options.keepAliveTimeoutThreshold),
  highWaterMark: Math.ceil(positive("highWaterMark", options.highWaterMark, defaultSettings.highWaterMark)),
  maxHeaderSize: Math.ceil(positive("maxHeaderSize", options.maxHeaderSize, defaultSettings.maxHeaderSize))
})

// ---------------------------------------------------------------------------
// Error mapping
// ---------------------------------------------------------------------------

interface ErrorLike {
  readonly message?: unknown
  readonly code?: unknown
  readonly errno?: unknown
  readonly syscall?: unknown
  readonly library?: unknown
  readonly errors?: unknown
}

const asErrorLike = (u: unknown): ErrorLike => (typeof u === "object" && u !== null ? (u as ErrorLike) : {})

const codeOf = (u: unknown): string => {
  const error = asErrorLike(u)
  if (typeof error.code === "string") return error.code
  // Happy Eyeballs gives an AggregateError of the attempts; the first attempt's code speaks.
  if (Array.isArray(error.errors) && error.errors.length > 0) return codeOf(error.errors[0])
  return ""
}

const messageOf = (u: unknown): string => {
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

const isTlsError = (u: unknown): boolean => {
  const error = asErrorLike(u)
  return TLS_CODE.test(codeOf(u)) || (typeof error.library === "string" && /SSL|X509/i.test(error.library))
}

const isResolutionError = (u: unknown): boolean =>
  RESOLUTION_CODES.has(codeOf(u)) || asErrorLike(u).syscall === "getaddrinfo"

const systemErrors: ReadonlyMap<number, [string, string]> = util.getSystemErrorMap()

/** `[Errno 111] Connection refused (ECONNREFUSED)`, as urllib3 shows an OSError. */
const describeOsError = (u: unknown): string => {
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

const hostPort = (host: string, port: number): string => `${host.includes(":") ? `[${host}]` : host}:${port}`

const seconds = (millis: number): string => String(millis / 1000)

/** Maps a failure while opening a socket (TCP, then TLS when `tlsStarted`). @internal */
export const mapConnectError = (
  error: unknown,
  target: Connector.ConnectionTarget,
  tlsStarted: boolean
): Errors.HttpoolError => {
  if (Errors.isHttpoolError(error)) return error
  const where = hostPort(target.host, target.port)
  if (tlsStarted || isTlsError(error)) {
    const code = codeOf(error)
    return new Errors.SSLError({
      message: `[SSL${code === "" ? "" : `: ${code}`}] ${messageOf(error)} (${where})`,
      cause: error
    })
  }
  if (isResolutionError(error)) {
    return new Errors.NameResolutionError({ host: target.host, reason: describeResolutionError(error), cause: error })
  }
  return new Errors.NewConnectionError({
    message: `Failed to establish a new connection to ${where}: ${describeOsError(error)}`,
    cause: error
  })
}

const protocolDetail = (error: unknown, responseStarted: boolean): string => {
  const code = codeOf(error)
  switch (code) {
    case "UND_ERR_SOCKET":
      return responseStarted ? "Response ended prematurely" : "Remote end closed connection without response"
    case "UND_ERR_RES_CONTENT_LENGTH_MISMATCH":
      return "Response ended prematurely (the body is shorter than its Content-Length)"
    case "UND_ERR_HEADERS_OVERFLOW":
      return "the response headers are too large"
    case "UND_ERR_DESTROYED":
    case "UND_ERR_CLOSED":
      return "the connection was closed"
    case "UND_ERR_INFO":
      return `the connection was closed (${messageOf(error)})`
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
export const mapSendError = (
  error: unknown,
  request: Connector.WireRequest,
  responseStarted: boolean
): Errors.HttpoolError => {
  if (Errors.isHttpoolError(error)) return error
  const code = codeOf(error)
  switch (code) {
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return readTimeoutError(request)
    case "UND_ERR_INVALID_ARG":
      return /header/i.test(messageOf(error))
        ? new Errors.InvalidHeader({ message: `Invalid request header: ${messageOf(error)}` })
        : new Errors.ValueError({ message: `Invalid request: ${messageOf(error)}` })
    case "UND_ERR_NOT_SUPPORTED":
      return new Errors.ValueError({ message: `Unsupported request: ${messageOf(error)}` })
    case "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH":
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

// ---------------------------------------------------------------------------
// TLS settings
// ---------------------------------------------------------------------------

type FingerprintAlgorithm = "md5" | "sha1" | "sha256"

interface ResolvedTls {
  readonly context: tls.SecureContext
  readonly servername: string | null
  readonly rejectUnauthorized: boolean
  readonly checkName: string | null
  readonly fingerprint: { readonly algorithm: FingerprintAlgorithm; readonly digest: Buffer } | null
}

const stripDot = (host: string): string => (host.endsWith(".") ? host.slice(0, -1) : host)

const TLS_VERSIONS: Readonly<Record<string, tls.SecureVersion>> = {
  TLSV1: "TLSv1",
  "TLSV1.0": "TLSv1",
  "TLSV1.1": "TLSv1.1",
  "TLSV1.2": "TLSv1.2",
  "TLSV1.3": "TLSv1.3",
  "MINIMUM.SUPPORTED": "TLSv1",
  "MAXIMUM.SUPPORTED": "TLSv1.3"
}

const tlsVersion = (value: string): tls.SecureVersion => {
  const version = TLS_VERSIONS[value.trim().toUpperCase().replace(/_/g, ".")]
  if (version === undefined) {
    throw new Errors.ValueError({ message: `Unknown TLS version ${JSON.stringify(value)}` })
  }
  return version
}

const verifies = (certReqs: string | null): boolean => {
  if (certReqs === null) return true
  const name = certReqs.trim().toUpperCase()
  return name !== "NONE" && name !== "CERT_NONE"
}

const PEM_CERTIFICATE = /-----BEGIN (?:TRUSTED )?CERTIFICATE-----[\s\S]+?-----END (?:TRUSTED )?CERTIFICATE-----/g

const pemCertificates = (text: string): Array<string> => text.match(PEM_CERTIFICATE) ?? []

/** Splits concatenated DER certificates (each one an ASN.1 SEQUENCE) and renders them as PEM. */
const derToPem = (der: Uint8Array): Array<string> => {
  const out: Array<string> = []
  let offset = 0
  while (offset < der.length) {
    if (der[offset] !== 0x30 || offset + 2 > der.length) throw new Error("caCertData is not DER")
    let length = der[offset + 1]!
    let header = 2
    if (length & 0x80) {
      const bytes = length & 0x7f
      if (bytes === 0 || bytes > 4 || offset + 2 + bytes > der.length) throw new Error("caCertData is not DER")
      length = 0
      for (let i = 0; i < bytes; i++) length = length * 256 + der[offset + 2 + i]!
      header += bytes
    }
    const end = offset + header + length
    if (end > der.length) throw new Error("caCertData is truncated")
    out.push(new crypto.X509Certificate(der.subarray(offset, end)).toString())
    offset = end
  }
  return out
}

const loadCa = (options: Connector.TlsOptions): Array<string> | undefined => {
  if (options.caCerts === null && options.caCertDir === null && options.caCertData === null) return undefined
  const ca: Array<string> = []
  if (options.caCerts !== null) {
    ca.push(...pemCertificates(fs.readFileSync(options.caCerts, "latin1")))
  }
  if (options.caCertDir !== null) {
    for (const entry of fs.readdirSync(options.caCertDir, { withFileTypes: true })) {
      if (!entry.isFile() && !entry.isSymbolicLink()) continue
      const file = path.join(options.caCertDir, entry.name)
      try {
        ca.push(...pemCertificates(fs.readFileSync(file, "latin1")))
      } catch {
        // An unreadable entry (a dangling link, a directory behind a link) holds no certificate.
      }
    }
  }
  if (options.caCertData !== null) {
    ca.push(
      ...(typeof options.caCertData === "string" ? pemCertificates(options.caCertData) : derToPem(options.caCertData))
    )
  }
  if (ca.length === 0) throw new Error("no CA certificate found in caCerts, caCertDir or caCertData")
  return ca
}

const fingerprintOf = (value: string): ResolvedTls["fingerprint"] => {
  const hex = value.replace(/:/g, "").trim().toLowerCase()
  const algorithm: FingerprintAlgorithm | undefined =
    hex.length === 32 ? "md5" : hex.length === 40 ? "sha1" : hex.length === 64 ? "sha256" : undefined
  if (algorithm === undefined) {
    throw new Errors.SSLError({ message: `Fingerprint of invalid length: ${value}` })
  }
  if (!/^[0-9a-f]+$/.test(hex)) {
    throw new Errors.SSLError({ message: `Fingerprint is not hexadecimal: ${value}` })
  }
  return { algorithm, digest: Buffer.from(hex, "hex") }
}

const resolveTls = (target: Connector.ConnectionTarget, options: Connector.TlsOptions): ResolvedTls => {
  const fingerprint = options.assertFingerprint === null ? null : fingerprintOf(options.assertFingerprint)
  const name = stripDot(options.serverHostname ?? target.host)
  let context: tls.SecureContext
  try {
    const certFile = options.certFile
    const keyFile = options.keyFile ?? certFile
    context = tls.createSecureContext({
      minVersion: tlsVersion(options.sslMinimumVersion ?? "TLSv1.2"),
      ...(options.sslMaximumVersion === null ? {} : { maxVersion: tlsVersion(options.sslMaximumVersion) }),
      ...(loadCaOption(options) ?? {}),
      ...(certFile === null ? {} : { cert: fs.readFileSync(certFile) }),
      ...(keyFile === null || certFile === null ? {} : { key: fs.readFileSync(keyFile) }),
      ...(options.keyPassword === null ? {} : { passphrase: options.keyPassword })
    })
  } catch (error) {
    if (Errors.isHttpoolError(error)) throw error
    throw new Errors.SSLError({ message: `Could not load the TLS settings: ${messageOf(error)}`, cause: error })
  }
  return {
    context,
    servername: net.isIP(name) === 0 && name.length > 0 ? name : null,
    rejectUnauthorized: verifies(options.certReqs),
    // urllib3 checks either the fingerprint or the name, never both.
    checkName:
      fingerprint !== null || options.assertHostname === false
        ? null
        : stripDot(typeof options.assertHostname === "string" ? options.assertHostname : name),
    fingerprint
  }
}

const loadCaOption = (options: Connector.TlsOptions): { readonly ca: Array<string> } | undefined => {
  const ca = loadCa(options)
  return ca === undefined ? undefined : { ca }
}

// Settings are read once per TlsOptions value (pools hand the same value to every connection).
const resolvedTls = new WeakMap<Connector.TlsOptions, Map<string, ResolvedTls>>()

const cachedTls = (target: Connector.ConnectionTarget, options: Connector.TlsOptions): ResolvedTls => {
  let byHost = resolvedTls.get(options)
  if (byHost === undefined) {
    byHost = new Map()
    resolvedTls.set(options, byHost)
  }
  let resolved = byHost.get(target.host)
  if (resolved === undefined) {
    resolved = resolveTls(target, options)
    byHost.set(target.host, resolved)
  }
  return resolved
}

const checkFingerprint = (socket: tls.TLSSocket, expected: NonNullable<ResolvedTls["fingerprint"]>) => {
  const cert = socket.getPeerCertificate()
  const raw: Buffer | undefined = cert?.raw
  if (raw === undefined || raw.length === 0) {
    return new Errors.SSLError({ message: "No certificate was received to check its fingerprint" })
  }
  const actual = crypto.createHash(expected.algorithm).update(raw).digest()
  return actual.length === expected.digest.length && crypto.timingSafeEqual(actual, expected.digest)
    ? null
    : new Errors.SSLError({
        message: `Fingerprints did not match. Expected "${expected.digest.toString("hex")}", got "${actual.toString("hex")}"`
      })
}

// ---------------------------------------------------------------------------
// Dialing
// ---------------------------------------------------------------------------

/**
 * Opens one socket for a connection and calls back exactly once; the returned function
 * cancels a dial still in progress (the socket is destroyed and the callback gets `reason`).
 *
 * @internal
 */
export type Dial = (callback: (error: Error | null, socket: net.Socket | null) => void) => (reason: Error) => void

/**
 * Dials `target`: TCP (with `sourceAddress`, Happy Eyeballs, no-delay and keep-alive), then
 * TLS with the target's settings for https. With `over`, TLS runs over that already
 * connected socket instead (a proxy tunnel). `target.connectTimeout` covers TCP and TLS.
 *
 * @internal
 */
export const dial =
  (target: Connector.ConnectionTarget, over: net.Socket | null = null): Dial =>
  (callback) => {
    let settled = false
    let tlsStarted = over !== null
    let socket: net.Socket | null = null
    let timer: ReturnType<typeof setTimeout> | undefined

    const onError = (error: unknown) => finish(mapConnectError(error, target, tlsStarted))
    const onClose = () =>
      finish(
        mapConnectError(
          Object.assign(new Error("The connection was closed before it was established"), { code: "ECONNRESET" }),
          target,
          tlsStarted
        )
      )
    const finish = (error: Error | null): void => {
      if (settled) return
      settled = true
      if (timer !== undefined) clearTimeout(timer)
      if (socket !== null) {
        socket.off("error", onError)
        socket.off("close", onClose)
        socket.off("connect", onConnect)
        socket.off("secureConnect", onSecureConnect)
      }
      if (error !== null || socket === null) {
        // Whatever the abandoned socket still reports goes nowhere.
        socket?.on("error", noop).destroy()
        over?.on("error", noop).destroy()
        callback(error ?? new Error("no socket"), null)
      } else {
        callback(null, socket)
      }
    }
    const onConnect = () => {
      if (target.scheme === "https") {
        tlsStarted = true
      } else {
        finish(null)
      }
    }
    let resolved: ResolvedTls | null = null
    const onSecureConnect = () => {
      const expected = resolved?.fingerprint
      const mismatch =
        expected === undefined || expected === null ? null : checkFingerprint(socket as tls.TLSSocket, expected)
      finish(mismatch)
    }

    try {
      const source = target.sourceAddress
      const netOptions: net.TcpNetConnectOpts = {
        host: target.host,
        port: target.port,
        autoSelectFamily: true,
        ...(source === null ? {} : { localAddress: source[0], ...(source[1] > 0 ? { localPort: source[1] } : {}) })
      }
      if (target.scheme === "https") {
        const settings = target.tls ?? emptyTls
        resolved = cachedTls(target, settings)
        const checkName = resolved.checkName
        const tlsOptions: tls.ConnectionOptions = {
          secureContext: resolved.context,
          rejectUnauthorized: resolved.rejectUnauthorized,
          ALPNProtocols: ["http/1.1"],
          checkServerIdentity: (_host, cert) =>
            checkName === null ? undefined : tls.checkServerIdentity(checkName, cert),
          ...(resolved.servername === null ? {} : { servername: resolved.servername })
        }
        socket =
          over === null ? tls.connect({ ...netOptions, ...tlsOptions }) : tls.connect({ ...tlsOptions, socket: over })
        socket.once("secureConnect", onSecureConnect)
      } else {
        socket = over ?? net.connect(netOptions)
      }
      socket.setNoDelay(true)
      socket.setKeepAlive(true, 60_000)
      socket.on("error", onError)
      socket.once("close", onClose)
      if (over === null) {
        socket.once("connect", onConnect)
      } else if (target.scheme !== "https") {
        queueMicrotask(() => finish(null))
      }
      if (target.connectTimeout !== null) {
        const timeout = target.connectTimeout
        timer = setTimeout(
          () =>
            finish(
              new Errors.ConnectTimeoutError({
                message: `Connection to ${target.host} timed out. (connect timeout=${seconds(timeout)})`
              })
            ),
          Math.max(1, Math.ceil(timeout))
        )
      }
    } catch (error) {
      // Invalid options (a bad source address, unreadable certificates) fail synchronously.
      queueMicrotask(() => finish(mapConnectError(error, target, false)))
    }
    return (reason) => finish(reason)
  }

const emptyTls: Connector.TlsOptions = {
  caCerts: null,
  caCertDir: null,
  caCertData: null,
  certFile: null,
  keyFile: null,
  keyPassword: null,
  certReqs: null,
  assertHostname: null,
  assertFingerprint: null,
  serverHostname: null,
  sslMinimumVersion: null,
  sslMaximumVersion: null
}

// ---------------------------------------------------------------------------
// One request
// ---------------------------------------------------------------------------

type Resume<A, E> = (effect: Effect.Effect<A, E>) => void

const EMPTY = new Uint8Array(0)

/**
 * The undici handler of one request (undici's native, "legacy" handler interface), which is
 * also the state of its streamed response.
 *
 * The read timeout is ours rather than undici's `headersTimeout` / `bodyTimeout`, whose
 * timers tick every half second (a 0.2 s timeout would fire after up to a second): one
 * native timer, armed when undici starts writing the request and refreshed by every sign of
 * progress (a body chunk sent, the request written, the response's first byte, its headers,
 * each body chunk), so it measures silence as urllib3's socket timeout does. It is stopped
 * while the reader applies backpressure: a slow reader is not a slow server.
 */
class Exchange {
  requestSent = false
  responseStarted = false
  /** The send effect was resumed, or interrupted. */
  private settled = false
  /** undici reported the end of the request (complete or error). */
  private finished = false
  private interrupted = false
  private cancelled = false
  private abortRequest: ((error?: Error) => void) | null = null
  private status = 0
  private reason = ""
  private headers: Array<string> = []
  private timer: ReturnType<typeof setTimeout> | null = null
  private readonly timeout: number
  // Preloaded body.
  private chunks: Array<Buffer> = []
  private length = 0
  // Streamed body.
  private queue: Array<Buffer> = []
  private queued = 0
  private paused = false
  private resumeParser: (() => void) | null = null
  private ended = false
  private failure: Connector.SendFailure | null = null
  private reader: Resume<Uint8Array | null, Connector.SendFailure> | null = null

  constructor(
    private readonly connection: NodeConnection,
    readonly request: Connector.WireRequest,
    private readonly resume: Resume<Connector.WireResponse, Connector.SendFailure>,
    private readonly highWaterMark: number
  ) {
    this.timeout = request.readTimeout === null ? 0 : Math.max(1, Math.ceil(request.readTimeout))
  }

  // -- undici's handler interface --------------------------------------------------------

  onConnect(abort: (error?: Error) => void): void {
    if (this.interrupted) {
      abort(interruptedError())
      return
    }
    this.abortRequest = abort
    // From here on undici writes the request: part of it may reach the server.
    this.requestSent = true
    this.arm()
  }

  onBodySent(): void {
    this.arm()
  }

  onRequestSent(): void {
    this.requestSent = true
    this.arm()
  }

  onResponseStarted(): void {
    this.responseStarted = true
    this.arm()
  }

  onHeaders(status: number, rawHeaders: Array<Buffer>, resume: () => void, statusText: string): boolean {
    this.arm()
    // 1xx informational responses (100 Continue, 103 Early Hints) are not the response.
    if (status < 200) return true
    this.responseStarted = true
    this.status = status
    this.reason = statusText
    const headers = new Array<string>(rawHeaders.length)
    for (let i = 0; i < rawHeaders.length; i++) headers[i] = rawHeaders[i]!.toString("latin1")
    this.headers = headers
    if (!this.request.preload) {
      this.resumeParser = resume
      this.settle(
        Effect.succeed({
          status,
          reason: statusText,
          headers,
          body: null,
          read: Effect.async<Uint8Array | null, Connector.SendFailure>((resume) => {
            const next = this.take()
            if (next !== undefined) {
              resume(next)
              return
            }
            this.reader = resume
            return Effect.sync(() => {
              if (this.reader === resume) this.reader = null
            })
          }),
          abort: Effect.sync(() => this.cancel())
        })
      )
    }
    return true
  }

  onData(chunk: Buffer): boolean {
    // undici hands over an empty piece when it resumes a paused parser with nothing buffered:
    // no part of the body, and a reader never gets an empty chunk. Backpressure is unchanged.
    if (chunk.length === 0) return !this.paused
    if (this.request.preload) {
      this.arm()
      this.chunks.push(chunk)
      this.length += chunk.length
      return true
    }
    if (this.cancelled) return true
    this.queue.push(chunk)
    this.queued += chunk.length
    this.wake()
    if (this.queued >= this.highWaterMark) {
      this.paused = true
      this.disarm()
      return false
    }
    this.arm()
    return true
  }

  onComplete(_trailers: Array<Buffer> | Array<string> | null): void {
    this.finished = true
    this.disarm()
    this.connection.requestDone(this)
    if (this.request.preload) {
      const body =
        this.chunks.length === 1 ? this.chunks[0]! : this.length === 0 ? EMPTY : Buffer.concat(this.chunks, this.length)
      this.chunks = []
      this.settle(
        Effect.succeed({
          status: this.status,
          reason: this.reason,
          headers: this.headers,
          body,
          read: endOfBody,
          abort: Effect.void
        })
      )
      return
    }
    this.ended = true
    this.wake()
  }

  onError(error: Error): void {
    this.finished = true
    this.disarm()
    this.connection.requestDone(this)
    if (this.cancelled) return
    // A TLS alert (say, "certificate required" after a TLS 1.3 handshake) is often followed
    // by the peer's FIN, which undici reports instead; the alert is the better reason.
    const tlsError = Errors.isHttpoolError(error) ? null : this.connection.tlsError
    const failure = new Connector.SendFailure({
      error: mapSendError(tlsError ?? error, this.request, this.responseStarted),
      requestSent: this.requestSent,
      responseStarted: this.responseStarted
    })
    if (!this.settled) {
      this.settle(Effect.fail(failure))
      return
    }
    this.failure = failure
    this.chunks = []
    this.queue = []
    this.queued = 0
    this.wake()
  }

  // -- ours ------------------------------------------------------------------------------

  private settle(effect: Effect.Effect<Connector.WireResponse, Connector.SendFailure>): void {
    if (this.settled) return
    this.settled = true
    this.resume(effect)
  }

  /** Starts or refreshes the read timer. */
  private arm(): void {
    if (this.timeout === 0 || this.finished) return
    if (this.timer === null) {
      this.timer = setTimeout(this.onTimeout, this.timeout)
      this.timer.unref()
    } else {
      this.timer.refresh()
    }
  }

  private disarm(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
  }

  private readonly onTimeout = (): void => {
    this.timer = null
    if (this.finished || this.cancelled || this.abortRequest === null) return
    this.connection.abortRunning(this.abortRequest, readTimeoutError(this.request))
  }

  /** The next read's outcome if one is ready. */
  private take(): Effect.Effect<Uint8Array | null, Connector.SendFailure> | undefined {
    const chunk = this.queue.shift()
    if (chunk !== undefined) {
      this.queued -= chunk.length
      if (this.paused && this.queued < this.highWaterMark / 2) {
        this.paused = false
        this.arm()
        const resume = this.resumeParser
        // undici may hand over more data synchronously; the state above is already settled.
        if (resume !== null) resume()
      }
      return Effect.succeed(chunk)
    }
    if (this.failure !== null) return Effect.fail(this.failure)
    if (this.ended) return endOfBody
    return undefined
  }

  private wake(): void {
    const reader = this.reader
    if (reader === null) return
    const next = this.take()
    if (next === undefined) return
    this.reader = null
    reader(next)
  }

  /** The send was interrupted before it completed: nothing of the request may go on. */
  interrupt(): void {
    this.settled = true
    this.interrupted = true
    this.cancelled = true
    this.disarm()
    if (this.finished) return
    if (this.abortRequest !== null) {
      this.connection.abortRunning(this.abortRequest, interruptedError())
    } else {
      this.connection.cancelDial(interruptedError())
    }
  }

  /** `WireResponse.abort`: stops a streamed response and destroys its socket. */
  private cancel(): void {
    if (this.cancelled) return
    this.cancelled = true
    this.disarm()
    const unread = this.queue.length > 0
    this.queue = []
    this.queued = 0
    if (!this.finished || unread) {
      this.failure ??= new Connector.SendFailure({
        error: new Errors.ProtocolError({ message: "Connection broken: the response was aborted before its end" }),
        requestSent: this.requestSent,
        responseStarted: this.responseStarted
      })
    }
    if (!this.finished) {
      if (this.abortRequest !== null) this.connection.abortRunning(this.abortRequest, abortedError())
    } else if (this.connection.isCurrent(this)) {
      // An aborted response's socket is never reused, even when undici had finished it.
      this.connection.discardSocket()
    }
    this.wake()
  }
}

const readTimeoutError = (request: Connector.WireRequest) =>
  new Errors.ReadTimeoutError({
    pool: null,
    url: request.path,
    reason: `Read timed out. (read timeout=${request.readTimeout === null ? "None" : seconds(request.readTimeout)})`
  })

const endOfBody: Effect.Effect<null> = Effect.succeed(null)

const interruptedError = () =>
  new Errors.ProtocolError({ message: "Connection aborted. (the request was interrupted)" })

const abortedError = () => new Errors.ProtocolError({ message: "Connection aborted. (the response was aborted)" })

const closedError = () => new Errors.ProtocolError({ message: "Connection aborted. (the connection was closed)" })

/** The reason given to undici when a connection with no request is closed. */
const idleClosedError = closedError()

// ---------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------

let nextConnectionId = 0

interface DispatchOptions extends Dispatcher.DispatchOptions {
  /** undici reconnects when a request's servername differs from the last one; ours never does. */
  readonly servername: string
}

const TRANSFER_ENCODING = "transfer-encoding"

/**
 * undici frames bodies itself (an iterable without Content-Length goes chunked) and rejects
 * an explicit `Transfer-Encoding`; `Transfer-Encoding: chunked` is dropped for it.
 */
const wireHeaders = (headers: ReadonlyArray<string>): Array<string> => {
  let found = false
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (name.length === TRANSFER_ENCODING.length && name.toLowerCase() === TRANSFER_ENCODING) {
      found = true
      break
    }
  }
  if (!found) return headers as Array<string>
  const out: Array<string> = []
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    const value = headers[i + 1] ?? ""
    if (name.toLowerCase() === TRANSFER_ENCODING && value.trim().toLowerCase() === "chunked") continue
    out.push(name, value)
  }
  return out
}

const CONTENT_LENGTH_0 = "content-length: 0\r\n\r\n"
const LAST_CHUNK = "transfer-encoding: chunked\r\n\r\n0\r\n\r\n"

/**
 * undici frames an iterable body in chunks only once it yields bytes: with none, it ends the
 * head with `content-length: 0` (or nothing, for a GET). A request asked to go chunked must
 * still end with the last chunk (urllib3 sends `Transfer-Encoding: chunked` and `0\r\n\r\n`),
 * so the one head undici writes next for `method` on this socket gets that framing instead.
 */
const endWithLastChunk = (socket: net.Socket, method: string): void => {
  const write = socket.write
  const prefix = `${method} `
  socket.write = function (this: net.Socket, chunk: unknown, ...rest: Array<unknown>) {
    if (typeof chunk === "string" && chunk.startsWith(prefix)) {
      socket.write = write
      if (chunk.endsWith("\r\n\r\n") && !/\r\ntransfer-encoding:/i.test(chunk)) {
        chunk = chunk.endsWith(CONTENT_LENGTH_0)
          ? chunk.slice(0, -CONTENT_LENGTH_0.length) + LAST_CHUNK
          : chunk.slice(0, -2) + LAST_CHUNK
      }
    }
    return (write as (...args: Array<unknown>) => boolean).call(this, chunk, ...rest)
  } as net.Socket["write"]
}

/**
 * One undici `Client` (pipelining 1) whose sockets come from `dial`.
 *
 * @internal
 */
export class NodeConnection implements Connector.Connection {
  readonly id = ++nextConnectionId
  readonly send: (request: Connector.WireRequest) => Effect.Effect<Connector.WireResponse, Connector.SendFailure>
  readonly close: Effect.Effect<void>
  private client: Client | null = null
  private closed = false
  private socket: net.Socket | null = null
  private cancel: ((reason: Error) => void) | null = null
  private current: Exchange | null = null
  private readonly servername: string

  constructor(
    private readonly target: Connector.ConnectionTarget,
    private readonly events: Connector.ConnectionEvents,
    private readonly settings: Settings,
    private readonly dialer: (target: Connector.ConnectionTarget) => Dial
  ) {
    this.servername = target.host.length > 0 ? target.host : "localhost"
    this.send = (request) =>
      Effect.async<Connector.WireResponse, Connector.SendFailure>((resume) => this.start(request, resume))
    this.close = Effect.sync(() => this.destroy())
  }

  isConnected = (): boolean => !this.closed && this.socket !== null && !this.socket.destroyed

  remoteAddress = (): string | null => this.socket?.remoteAddress ?? null

  /** The first TLS error seen on the current socket after its handshake. */
  tlsError: Error | null = null

  private readonly connect = (_options: buildConnector.Options, callback: buildConnector.Callback): void => {
    this.events.onSocket()
    this.tlsError = null
    const connectTimeout = this.current?.request.connectTimeout
    const target = connectTimeout === undefined ? this.target : { ...this.target, connectTimeout }
    this.cancel = this.dialer(target)((error, socket) => {
      this.cancel = null
      if (error !== null || socket === null) {
        callback(error ?? new Error("no socket"), null)
        return
      }
      this.socket = socket
      const running = this.current?.request
      if (running?.chunked === true) endWithLastChunk(socket, running.method)
      if (this.target.scheme === "https") {
        socket.on("error", (error: Error) => {
          if (this.socket === socket && this.tlsError === null && isTlsError(error)) this.tlsError = error
        })
      }
      callback(null, socket)
    })
  }

  private undici(): Client | Errors.HttpoolError {
    if (this.client !== null) return this.client
    if (this.closed) return closedError()
    const { scheme, host, port } = this.target
    try {
      this.client = new Client(`${scheme}://${hostPort(host, port)}`, {
        connect: this.connect,
        pipelining: 1,
        keepAliveTimeout: this.settings.keepAliveTimeout,
        keepAliveMaxTimeout: this.settings.keepAliveMaxTimeout,
        keepAliveTimeoutThreshold: this.settings.keepAliveTimeoutThreshold,
        maxHeaderSize: this.settings.maxHeaderSize,
        headersTimeout: 0,
        bodyTimeout: 0,
        strictContentLength: true
      })
      return this.client
    } catch (error) {
      return new Errors.LocationValueError({
        message: `Cannot connect to ${hostPort(host, port)}: ${messageOf(error)}`
      })
    }
  }

  private start(
    request: Connector.WireRequest,
    resume: Resume<Connector.WireResponse, Connector.SendFailure>
  ): Effect.Effect<void> | undefined {
    const client = this.undici()
    if (!(client instanceof Client)) {
      resume(Effect.fail(new Connector.SendFailure({ error: client, requestSent: false, responseStarted: false })))
      return undefined
    }
    const exchange = new Exchange(this, request, resume, this.settings.highWaterMark)
    this.current = exchange
    if (request.chunked === true && this.socket !== null && !this.socket.destroyed) {
      endWithLastChunk(this.socket, request.method)
    }
    const options: DispatchOptions = {
      method: request.method,
      path: request.path,
      headers: wireHeaders(request.headers),
      // undici sends strings, bytes and (async) iterables; its types only list the first two.
      body: request.body as Exclude<Dispatcher.DispatchOptions["body"], undefined>,
      // The read timeout is the exchange's own timer (see `Exchange`).
      headersTimeout: 0,
      bodyTimeout: 0,
      servername: this.servername
    }
    try {
      client.dispatch(options, exchange)
    } catch (error) {
      exchange.onError(error instanceof Error ? error : new Error(String(error)))
    }
    return Effect.sync(() => exchange.interrupt())
  }

  /** Called by an exchange when undici is done with it. */
  requestDone(exchange: Exchange): void {
    if (this.current === exchange) this.current = null
  }

  /** Whether no later request has started since `exchange`. */
  isCurrent(exchange: Exchange): boolean {
    return this.current === null || this.current === exchange
  }

  /**
   * Stops the running request by destroying its socket with `error`. undici's own abort
   * destroys the socket with an "informational" error, after which it re-queues the aborted
   * request and dials a new socket only to drop it; a plain error avoids that.
   */
  abortRunning(abort: (error?: Error) => void, error: Error): void {
    const socket = this.socket
    if (socket !== null && !socket.destroyed) {
      socket.destroy(error)
    } else {
      abort(error)
    }
  }

  /** Cancels a dial in progress (an interrupted request must not wait for it). */
  cancelDial(reason: Error): void {
    const cancel = this.cancel
    this.cancel = null
    cancel?.(reason)
  }

  /** Destroys the current socket; the next `send` dials a new one. */
  discardSocket(): void {
    const socket = this.socket
    this.socket = null
    socket?.destroy()
  }

  private destroy(): void {
    if (this.closed) return
    this.closed = true
    // Closing an idle connection fails nothing, so it can spare making an error (and its
    // stack trace) for each connection a pool lets go.
    const error = this.current === null ? idleClosedError : closedError()
    this.cancelDial(error)
    const client = this.client
    if (client !== null) {
      // Fails what is queued or running with `error` and destroys the socket at once; the
      // callback only reports that undici finished, nobody waits for it.
      client.destroy(error, noop)
    }
    this.discardSocket()
  }
}

// ---------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------

/** @internal */
export const makeService = (settings: Settings): Connector.Service => ({
  open: (target, events) => new NodeConnection(target, events, settings, target.tunnel === null ? dial : tunnelDial)
})

/** @internal */
export const make = (options: Options = {}): Effect.Effect<Connector.Service, Errors.ValueError> =>
  Effect.try({
    try: () => makeService(settingsOf(options)),
    catch: (error) =>
      error instanceof Errors.ValueError ? error : new Errors.ValueError({ message: messageOf(error) })
  })

/** @internal */
export const layer: Layer.Layer<Connector.Connector | ContentDecoder.ContentDecoder> = Layer.merge(
  Layer.sync(Connector.Connector, () => makeService(defaultSettings)),
  decoder.layer
)

/** @internal */
export const layerWith = (
  options: Options
): Layer.Layer<Connector.Connector | ContentDecoder.ContentDecoder, Errors.ValueError> =>
  Layer.merge(Layer.effect(Connector.Connector, make(options)), decoder.layer)
