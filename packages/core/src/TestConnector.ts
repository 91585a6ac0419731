/**
 * A `Connector` that plays origins in memory, for tests: no sockets, no ports, no real time.
 *
 * Routes matched by method, host and path answer with a status, headers and a body (text,
 * JSON, bytes, a `Stream`, or chunks with pauses between them), or with a fault: a refused
 * connection, a reset before the head or in the middle of the body, a stall, a truncated
 * body, a 408 on an idle connection, a dead keep-alive socket. Faults fail with the same
 * typed errors, and the same messages, as `NodeConnector`'s do on real sockets, so the pools
 * retry, replay and give up exactly as they would in production.
 *
 * The kit records every request that reaches an origin (method, URL, headers, body) and
 * counts the sockets it opened and closed, so a test can prove that a Scope closed
 * everything. Pauses, stalls, read and connect timeouts and keep-alive expiry follow Effect's
 * `Clock`: under `TestClock` a 30-second timeout takes no time at all. It is a Layer, as
 * undici's `MockAgent` and httpx's `MockTransport` are to theirs.
 *
 * @example
 * import { Effect, Layer } from "effect"
 * import { PoolManager, TestConnector } from "@httpool/core"
 *
 * const origin = TestConnector.layer([
 *   TestConnector.route("GET", "https://api.test/users/1", TestConnector.json({ id: 1, name: "Ada" })),
 *   TestConnector.route("GET", "https://api.test/down", TestConnector.refused)
 * ])
 *
 * const program = Effect.gen(function* () {
 *   const manager = yield* PoolManager.PoolManager
 *   const response = yield* manager.request("GET", "https://api.test/users/1")
 *   const kit = yield* TestConnector.TestConnector
 *   const [request] = yield* kit.requests
 *   return [response.status, request.url] // [200, "https://api.test/users/1"]
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(PoolManager.layer().pipe(Layer.provideMerge(origin)))))
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import type { Connector } from "./Connector.js"
import type * as ContentDecoder from "./ContentDecoder.js"
import type * as Headers from "./Headers.js"
import * as internal from "./internal/testConnector.js"

/** httpool's rule for times: a plain number is seconds; anything else is a `DurationInput`. */
const time = (input: Duration.DurationInput): Duration.DurationInput =>
  typeof input === "number" ? Duration.seconds(input) : input

const replyOptions = <O extends { readonly delay?: Duration.DurationInput }>(options: O | undefined): O | undefined =>
  options?.delay === undefined ? options : { ...options, delay: time(options.delay) }

const kitOptions = (options: Options | undefined): Options | undefined =>
  options?.keepAliveTimeout === undefined || options.keepAliveTimeout === null
    ? options
    : { ...options, keepAliveTimeout: time(options.keepAliveTimeout) }

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------

/**
 * A request as an origin of the kit received it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly method: string
  /**
   * The absolute URL of the resource asked for: `scheme://host[:port]/path?query`, the port
   * left out when it is the scheme's default. For a request forwarded to a proxy in absolute
   * form, the URL it named.
   */
  readonly url: string
  /** The request target as it went on the wire (origin-form, or absolute-form to a proxy). */
  readonly target: string
  /** Where the connection went: the origin, or the forwarding proxy. */
  readonly scheme: "http" | "https"
  readonly host: string
  readonly port: number
  /**
   * The header lines as sent, in order, with the framing the transport adds: a
   * `Content-Length` for a body of known length, `Transfer-Encoding: chunked` otherwise.
   */
  readonly headers: Headers.Headers
  /** The whole request body (empty when there was none). */
  readonly body: Uint8Array
  /** The body as UTF-8 text. */
  readonly text: string
  /** The socket that carried it: 1 for the first socket the kit opened, 2 for the next, ... */
  readonly socket: number
  /** Whether that socket had carried a request before. */
  readonly reused: boolean
}

/**
 * Sockets the kit has seen. `open` is `opened - closed`: 0 once every connection a program
 * opened has been closed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Sockets opened (connections that reached an origin). */
  readonly opened: number
  /** Sockets closed, by the client or by the origin. */
  readonly closed: number
  /** Sockets open now. */
  readonly open: number
  /** Connection attempts that failed (`refused`, `unresolvable`, `blackhole`). */
  readonly failedConnects: number
}

/**
 * A wait between two parts of a body, on Effect's `Clock`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pause {
  readonly _tag: "Pause"
  readonly duration: Duration.Duration
}

/**
 * The origin resets the connection (TCP RST): before the head, a `ProtocolError`
 * `Connection aborted. ([Errno 104] Connection reset by peer (ECONNRESET))`; in a body,
 * `Connection broken: [Errno 104] Connection reset by peer (ECONNRESET)`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reset {
  readonly _tag: "Reset"
}

/**
 * The origin closes the connection (TCP FIN): before the head, a `ProtocolError`
 * `Connection aborted. (Remote end closed connection without response)`; in a body,
 * `Connection broken: Response ended prematurely`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Close {
  readonly _tag: "Close"
}

/**
 * The origin goes silent and keeps the connection open: the request waits for the read
 * timeout (a `ReadTimeoutError`), the total timeout, or forever.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stall {
  readonly _tag: "Stall"
}

/**
 * The connection cannot be opened: refused (`NewConnectionError`), a host name that does not
 * resolve (`NameResolutionError`), or a peer that never answers (`ConnectTimeoutError` after
 * the connect timeout, or a wait forever without one).
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectFault {
  readonly _tag: "ConnectFault"
  readonly kind: "refused" | "unresolvable" | "blackhole"
}

/**
 * An idle keep-alive connection the origin has given up on, met by the next request sent on
 * it: `"closed"` (the origin closed it as the request went out: a `ProtocolError` before any
 * response byte) or `"408"` (the origin answered `408 Request Timeout` and closed it). These
 * only match a request that arrives on a reused socket, the only place they happen; the
 * pools send such a request again on a fresh connection.
 *
 * @since 0.1.0
 * @category models
 */
export interface StaleConnection {
  readonly _tag: "StaleConnection"
  readonly kind: "closed" | "408"
}

/**
 * One piece of a response body: bytes (text is sent as UTF-8), a pause, or a fault that cuts
 * the body there.
 *
 * @since 0.1.0
 * @category models
 */
export type Part = string | Uint8Array | Pause | Reset | Close | Stall

/**
 * A response body: parts sent in order, or a `Stream` (text chunks are sent as UTF-8; a
 * failing stream resets the connection).
 *
 * @since 0.1.0
 * @category models
 */
export type Body =
  | { readonly _tag: "Parts"; readonly parts: ReadonlyArray<Part>; readonly framing: "length" | "chunked" }
  | { readonly _tag: "Stream"; readonly stream: Stream.Stream<Uint8Array | string, unknown> }

/**
 * A response.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reply {
  readonly _tag: "Reply"
  readonly status: number
  readonly reason: string
  /** The headers as given; the kit adds `Content-Length` or `Transfer-Encoding` when they are absent. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>
  readonly body: Body
  /** Silence before the head arrives. */
  readonly delay: Duration.Duration | null
}

/**
 * An answer computed from the request (its headers and body are there to read).
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle {
  readonly _tag: "Handle"
  readonly handler: (request: RecordedRequest) => Answer | Effect.Effect<Answer>
}

/**
 * What a route answers.
 *
 * @since 0.1.0
 * @category models
 */
export type Answer = Reply | Handle | Reset | Close | Stall | ConnectFault | StaleConnection

/**
 * Which requests a route answers: `scheme`, `host` and `port` null for any; `path` an exact
 * path (the query is ignored unless the pattern has one), a prefix (ending with `*`), or a
 * RegExp tested against the whole URL.
 *
 * @since 0.1.0
 * @category models
 */
export interface Route {
  /** Upper-case, or `"*"` for any method. */
  readonly method: string
  readonly scheme: "http" | "https" | null
  readonly host: string | null
  readonly port: number | null
  readonly path: string | RegExp
  readonly answer: Answer
  /** How many requests this route answers before it stops matching; null: any number. */
  readonly times: number | null
}

/**
 * Options of {@link route}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RouteOptions {
  /** Answer this many requests, then let later routes match. Default: no limit. */
  readonly times?: number
}

/**
 * Options of the replies.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReplyOptions {
  /** Default 200 (302 for {@link redirect}). */
  readonly status?: number
  /** Default: the standard reason phrase of the status. */
  readonly reason?: string
  /** Added after the headers the reply sets itself (e.g. `Content-Type`), replacing them by name. */
  readonly headers?: Headers.Input
  /**
   * Silence before the head arrives (counts against the read timeout): a number of seconds
   * or any `Duration.DurationInput`. Default none.
   */
  readonly delay?: Duration.DurationInput
}

/**
 * Options of the kit.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The origins' idle keep-alive timeout: a socket idle this long is closed by the origin,
   * and the next request opens a new one. Replies then carry `Keep-Alive: timeout=<seconds>`.
   * A number of seconds or any `Duration.DurationInput`.
   * Default null: origins keep idle sockets open until the client closes them.
   */
  readonly keepAliveTimeout?: Duration.DurationInput | null
  /** The answer when no route matches. Default: a defect, {@link NoRouteError}, naming the request. */
  readonly fallback?: Answer
  /**
   * The `ContentDecoder` the layer provides. Default `ContentDecoder.identity` (bodies as they
   * were sent); `NodeContentDecoder.decoder` from `@httpool/node` decodes gzip, deflate, br.
   */
  readonly decoder?: ContentDecoder.Service
}

/**
 * The kit's side of a test: what its origins received and the sockets it counted.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Every request that reached an origin, oldest first. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  readonly stats: Effect.Effect<Stats>
  /** Forgets the recorded requests (the socket counts stay). */
  readonly clearRequests: Effect.Effect<void>
}

/**
 * The kit's Tag, provided by {@link layer} beside the `Connector` it plays.
 *
 * @since 0.1.0
 * @category tags
 */
export class TestConnector extends Context.Tag("@httpool/core/TestConnector")<TestConnector, Service>() {}

/**
 * The defect of a request no route matches (and no `fallback` answers): a mistake in the
 * test, reported with the request and the routes.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoRouteError extends Data.TaggedError("NoRouteError")<{
  readonly method: string
  readonly url: string
  readonly message: string
}> {}

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

/**
 * A route: `method` (`"*"` for any), and `url`, either a path on any origin (`"/users/1"`,
 * `"/users/*"` for a prefix, `"/search?q=x"` to match the query too), an absolute URL
 * (`"https://api.test/users/1"`; the port is the scheme's default unless written), or a
 * RegExp tested against the request's absolute URL. Routes are tried in order; the first
 * that matches answers.
 *
 * @example
 * import { TestConnector } from "@httpool/core"
 *
 * const routes = [
 *   TestConnector.route("POST", "https://api.test/items", TestConnector.json({ id: 7 }, { status: 201 })),
 *   TestConnector.route("GET", "/items/*", TestConnector.text("an item")),
 *   TestConnector.route("*", /\/flaky$/, TestConnector.reset, { times: 2 })
 * ]
 *
 * @since 0.1.0
 * @category constructors
 */
export const route: (method: string, url: string | RegExp, answer: Answer, options?: RouteOptions) => Route =
  internal.route

// ---------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------

/**
 * A reply with a UTF-8 text body (`Content-Type: text/plain; charset=utf-8`).
 *
 * @since 0.1.0
 * @category replies
 */
export const text = (body: string, options?: ReplyOptions): Reply => internal.text(body, replyOptions(options))

/**
 * A reply with a JSON body (`Content-Type: application/json`).
 *
 * @since 0.1.0
 * @category replies
 */
export const json = (value: unknown, options?: ReplyOptions): Reply => internal.json(value, replyOptions(options))

/**
 * A reply with a body of bytes (no Content-Type unless given).
 *
 * @since 0.1.0
 * @category replies
 */
export const bytes = (body: Uint8Array, options?: ReplyOptions): Reply => internal.bytes(body, replyOptions(options))

/**
 * A reply without a body, e.g. `status(204)`.
 *
 * @since 0.1.0
 * @category replies
 */
export const status = (status: number, options?: Omit<ReplyOptions, "status">): Reply =>
  internal.status(status, replyOptions(options))

/**
 * A redirect to `location` (default status 302).
 *
 * @since 0.1.0
 * @category replies
 */
export const redirect = (location: string, options?: ReplyOptions): Reply =>
  internal.redirect(location, replyOptions(options))

/**
 * A body sent piece by piece in chunked framing (unless a `Content-Length` header is given):
 * bytes, text, {@link pause}s between them, and {@link reset}, {@link close} or
 * {@link stall} to cut it.
 *
 * @example
 * import { TestConnector } from "@httpool/core"
 *
 * // "a", then 2 seconds of silence, then "b", then the origin resets the connection.
 * const flaky = TestConnector.chunks(["a", TestConnector.pause("2 seconds"), "b", TestConnector.reset])
 *
 * @since 0.1.0
 * @category replies
 */
export const chunks = (parts: ReadonlyArray<Part>, options?: ReplyOptions): Reply =>
  internal.chunks(parts, replyOptions(options))

/**
 * A body taken from a `Stream`, in chunked framing (unless a `Content-Length` header is
 * given). The stream runs as the client reads, on the client's fiber: its delays follow the
 * same `Clock`. A failing stream resets the connection.
 *
 * @since 0.1.0
 * @category replies
 */
export const stream = (body: Stream.Stream<Uint8Array | string, unknown>, options?: ReplyOptions): Reply =>
  internal.stream(body, replyOptions(options))

/**
 * A body cut short: the head declares the `Content-Length` of `body`, only its first `sent`
 * bytes go, then the origin closes the connection (`ProtocolError`
 * `Connection broken: Response ended prematurely`).
 *
 * @since 0.1.0
 * @category replies
 */
export const truncated = (body: string | Uint8Array, sent: number, options?: ReplyOptions): Reply =>
  internal.truncated(body, sent, replyOptions(options))

/**
 * An answer computed from the request. The handler may return an Effect (it runs on the
 * client's fiber, so its sleeps follow the same `Clock`).
 *
 * @example
 * import { TestConnector } from "@httpool/core"
 *
 * const echo = TestConnector.handle((request) =>
 *   TestConnector.json({ method: request.method, body: request.text })
 * )
 *
 * @since 0.1.0
 * @category replies
 */
export const handle: (handler: (request: RecordedRequest) => Answer | Effect.Effect<Answer>) => Handle = internal.handle

/**
 * Silence between two parts of a body.
 *
 * @since 0.1.0
 * @category parts
 */
export const pause = (duration: Duration.DurationInput): Pause => internal.pause(time(duration))

// ---------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------

/**
 * The connection is refused: `NewConnectionError`
 * `Failed to establish a new connection to host:port: [Errno 111] Connection refused (ECONNREFUSED)`.
 *
 * @since 0.1.0
 * @category faults
 */
export const refused: ConnectFault = internal.refused

/**
 * The host name does not resolve: `NameResolutionError`
 * `Failed to resolve 'host' (ENOTFOUND: Unknown node or service)`.
 *
 * @since 0.1.0
 * @category faults
 */
export const unresolvable: ConnectFault = internal.unresolvable

/**
 * Nothing answers the connection attempt: `ConnectTimeoutError` after the connect timeout
 * (`Connection to host timed out. (connect timeout=2)`), or a wait forever without one.
 *
 * @since 0.1.0
 * @category faults
 */
export const blackhole: ConnectFault = internal.blackhole

/**
 * A connection reset, before the head (as an answer) or in a body (as a part).
 *
 * @since 0.1.0
 * @category faults
 */
export const reset: Reset = internal.reset

/**
 * The origin closes the connection, before the head (as an answer) or in a body (as a part).
 *
 * @since 0.1.0
 * @category faults
 */
export const close: Close = internal.close

/**
 * The origin goes silent, before the head (as an answer) or in a body (as a part).
 *
 * @since 0.1.0
 * @category faults
 */
export const stall: Stall = internal.stall

/**
 * A dead keep-alive socket: the origin closed the idle connection just as the request went
 * out on it. Matches only requests on a reused socket; the pools replay an idempotent
 * request (or one not written yet) on a fresh connection.
 *
 * @since 0.1.0
 * @category faults
 */
export const deadKeepAlive: StaleConnection = internal.deadKeepAlive

/**
 * A `408 Request Timeout` on an idle connection, which the origin then closes. Matches only
 * requests on a reused socket; the pools send the request again on a fresh connection.
 *
 * @since 0.1.0
 * @category faults
 */
export const idle408: StaleConnection = internal.idle408

// ---------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------

/**
 * Builds the kit: the `Connector` that plays the routes, and its own service. The kit reads
 * Effect's `Clock` when it is made, for keep-alive expiry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  routes: ReadonlyArray<Route>,
  options?: Options
): Effect.Effect<{ readonly connector: Connector["Type"]; readonly kit: Service }> =>
  internal.make(routes, kitOptions(options))

/**
 * The kit as a Layer: a `Connector` playing `routes`, a `ContentDecoder` (identity unless
 * `options.decoder`), and the `TestConnector` service to read what happened. Provide it
 * where a program expects `NodeConnector.layer`.
 *
 * @example
 * import { Effect, Layer } from "effect"
 * import { HttpClient, PoolManager, TestConnector } from "@httpool/core"
 * import * as PlatformHttpClient from "@effect/platform/HttpClient"
 *
 * const origin = TestConnector.layer([TestConnector.route("GET", "/hello", TestConnector.text("hi"))])
 * const client = HttpClient.layer().pipe(Layer.provide(PoolManager.layer()), Layer.provideMerge(origin))
 *
 * const program = Effect.gen(function* () {
 *   const response = yield* PlatformHttpClient.get("http://example.test/hello")
 *   return yield* response.text // "hi"
 * })
 * Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(client)))
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  routes: ReadonlyArray<Route>,
  options?: Options
): Layer.Layer<TestConnector | Connector | ContentDecoder.ContentDecoder> => internal.layer(routes, kitOptions(options))
