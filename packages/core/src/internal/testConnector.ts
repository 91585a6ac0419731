import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Connector from "../Connector.js"
import * as ContentDecoder from "../ContentDecoder.js"
import {
  ConnectTimeoutError,
  type HttpoolError,
  NameResolutionError,
  NewConnectionError,
  ProtocolError,
  ReadTimeoutError
} from "../Errors.js"
import * as Headers from "../Headers.js"
import * as TestConnector from "../TestConnector.js"

// Public module values (the Tag, NoRouteError) are only read inside functions: this module and
// the public one import each other.

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

const encoder = new TextEncoder()
const utf8 = new TextDecoder("utf-8")
const EMPTY = new Uint8Array(0)

const REASONS: Readonly<Record<number, string>> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  422: "Unprocessable Entity",
  425: "Too Early",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout"
}

const pairsOf = (input: Headers.Input): Array<readonly [string, string]> => [...Headers.unsafeFromInput(input)]

const hasHeader = (headers: ReadonlyArray<readonly [string, string]>, name: string): boolean =>
  headers.some(([n]) => n.toLowerCase() === name)

const headerValue = (headers: ReadonlyArray<readonly [string, string]>, name: string): string | undefined =>
  headers.find(([n]) => n.toLowerCase() === name)?.[1]

/** The reply's own headers, then the caller's, which replace them by name. */
const withHeaders = (
  own: ReadonlyArray<readonly [string, string]>,
  given: Headers.Input
): ReadonlyArray<readonly [string, string]> => {
  const extra = pairsOf(given)
  if (extra.length === 0) return own
  const names = new Set(extra.map(([name]) => name.toLowerCase()))
  return [...own.filter(([name]) => !names.has(name.toLowerCase())), ...extra]
}

const makeReply = (
  own: ReadonlyArray<readonly [string, string]>,
  body: TestConnector.Body,
  options: TestConnector.ReplyOptions,
  defaultStatus = 200
): TestConnector.Reply => {
  const status = options.status ?? defaultStatus
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`TestConnector: a status must be an integer from 100 to 999, got ${status}`)
  }
  return {
    _tag: "Reply",
    status,
    reason: options.reason ?? REASONS[status] ?? "",
    headers: withHeaders(own, options.headers),
    body,
    delay: options.delay === undefined ? null : Duration.decode(options.delay)
  }
}

const lengthBody = (bytes: Uint8Array): TestConnector.Body => ({ _tag: "Parts", parts: [bytes], framing: "length" })

/** @internal */
export const text = (body: string, options: TestConnector.ReplyOptions = {}): TestConnector.Reply =>
  makeReply([["Content-Type", "text/plain; charset=utf-8"]], lengthBody(encoder.encode(body)), options)

/** @internal */
export const json = (value: unknown, options: TestConnector.ReplyOptions = {}): TestConnector.Reply =>
  makeReply([["Content-Type", "application/json"]], lengthBody(encoder.encode(JSON.stringify(value))), options)

/** @internal */
export const bytes = (body: Uint8Array, options: TestConnector.ReplyOptions = {}): TestConnector.Reply =>
  makeReply([], lengthBody(body), options)

/** @internal */
export const status = (code: number, options: Omit<TestConnector.ReplyOptions, "status"> = {}): TestConnector.Reply =>
  makeReply([], lengthBody(EMPTY), { ...options, status: code })

/** @internal */
export const redirect = (location: string, options: TestConnector.ReplyOptions = {}): TestConnector.Reply =>
  makeReply([["Location", location]], lengthBody(EMPTY), options, 302)

/** @internal */
export const chunks = (
  parts: ReadonlyArray<TestConnector.Part>,
  options: TestConnector.ReplyOptions = {}
): TestConnector.Reply => makeReply([], { _tag: "Parts", parts, framing: "chunked" }, options)

/** @internal */
export const stream = (
  body: Stream.Stream<Uint8Array | string, unknown>,
  options: TestConnector.ReplyOptions = {}
): TestConnector.Reply => makeReply([], { _tag: "Stream", stream: body }, options)

/** @internal */
export const truncated = (
  body: string | Uint8Array,
  sent: number,
  options: TestConnector.ReplyOptions = {}
): TestConnector.Reply => {
  const all = typeof body === "string" ? encoder.encode(body) : body
  const cut = Math.max(0, Math.min(all.length, Math.floor(sent)))
  return makeReply(
    [["Content-Length", String(all.length)]],
    { _tag: "Parts", parts: [all.subarray(0, cut), close], framing: "length" },
    options
  )
}

/** @internal */
export const handle = (
  handler: (request: TestConnector.RecordedRequest) => TestConnector.Answer | Effect.Effect<TestConnector.Answer>
): TestConnector.Handle => ({ _tag: "Handle", handler })

/** @internal */
export const pause = (duration: Duration.DurationInput): TestConnector.Pause => ({
  _tag: "Pause",
  duration: Duration.decode(duration)
})

/** @internal */
export const refused: TestConnector.ConnectFault = { _tag: "ConnectFault", kind: "refused" }
/** @internal */
export const unresolvable: TestConnector.ConnectFault = { _tag: "ConnectFault", kind: "unresolvable" }
/** @internal */
export const blackhole: TestConnector.ConnectFault = { _tag: "ConnectFault", kind: "blackhole" }
/** @internal */
export const reset: TestConnector.Reset = { _tag: "Reset" }
/** @internal */
export const close: TestConnector.Close = { _tag: "Close" }
/** @internal */
export const stall: TestConnector.Stall = { _tag: "Stall" }
/** @internal */
export const deadKeepAlive: TestConnector.StaleConnection = { _tag: "StaleConnection", kind: "closed" }
/** @internal */
export const idle408: TestConnector.StaleConnection = { _tag: "StaleConnection", kind: "408" }

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

const defaultPortOf = (scheme: string): number => (scheme === "https" ? 443 : 80)

const ABSOLUTE = /^(https?):\/\/(\[[^\]]*\]|[^/?#:]*)(?::(\d+))?([^#]*)/i

/** @internal */
export const route = (
  method: string,
  url: string | RegExp,
  answer: TestConnector.Answer,
  options: TestConnector.RouteOptions = {}
): TestConnector.Route => {
  const times = options.times ?? null
  if (times !== null && (!Number.isInteger(times) || times < 1)) {
    throw new RangeError(`TestConnector.route: times must be a positive integer, got ${times}`)
  }
  const base = { method: method.toUpperCase(), answer, times }
  if (typeof url !== "string") return { ...base, scheme: null, host: null, port: null, path: url }
  if (url.startsWith("/")) return { ...base, scheme: null, host: null, port: null, path: url }
  const parsed = ABSOLUTE.exec(url)
  if (parsed === null) {
    throw new TypeError(`TestConnector.route: ${JSON.stringify(url)} is neither a path nor an http(s) URL`)
  }
  const scheme = parsed[1]!.toLowerCase() as "http" | "https"
  const rawHost = parsed[2]!.toLowerCase()
  const host = rawHost.startsWith("[") ? rawHost.slice(1, -1) : rawHost
  const port = parsed[3] === undefined ? defaultPortOf(scheme) : Number(parsed[3])
  const path = parsed[4] === "" ? "/" : parsed[4]!
  return { ...base, scheme, host, port, path }
}

/** Where a request went and what it asked for, as routes see it. */
interface Asked {
  readonly method: string
  readonly scheme: "http" | "https"
  readonly host: string
  readonly port: number
  /** Path and query. */
  readonly path: string
  readonly url: string
}

const formatUrl = (scheme: string, host: string, port: number, path: string): string =>
  `${scheme}://${host.includes(":") ? `[${host}]` : host}${port === defaultPortOf(scheme) ? "" : `:${port}`}${path}`

/** The resource a request names: an absolute-form target (to a forward proxy) names its own origin. */
const askedOf = (target: Connector.ConnectionTarget, request: Connector.WireRequest): Asked => {
  const absolute = ABSOLUTE.exec(request.path)
  if (absolute !== null) {
    const scheme = absolute[1]!.toLowerCase() as "http" | "https"
    const rawHost = absolute[2]!.toLowerCase()
    const host = rawHost.startsWith("[") ? rawHost.slice(1, -1) : rawHost
    const port = absolute[3] === undefined ? defaultPortOf(scheme) : Number(absolute[3])
    const path = absolute[4] === "" ? "/" : absolute[4]!
    return { method: request.method, scheme, host, port, path, url: formatUrl(scheme, host, port, path) }
  }
  const host = target.host.toLowerCase()
  return {
    method: request.method,
    scheme: target.scheme,
    host,
    port: target.port,
    path: request.path,
    url: formatUrl(target.scheme, host, target.port, request.path)
  }
}

const pathMatches = (pattern: string | RegExp, asked: Asked): boolean => {
  if (typeof pattern !== "string") {
    pattern.lastIndex = 0
    return pattern.test(asked.url)
  }
  const subject = pattern.includes("?") ? asked.path : asked.path.split("?")[0]!
  return pattern.endsWith("*") ? subject.startsWith(pattern.slice(0, -1)) : subject === pattern
}

const routeMatches = (route: TestConnector.Route, asked: Asked, reused: boolean): boolean =>
  (route.method === "*" || route.method === asked.method.toUpperCase()) &&
  (route.scheme === null || route.scheme === asked.scheme) &&
  (route.host === null || route.host === asked.host) &&
  (route.port === null || route.port === asked.port) &&
  // A stale connection can only be met on a reused socket.
  (route.answer._tag !== "StaleConnection" || reused) &&
  pathMatches(route.path, asked)

const describeRoute = (route: TestConnector.Route): string => {
  const where =
    route.host === null
      ? String(route.path)
      : typeof route.path === "string"
        ? formatUrl(route.scheme ?? "http", route.host, route.port ?? 80, route.path)
        : String(route.path)
  return `${route.method} ${where}${route.times === null ? "" : ` (times: ${route.times})`}`
}

// ---------------------------------------------------------------------------
// Errors, as NodeConnector maps them
// ---------------------------------------------------------------------------

const hostPort = (host: string, port: number): string => `${host.includes(":") ? `[${host}]` : host}:${port}`

const seconds = (millis: number): string => String(millis / 1000)

const failure = (error: HttpoolError, requestSent: boolean, responseStarted: boolean) =>
  new Connector.SendFailure({ error, requestSent, responseStarted })

const refusedError = (target: Connector.ConnectionTarget) =>
  new NewConnectionError({
    message: `Failed to establish a new connection to ${hostPort(target.host, target.port)}: [Errno 111] Connection refused (ECONNREFUSED)`
  })

const unresolvableError = (target: Connector.ConnectionTarget) =>
  new NameResolutionError({ host: target.host, reason: "ENOTFOUND: Unknown node or service" })

const connectTimeoutError = (target: Connector.ConnectionTarget, millis: number) =>
  new ConnectTimeoutError({ message: `Connection to ${target.host} timed out. (connect timeout=${seconds(millis)})` })

const resetError = (responseStarted: boolean) =>
  new ProtocolError({
    message: responseStarted
      ? "Connection broken: [Errno 104] Connection reset by peer (ECONNRESET)"
      : "Connection aborted. ([Errno 104] Connection reset by peer (ECONNRESET))"
  })

const closedByPeerError = (responseStarted: boolean) =>
  new ProtocolError({
    message: responseStarted
      ? "Connection broken: Response ended prematurely"
      : "Connection aborted. (Remote end closed connection without response)"
  })

const closedError = () => new ProtocolError({ message: "Connection aborted. (the connection was closed)" })

const abortedError = () => new ProtocolError({ message: "Connection broken: the response was aborted before its end" })

const readTimeoutError = (request: Connector.WireRequest, millis: number) =>
  new ReadTimeoutError({ pool: null, url: request.path, reason: `Read timed out. (read timeout=${seconds(millis)})` })

// ---------------------------------------------------------------------------
// The kit
// ---------------------------------------------------------------------------

/** One socket of a connection, as the origin sees it. */
interface Socket {
  readonly id: number
  readonly connection: KitConnection
  /** Requests it has carried to their end. */
  uses: number
  /** When it last became idle (Clock milliseconds); null while it carries a request. */
  idleSince: number | null
  open: boolean
  /** Fails with the reason the socket was closed, once it is. */
  readonly closed: Deferred.Deferred<never, HttpoolError>
}

interface Counters {
  opened: number
  closed: number
  failedConnects: number
}

/** The state shared by every connection of one kit. */
class Kit {
  readonly requests: Array<TestConnector.RecordedRequest> = []
  readonly counters: Counters = { opened: 0, closed: 0, failedConnects: 0 }
  readonly openSockets = new Set<Socket>()
  private readonly remaining: Array<number | null>

  constructor(
    readonly routes: ReadonlyArray<TestConnector.Route>,
    readonly fallback: TestConnector.Answer | null,
    readonly keepAliveMillis: number | null,
    readonly clock: Clock.Clock
  ) {
    this.remaining = routes.map((route) => route.times)
  }

  now(): number {
    return this.clock.unsafeCurrentTimeMillis()
  }

  /** The first route that matches, its use counted; null when none does. */
  match(asked: Asked, reused: boolean): TestConnector.Answer | null {
    for (let i = 0; i < this.routes.length; i++) {
      const left = this.remaining[i]
      if (left === 0) continue
      const route = this.routes[i]!
      if (!routeMatches(route, asked, reused)) continue
      if (left !== null && left !== undefined) this.remaining[i] = left - 1
      return route.answer
    }
    return this.fallback
  }

  noRoute(asked: Asked): TestConnector.NoRouteError {
    const routes = this.routes.map(
      (route, i) => `  ${describeRoute(route)}${this.remaining[i] === 0 ? " [used up]" : ""}`
    )
    return new TestConnector.NoRouteError({
      method: asked.method,
      url: asked.url,
      message: `TestConnector: no route for ${asked.method} ${asked.url}; the routes are:\n${routes.length === 0 ? "  (none)" : routes.join("\n")}`
    })
  }

  openSocket(connection: KitConnection): Socket {
    const socket: Socket = {
      id: ++this.counters.opened,
      connection,
      uses: 0,
      idleSince: null,
      open: true,
      closed: Deferred.unsafeMake(FiberId.none)
    }
    this.openSockets.add(socket)
    return socket
  }

  closeSocket(socket: Socket, reason: HttpoolError): void {
    if (!socket.open) return
    socket.open = false
    this.counters.closed++
    this.openSockets.delete(socket)
    Deferred.unsafeDone(socket.closed, Exit.fail(reason))
    socket.connection.forget(socket)
  }

  /** Closes `socket` if it has been idle past the keep-alive timeout. */
  expire(socket: Socket): void {
    if (this.keepAliveMillis === null || socket.idleSince === null || !socket.open) return
    if (this.now() - socket.idleSince >= this.keepAliveMillis) this.closeSocket(socket, closedError())
  }

  stats(): TestConnector.Stats {
    for (const socket of [...this.openSockets]) this.expire(socket)
    const { opened, closed, failedConnects } = this.counters
    return { opened, closed, open: opened - closed, failedConnects }
  }
}

let nextConnectionId = 0

/** The wire view of a request's headers plus the framing the transport adds. */
const recordedHeaders = (request: Connector.WireRequest, body: Uint8Array): Headers.Headers => {
  const pairs: Array<readonly [string, string]> = []
  let framed = false
  for (let i = 0; i < request.headers.length; i += 2) {
    const name = request.headers[i]!
    const lower = name.toLowerCase()
    if (lower === "content-length" || lower === "transfer-encoding") framed = true
    pairs.push([name, request.headers[i + 1] ?? ""])
  }
  if (!framed && request.body !== null) {
    const iterable = typeof request.body !== "string" && !(request.body instanceof Uint8Array)
    pairs.push(iterable ? ["Transfer-Encoding", "chunked"] : ["Content-Length", String(body.length)])
  }
  return Headers.unsafeFromInput(pairs)
}

const isAsyncIterable = (u: unknown): u is AsyncIterable<Uint8Array> =>
  typeof u === "object" && u !== null && Symbol.asyncIterator in u

/** Reads a request body to its end. */
const readRequestBody = (body: Connector.WireRequest["body"]): Effect.Effect<Uint8Array, HttpoolError> => {
  if (body === null) return Effect.succeed(EMPTY)
  if (typeof body === "string") return Effect.succeed(encoder.encode(body))
  if (body instanceof Uint8Array) return Effect.succeed(body)
  if (!isAsyncIterable(body)) return Effect.succeed(EMPTY)
  return Effect.tryPromise({
    try: async () => {
      const parts: Array<Uint8Array> = []
      let length = 0
      for await (const chunk of body) {
        parts.push(chunk)
        length += chunk.length
      }
      return concat(parts, length)
    },
    catch: (cause) =>
      new ProtocolError({
        message: `Connection aborted. (${cause instanceof Error ? cause.message : String(cause)})`,
        cause
      })
  })
}

const concat = (parts: ReadonlyArray<Uint8Array>, length: number): Uint8Array => {
  if (parts.length === 1) return parts[0]!
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

const NO_BODY_STATUSES: ReadonlySet<number> = new Set([204, 304])

const wantsClose = (value: string | undefined): boolean =>
  value?.split(",").some((token) => token.trim().toLowerCase() === "close") === true

/** One exchange in progress: the body a reply still has to send, read as the client asks. */
class Exchange {
  responseStarted = false
  private index = 0
  private sent = 0
  private done = false
  private pull: Effect.Effect<Uint8Array | null, HttpoolError> | null = null
  private streamScope: Scope.CloseableScope | null = null
  private pending: Array<Uint8Array> = []

  constructor(
    private readonly kit: Kit,
    private readonly socket: Socket,
    private readonly request: Connector.WireRequest,
    private readonly reply: TestConnector.Reply,
    private readonly declared: number | null,
    private readonly closeAfter: boolean
  ) {}

  /** Waits on `effect` while the socket lives, within the read timeout (silence). */
  guard<A>(effect: Effect.Effect<A, HttpoolError>): Effect.Effect<A, Connector.SendFailure> {
    const readTimeout = this.request.readTimeout
    const timed =
      readTimeout === null
        ? effect
        : Effect.timeoutFail(effect, {
            duration: Duration.millis(Math.max(1, Math.ceil(readTimeout))),
            onTimeout: () => {
              const error = readTimeoutError(this.request, readTimeout)
              this.kit.closeSocket(this.socket, error)
              return error
            }
          })
    const killed = Deferred.await(this.socket.closed)
    return Effect.raceFirst(timed, killed).pipe(Effect.mapError((error) => failure(error, true, this.responseStarted)))
  }

  /**
   * The next chunk of the body, or null at its end. The exchange finishes (and may close its
   * socket) only once the guard is left: a socket closed inside it would race the result.
   */
  readonly next: Effect.Effect<Uint8Array | null, Connector.SendFailure> = Effect.suspend(() => {
    if (this.done) return Effect.succeed(null)
    if (!this.socket.open) return Effect.fail(failure(closedError(), true, true))
    return Effect.tap(this.guard(this.step()), (chunk) =>
      chunk === null ? Effect.sync(() => this.finish()) : Effect.void
    )
  })

  private step(): Effect.Effect<Uint8Array | null, HttpoolError> {
    return Effect.suspend(() => {
      const body = this.reply.body
      if (body._tag === "Stream") return this.streamStep(body.stream)
      const parts = body.parts
      while (this.index < parts.length) {
        const part = parts[this.index++]!
        if (typeof part === "string" || part instanceof Uint8Array) {
          const bytes = typeof part === "string" ? encoder.encode(part) : part
          if (bytes.length === 0) continue
          this.sent += bytes.length
          return Effect.succeed(bytes)
        }
        switch (part._tag) {
          case "Pause":
            return Effect.zipRight(Effect.sleep(part.duration), this.step())
          case "Reset":
            return this.cut(resetError(true))
          case "Close":
            return this.cut(closedByPeerError(true))
          case "Stall":
            return Effect.never
        }
      }
      return this.end()
    })
  }

  private streamStep(
    stream: Stream.Stream<Uint8Array | string, unknown>
  ): Effect.Effect<Uint8Array | null, HttpoolError> {
    const queued = this.pending.shift()
    if (queued !== undefined) {
      this.sent += queued.length
      return Effect.succeed(queued)
    }
    if (this.pull === null) {
      const scope = Effect.runSync(Scope.make())
      this.streamScope = scope
      const pull = Effect.runSync(Scope.extend(Stream.toPull(stream), scope))
      this.pull = pull.pipe(
        Effect.matchEffect({
          onFailure: (error) => (Option.isNone(error) ? Effect.succeed(null) : this.cut(resetError(true))),
          onSuccess: (chunk) => {
            for (const item of chunk) {
              const bytes = typeof item === "string" ? encoder.encode(item) : item
              if (bytes.length > 0) this.pending.push(bytes)
            }
            return Effect.succeed(EMPTY)
          }
        }),
        Effect.catchAllDefect(() => this.cut(resetError(true)))
      )
    }
    return Effect.flatMap(this.pull, (result) => (result === null ? this.end() : this.streamStep(stream)))
  }

  /** The origin cuts the body with `error` and closes the socket. */
  private cut(error: HttpoolError): Effect.Effect<never, HttpoolError> {
    return Effect.suspend(() => {
      this.finishStream()
      this.kit.closeSocket(this.socket, error)
      return Effect.fail(error)
    })
  }

  /** The body's parts have all gone: short of its Content-Length, the origin closes. */
  private end(): Effect.Effect<null, HttpoolError> {
    if (this.declared !== null && this.sent < this.declared) return this.cut(closedByPeerError(true))
    this.finishStream()
    return Effect.succeed(null)
  }

  /** The exchange is over: the socket goes idle, or closes when either side asked. */
  finish(): void {
    if (this.done) return
    this.done = true
    this.finishStream()
    const socket = this.socket
    socket.uses++
    if (this.closeAfter) {
      this.kit.closeSocket(socket, closedError())
    } else {
      socket.idleSince = this.kit.now()
    }
  }

  private finishStream(): void {
    const scope = this.streamScope
    this.streamScope = null
    if (scope !== null) Effect.runFork(Scope.close(scope, Exit.void))
  }

  /** `WireResponse.abort`: the client stops reading; the socket is never reused. */
  readonly abort: Effect.Effect<void> = Effect.sync(() => {
    this.done = true
    this.finishStream()
    if (this.socket.connection.current() === this.socket) this.kit.closeSocket(this.socket, abortedError())
  })
}

/** @internal */
class KitConnection implements Connector.Connection {
  readonly id = ++nextConnectionId
  private socket: Socket | null = null
  private closedForGood = false

  constructor(
    private readonly kit: Kit,
    readonly target: Connector.ConnectionTarget,
    private readonly events: Connector.ConnectionEvents
  ) {}

  current(): Socket | null {
    return this.socket
  }

  forget(socket: Socket): void {
    if (this.socket === socket) this.socket = null
  }

  readonly isConnected = (): boolean => {
    const socket = this.socket
    if (socket === null) return false
    this.kit.expire(socket)
    return socket.open
  }

  readonly remoteAddress = (): string | null => (this.socket === null ? null : this.target.host)

  readonly close: Effect.Effect<void> = Effect.sync(() => {
    this.closedForGood = true
    const socket = this.socket
    if (socket !== null) this.kit.closeSocket(socket, closedError())
  })

  readonly send = (request: Connector.WireRequest): Effect.Effect<Connector.WireResponse, Connector.SendFailure> =>
    Effect.suspend(() => {
      if (this.closedForGood) return Effect.fail(failure(closedError(), false, false))
      const kit = this.kit
      if (this.socket !== null) kit.expire(this.socket)
      const reused = this.socket !== null
      const asked = askedOf(this.target, request)
      const answer = kit.match(asked, reused)
      if (answer === null) return Effect.die(kit.noRoute(asked))
      if (answer._tag === "ConnectFault") return this.connectFault(answer, request)
      const socket = this.socket ?? this.connect()
      socket.idleSince = null
      const exchange = this.exchange(socket, request, asked, answer)
      return Effect.onInterrupt(exchange, () =>
        Effect.sync(() =>
          kit.closeSocket(socket, new ProtocolError({ message: "Connection aborted. (the request was interrupted)" }))
        )
      )
    })

  private connect(): Socket {
    this.events.onSocket()
    const socket = this.kit.openSocket(this)
    this.socket = socket
    return socket
  }

  private connectFault(
    fault: TestConnector.ConnectFault,
    request: Connector.WireRequest
  ): Effect.Effect<never, Connector.SendFailure> {
    // An origin that went away takes its open sockets with it.
    if (this.socket !== null) this.kit.closeSocket(this.socket, closedError())
    this.events.onSocket()
    this.kit.counters.failedConnects++
    const target = this.target
    switch (fault.kind) {
      case "refused":
        return Effect.fail(failure(refusedError(target), false, false))
      case "unresolvable":
        return Effect.fail(failure(unresolvableError(target), false, false))
      case "blackhole": {
        const timeout = request.connectTimeout === undefined ? target.connectTimeout : request.connectTimeout
        if (timeout === null) return Effect.never
        const millis = Math.max(1, Math.ceil(timeout))
        return Effect.zipRight(
          Effect.sleep(Duration.millis(millis)),
          Effect.fail(failure(connectTimeoutError(target, timeout), false, false))
        )
      }
    }
  }

  private exchange(
    socket: Socket,
    request: Connector.WireRequest,
    asked: Asked,
    first: TestConnector.Answer
  ): Effect.Effect<Connector.WireResponse, Connector.SendFailure> {
    const kit = this.kit
    const target = this.target
    return Effect.gen(function* () {
      if (first._tag === "StaleConnection" && first.kind === "closed") {
        // Closed by the origin before the request arrived: nothing was received.
        kit.closeSocket(socket, closedByPeerError(false))
        return yield* Effect.fail(failure(closedByPeerError(false), true, false))
      }
      const body = yield* Effect.raceFirst(readRequestBody(request.body), Deferred.await(socket.closed)).pipe(
        Effect.mapError((error) => failure(error, true, false))
      )
      const recorded: TestConnector.RecordedRequest = {
        method: request.method,
        url: asked.url,
        target: request.path,
        scheme: target.scheme,
        host: target.host,
        port: target.port,
        headers: recordedHeaders(request, body),
        body,
        text: utf8.decode(body),
        socket: socket.id,
        reused: socket.uses > 0
      }
      kit.requests.push(recorded)
      let answer = first
      while (answer._tag === "Handle") {
        const given = answer.handler(recorded)
        answer = Effect.isEffect(given) ? yield* given : given
      }
      switch (answer._tag) {
        case "ConnectFault":
          return yield* Effect.die(
            new TypeError("TestConnector: a handler cannot answer with a connect fault (the connection is open)")
          )
        case "Reset":
          kit.closeSocket(socket, resetError(false))
          return yield* Effect.fail(failure(resetError(false), true, false))
        case "Close":
          kit.closeSocket(socket, closedByPeerError(false))
          return yield* Effect.fail(failure(closedByPeerError(false), true, false))
        case "StaleConnection":
          return yield* respond(kit, socket, request, status(408, { headers: { Connection: "close" } }))
        case "Stall":
          return yield* respond(kit, socket, request, null)
        case "Reply":
          return yield* respond(kit, socket, request, answer)
      }
    })
  }
}

const silentReply: TestConnector.Reply = status(200)

const byteLength = (parts: ReadonlyArray<TestConnector.Part>): number => {
  let length = 0
  for (const part of parts) {
    if (typeof part === "string") length += encoder.encode(part).length
    else if (part instanceof Uint8Array) length += part.length
  }
  return length
}

const flatten = (headers: ReadonlyArray<readonly [string, string]>): Array<string> => {
  const out: Array<string> = []
  for (const [name, value] of headers) out.push(name, value)
  return out
}

/** The origin answers `reply` (null: it never answers) on `socket`. */
const respond = (
  kit: Kit,
  socket: Socket,
  request: Connector.WireRequest,
  reply: TestConnector.Reply | null
): Effect.Effect<Connector.WireResponse, Connector.SendFailure> => {
  if (reply === null) {
    return new Exchange(kit, socket, request, silentReply, null, false).guard(Effect.never)
  }
  const bodiless = request.method === "HEAD" || reply.status < 200 || NO_BODY_STATUSES.has(reply.status)
  const headers = [...reply.headers]
  const body = reply.body
  const given = headerValue(headers, "content-length")
  let declared = given === undefined ? null : Number(given)
  if (declared !== null && !(Number.isSafeInteger(declared) && declared >= 0)) declared = null
  if (
    given === undefined &&
    !hasHeader(headers, "transfer-encoding") &&
    reply.status >= 200 &&
    !NO_BODY_STATUSES.has(reply.status)
  ) {
    if (body._tag === "Parts" && body.framing === "length") {
      declared = byteLength(body.parts)
      headers.push(["Content-Length", String(declared)])
    } else {
      headers.push(["Transfer-Encoding", "chunked"])
    }
  }
  const closeAfter = wantsClose(headerValue(headers, "connection")) || wantsClose(requestHeader(request, "connection"))
  if (kit.keepAliveMillis !== null && !closeAfter && !hasHeader(headers, "keep-alive")) {
    headers.push(["Keep-Alive", `timeout=${Math.floor(kit.keepAliveMillis / 1000)}`])
  }
  const exchange = new Exchange(
    kit,
    socket,
    request,
    bodiless ? silentReply : reply,
    bodiless ? null : declared,
    closeAfter
  )
  const delayed = reply.delay === null ? Effect.void : exchange.guard(Effect.sleep(reply.delay))
  return Effect.flatMap(delayed, () => {
    exchange.responseStarted = true
    const head = { status: reply.status, reason: reply.reason, headers: flatten(headers) }
    if (bodiless) {
      exchange.finish()
      return Effect.succeed<Connector.WireResponse>({
        ...head,
        body: request.preload ? EMPTY : null,
        read: endOfBody,
        abort: Effect.void
      })
    }
    if (!request.preload) {
      return Effect.succeed<Connector.WireResponse>({ ...head, body: null, read: exchange.next, abort: exchange.abort })
    }
    return Effect.map(readAll(exchange), (data) => ({ ...head, body: data, read: endOfBody, abort: Effect.void }))
  })
}

const endOfBody: Effect.Effect<null> = Effect.succeed(null)

const requestHeader = (request: Connector.WireRequest, name: string): string | undefined => {
  for (let i = 0; i < request.headers.length; i += 2) {
    if (request.headers[i]!.toLowerCase() === name) return request.headers[i + 1]
  }
  return undefined
}

const readAll = (exchange: Exchange): Effect.Effect<Uint8Array, Connector.SendFailure> =>
  Effect.gen(function* () {
    const parts: Array<Uint8Array> = []
    let length = 0
    for (;;) {
      const chunk = yield* exchange.next
      if (chunk === null) return length === 0 ? EMPTY : concat(parts, length)
      parts.push(chunk)
      length += chunk.length
    }
  })

// ---------------------------------------------------------------------------
// Constructors
// ---------------------------------------------------------------------------

/** @internal */
export const make = (
  routes: ReadonlyArray<TestConnector.Route>,
  options: TestConnector.Options = {}
): Effect.Effect<{ readonly connector: Connector.Service; readonly kit: TestConnector.Service }> =>
  Effect.map(Effect.clock, (clock) => {
    const keepAlive =
      options.keepAliveTimeout === undefined || options.keepAliveTimeout === null
        ? null
        : Duration.toMillis(Duration.decode(options.keepAliveTimeout))
    const kit = new Kit(routes, options.fallback ?? null, keepAlive, clock)
    const connector: Connector.Service = {
      open: (target, events) => new KitConnection(kit, target, events)
    }
    const service: TestConnector.Service = {
      requests: Effect.sync(() => kit.requests.slice()),
      stats: Effect.sync(() => kit.stats()),
      clearRequests: Effect.sync(() => {
        kit.requests.length = 0
      })
    }
    return { connector, kit: service }
  })

/** @internal */
export const layer = (
  routes: ReadonlyArray<TestConnector.Route>,
  options: TestConnector.Options = {}
): Layer.Layer<TestConnector.TestConnector | Connector.Connector | ContentDecoder.ContentDecoder> =>
  Layer.effectContext(
    Effect.map(make(routes, options), ({ connector, kit }) =>
      Context.make(TestConnector.TestConnector, kit).pipe(
        Context.add(Connector.Connector, connector),
        Context.add(ContentDecoder.ContentDecoder, options.decoder ?? ContentDecoder.identity)
      )
    )
  )
