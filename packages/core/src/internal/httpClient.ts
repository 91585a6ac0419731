import * as Cookies from "@effect/platform/Cookies"
import * as PlatformHeaders from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as PlatformHttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as FiberId from "effect/FiberId"
import { globalValue } from "effect/GlobalValue"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import type * as ConnectionPool from "../ConnectionPool.js"
import { type HttpoolError, isLocationValueError, redactUrl } from "../Errors.js"
import * as Headers from "../Headers.js"
import { type Holder, hasUnscoped, Unscoped } from "./request/holder.js"
import { multipartStream } from "./formData.js"
import type * as internalHeaders from "./headers.js"
import type * as HttpClient from "../HttpClient.js"
import * as PoolManager from "../PoolManager.js"
import type * as Response from "../Response.js"
import type * as Retry from "../Retry.js"
import type * as Timeout from "../Timeout.js"
import { randomHex } from "./randomHex.js"
import * as response_ from "./response.js"

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/**
 * The RequestError reason of an httpool error: URL errors are `InvalidUrl`, a request that
 * cannot be encoded (a bad header or method, a body that cannot be sent again) is `Encode`,
 * everything that happened on the way (connect, TLS, proxy, pool, timeouts, retries used up)
 * is `Transport`, which `HttpClient.retryTransient` retries.
 *
 * @internal
 */
export const requestErrorReason = (error: HttpoolError): HttpClientError.RequestError["reason"] => {
  if (isLocationValueError(error)) return "InvalidUrl"
  switch (error._tag) {
    case "ValueError":
    case "InvalidHeader":
    case "UnrewindableBodyError":
      return "Encode"
    default:
      return "Transport"
  }
}

/**
 * The request as an error carries it: @effect/platform prints its URL in the message, so
 * the URL's `user:password@` is taken out.
 */
const redacted = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest => {
  const url = redactUrl(request.url)
  return url === request.url ? request : HttpClientRequest.setUrl(request, url)
}

/**
 * A request and the trace headers sent with it: @effect/platform's client sets them on the
 * request, and its responses and errors carry that request; here it is made only when one asks.
 */
class Sent {
  private withTrace: HttpClientRequest.HttpClientRequest | undefined
  constructor(
    readonly original: HttpClientRequest.HttpClientRequest,
    readonly trace: PlatformHeaders.Headers | null
  ) {}

  get request(): HttpClientRequest.HttpClientRequest {
    if (this.trace === null) return this.original
    if (this.withTrace === undefined) this.withTrace = HttpClientRequest.setHeaders(this.original, this.trace)
    return this.withTrace
  }
}

const requestError = (request: HttpClientRequest.HttpClientRequest, error: HttpoolError) =>
  new HttpClientError.RequestError({
    request: redacted(request),
    reason: requestErrorReason(error),
    cause: error,
    description: error.message
  })

const encodeError = (request: HttpClientRequest.HttpClientRequest, description: string, cause?: unknown) =>
  new HttpClientError.RequestError({ request: redacted(request), reason: "Encode", description, cause })

// ---------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------

interface PreparedBody {
  readonly body: ConnectionPool.Body
  /** The Content-Type the body itself needs (a multipart boundary), or null. */
  readonly contentType: string | null
  /** The Content-Length of a streamed body whose length is known; absent otherwise. */
  readonly contentLength?: number
}

const encoder = new TextEncoder()

const noContentType = (body: ConnectionPool.Body): PreparedBody => ({ body, contentType: null })

const isAsyncIterable = (u: object): u is AsyncIterable<unknown> => Symbol.asyncIterator in u

/** A one-shot source (a Node Readable, a web ReadableStream) as bytes; text chunks are UTF-8. */
async function* asBytes(source: AsyncIterable<unknown>): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    if (chunk instanceof Uint8Array) yield chunk
    else if (typeof chunk === "string") yield encoder.encode(chunk)
    else if (ArrayBuffer.isView(chunk)) yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    else throw new TypeError(`A Raw body stream gave a chunk of type ${Object.prototype.toString.call(chunk)}`)
  }
}

/**
 * A Raw body: text, bytes (any ArrayBuffer or view), a Blob (read first, the one case that
 * needs an Effect), or an async iterable of bytes (sent once; a redirect that must replay it
 * fails with UnrewindableBodyError).
 */
const rawBody = (request: HttpClientRequest.HttpClientRequest, body: unknown): Prepared => {
  if (typeof body === "string" || body instanceof Uint8Array) return noContentType(body)
  if (body instanceof ArrayBuffer) return noContentType(new Uint8Array(body))
  if (ArrayBuffer.isView(body)) return noContentType(new Uint8Array(body.buffer, body.byteOffset, body.byteLength))
  if (body instanceof Blob) {
    return Effect.tryPromise({
      try: () => body.arrayBuffer(),
      catch: (cause) => encodeError(request, "The Raw body's Blob could not be read", cause)
    }).pipe(Effect.map((buffer) => noContentType(new Uint8Array(buffer))))
  }
  if (typeof body === "object" && body !== null && isAsyncIterable(body)) return noContentType(asBytes(body))
  return Effect.fail(
    encodeError(
      request,
      `Unsupported Raw body of type ${Object.prototype.toString.call(body)}: use a string, Uint8Array, ArrayBuffer, Blob or an async iterable of bytes`
    )
  )
}

/**
 * Form data as multipart/form-data with a Content-Length: files stream from their Blobs, and
 * the body can be sent again (after a 307 or 308, or on a retry).
 */
const formDataBody = (formData: FormData): PreparedBody => {
  const multipart = multipartStream(formData)
  return { body: multipart.body, contentType: multipart.contentType, contentLength: multipart.length }
}

/** A body prepared at once, or (a Blob to read, a body that cannot be sent) as an Effect. */
type Prepared = PreparedBody | Effect.Effect<PreparedBody, HttpClientError.RequestError>

const emptyBody = noContentType(null)

const prepareBody = (request: HttpClientRequest.HttpClientRequest): Prepared => {
  const body: HttpBody.HttpBody = request.body
  switch (body._tag) {
    case "Empty":
      return emptyBody
    case "Uint8Array":
      return noContentType(body.body)
    case "Raw":
      return rawBody(request, body.body)
    case "Stream":
      return noContentType(body.stream)
    case "FormData":
      return formDataBody(body.formData)
  }
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

const utf8 = new TextDecoder("utf-8")

/** @effect/platform's Headers prototype, to build its headers without an intermediate record. */
const platformHeadersProto: object = Object.getPrototypeOf(PlatformHeaders.empty)

/** Lower-cased names, repeated values joined with ", " (as @effect/platform's own clients do). */
const toPlatformHeaders = (headers: Headers.Headers): PlatformHeaders.Headers => {
  // Its prototype has no string keys (it comes from `Object.create(null)`): a name is found
  // only when set here, `__proto__` included.
  const out: Record<string, string> = Object.create(platformHeadersProto)
  const impl = headers as internalHeaders.HeadersImpl
  if (impl.unbuilt) {
    // Headers off the wire, read straight from their list: no slots are made for them.
    const wire = impl.wire!
    for (let n = 0; n + 1 < wire.length; n += 2) {
      const key = wire[n].toLowerCase()
      const before = out[key]
      out[key] = before === undefined ? wire[n + 1] : `${before}, ${wire[n + 1]}`
    }
    return out as PlatformHeaders.Headers
  }
  for (let i = 0; i < impl.keys.length; i++) {
    const values = impl.values[i]
    out[impl.keys[i]] = values.length === 1 ? values[0] : values.join(", ")
  }
  return out as PlatformHeaders.Headers
}

/**
 * The request as it was last sent: after redirects, its URL is the one that answered, and
 * its method the one sent last (a 303 made it a GET without a body). Without redirects it is
 * the caller's request, untouched.
 */
const finalRequest = (
  request: HttpClientRequest.HttpClientRequest,
  response: Response.StreamingResponse
): HttpClientRequest.HttpClientRequest => {
  const history = response.retries?.history
  if (history === undefined || !history.some((entry) => entry.redirectLocation !== null && entry.error === null)) {
    return request
  }
  let current = HttpClientRequest.setUrl(request, new URL(response.url))
  if (response.method !== current.method) {
    current = HttpClientRequest.setBody(
      HttpClientRequest.setMethod(current, response.method as HttpClientRequest.HttpClientRequest["method"]),
      HttpBody.empty
    )
  }
  return current
}

/**
 * An HttpClientResponse over an httpool streaming response. The connection is leased in
 * `scope`: reading the body to its end gives it back to its pool; `release` (called when
 * the body has been read, when the stream stops early, or when the request's AbortSignal
 * fires) closes the scope, which closes a connection whose body was not read in full.
 */
class HttpoolClientResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  private cachedRequest: HttpClientRequest.HttpClientRequest | undefined
  private cachedHeaders: PlatformHeaders.Headers | undefined
  private cachedCookies: Cookies.Cookies | undefined
  private buffered: Effect.Effect<Uint8Array, HttpClientError.ResponseError> | undefined
  private streamed = false

  constructor(
    private readonly sent: Sent,
    readonly source: Response.StreamingResponse,
    private readonly release: Effect.Effect<void>,
    /** The whole body, when it had all arrived with the head (nothing to release then). */
    private readonly whole: Uint8Array | null
  ) {
    super()
  }

  /** The request as it was last sent, trace headers included; made when first asked for. */
  get request(): HttpClientRequest.HttpClientRequest {
    if (this.cachedRequest === undefined) this.cachedRequest = finalRequest(this.sent.request, this.source)
    return this.cachedRequest
  }

  get status(): number {
    return this.source.status
  }

  get headers(): PlatformHeaders.Headers {
    if (this.cachedHeaders === undefined) this.cachedHeaders = toPlatformHeaders(this.source.headers)
    return this.cachedHeaders
  }

  get cookies(): Cookies.Cookies {
    if (this.cachedCookies === undefined) {
      const values = Headers.getAll(this.source.headers, "set-cookie")
      this.cachedCookies = values.length === 0 ? Cookies.empty : Cookies.fromSetCookie(values)
    }
    return this.cachedCookies
  }

  get remoteAddress(): Option.Option<string> {
    return Option.fromNullable(this.source.connection?.remoteAddress)
  }

  private decodeError(cause: unknown, description?: string): HttpClientError.ResponseError {
    const hasMessage = typeof cause === "object" && cause !== null && "message" in cause
    return new HttpClientError.ResponseError({
      request: redacted(this.request),
      response: this,
      reason: "Decode",
      cause,
      description: description ?? (hasMessage ? String(cause.message) : String(cause))
    })
  }

  /** The whole body, read once from the connection and kept. */
  private get bytes(): Effect.Effect<Uint8Array, HttpClientError.ResponseError> {
    return Effect.suspend(() => {
      if (this.buffered !== undefined) return this.buffered
      if (this.streamed) return Effect.fail(this.decodeError(null, "The body was already read as a stream"))
      if (this.whole !== null) {
        this.buffered = Effect.succeed(this.whole)
        return this.buffered
      }
      const read = this.source.data.pipe(
        Effect.mapError((error) => this.decodeError(error)),
        Effect.ensuring(this.release)
      )
      this.buffered = memoize(read, () => this.decodeError(null, "Reading the body was interrupted"))
      return this.buffered
    })
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.suspend(() => {
      if (this.buffered !== undefined) {
        return Stream.flatMap(Stream.fromEffect(this.buffered), (bytes) =>
          bytes.length === 0 ? Stream.empty : Stream.succeed(bytes)
        )
      }
      if (this.streamed) return Stream.fail(this.decodeError(null, "The body was already read as a stream"))
      this.streamed = true
      if (this.whole !== null) return this.whole.length === 0 ? Stream.empty : Stream.succeed(this.whole)
      return this.source.stream.pipe(
        Stream.mapError((error) => this.decodeError(error)),
        Stream.ensuring(this.release)
      )
    })
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    // A body chunk may be a view into a larger buffer (undici's read buffer, with the
    // response head and maybe other bytes in it): only a view covering its whole buffer is
    // handed out as is. `new Uint8Array(view)` copies; a Node Buffer's `slice` would not.
    return Effect.map(this.bytes, (bytes) =>
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
        ? bytes.buffer
        : new Uint8Array(bytes).buffer
    )
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.map(this.bytes, (bytes) => utf8.decode(bytes))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => (text === "" ? null : (JSON.parse(text) as unknown)),
        catch: (cause) => this.decodeError(cause)
      })
    )
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => UrlParams.fromInput(new URLSearchParams(text)),
        catch: (cause) => this.decodeError(cause)
      })
    )
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.flatMap(this.bytes, (bytes) =>
      Effect.tryPromise({
        try: () =>
          new globalThis.Response(bytes, {
            headers: { "content-type": this.headers["content-type"] ?? "" }
          }).formData(),
        catch: (cause) => this.decodeError(cause)
      })
    )
  }

  toJSON(): unknown {
    return {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status,
      headers: Inspectable.redact(this.headers),
      remoteAddress: this.remoteAddress.toJSON()
    }
  }
}

/**
 * Runs `self` once; every later run gets the same result. An interrupted first run is
 * remembered as `onInterrupt()`'s error (the connection it was reading is gone). Callers
 * that come while the first run is going wait for it.
 */
const memoize = <A, E>(self: Effect.Effect<A, E>, onInterrupt: () => E): Effect.Effect<A, E> => {
  let result: Exit.Exit<A, E> | undefined
  let waiting: Deferred.Deferred<A, E> | undefined
  let running = false
  return Effect.suspend(() => {
    if (result !== undefined) return result
    if (running) {
      waiting ??= Deferred.unsafeMake<A, E>(FiberId.none)
      return Deferred.await(waiting)
    }
    running = true
    return Effect.onExit(self, (exit) => {
      result = Exit.isInterrupted(exit) ? Exit.fail(onInterrupt()) : exit
      return waiting === undefined ? Effect.void : Deferred.done(waiting, result)
    })
  })
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

/** @internal */
export const make = (manager: PoolManager.Service, options: HttpClient.Options = {}): PlatformHttpClient.HttpClient => {
  const baseOptions: ConnectionPool.UrlopenOptions = {
    redirect: options.followRedirects !== false,
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.decodeContent === undefined ? {} : { decodeContent: options.decodeContent })
  }
  const open = openWith(manager)
  const acceptEncoding = options.acceptEncoding ?? null
  const baseHeaders =
    acceptEncoding !== null && !Headers.has(manager.headers, "accept-encoding")
      ? Headers.set(manager.headers, "Accept-Encoding", acceptEncoding)
      : manager.headers

  const send = (
    sent: Sent,
    url: URL,
    scoped: AbortSignal | null,
    traced: boolean,
    prepared: PreparedBody
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> => {
    // A request that adds no header sends the client's own headers value, whose wire lines
    // each pool has cached.
    let headers = baseHeaders
    const own = sent.original.headers
    if (hasOwnKeys(own)) {
      // Checked here, so that the merged value is checked as a whole and not again.
      const checked = Headers.fromInput(own)
      if (Either.isLeft(checked)) return Effect.fail(requestError(sent.request, checked.left))
      headers = Headers.merge(baseHeaders, checked.right)
    }
    const trace = sent.trace
    if (trace !== null) {
      // Set over the request's own, as @effect/platform sets them on the request; a tracer's
      // ids that a header cannot carry leave the value unchecked, and the request refuses it.
      for (const name in trace) headers = Headers.set(headers, name, trace[name]!)
    }
    if (prepared.contentType !== null) headers = Headers.set(headers, "Content-Type", prepared.contentType)
    if (prepared.contentLength !== undefined) {
      headers = Headers.set(headers, "Content-Length", String(prepared.contentLength))
    }
    const finalizers = new Finalizers()
    const options = new RequestOptions(baseOptions, headers, prepared.body)
    // One step decides both endings, uninterruptibly: a failure closes what was leased; a
    // response whose body is all here lets go of everything now; any other is released when
    // its body has been read, when the Scope of `HttpClient.withScope` closes, or when it is
    // collected unread.
    return Effect.uninterruptibleMask((restore) =>
      Effect.matchCauseEffect(restore(open(sent.original.method, url.href, options, finalizers)), {
        onFailure: (cause) =>
          Effect.zipRight(
            finalizers.close,
            Effect.failCause(Cause.map(cause, (error) => requestError(sent.request, error)))
          ),
        onSuccess: (response) => {
          const whole = response_.wholeBodyOf(response)
          if (whole !== null) {
            return Effect.zipRight(finalizers.close, respond(sent, response, Effect.void, whole, traced))
          }
          if (scoped?.aborted === true) {
            return Effect.zipRight(finalizers.close, respond(sent, response, finalizers.close, null, traced))
          }
          const onAbort = () => {
            Effect.runFork(finalizers.close)
          }
          scoped?.addEventListener("abort", onAbort, { once: true })
          const release = Effect.suspend(() => {
            scoped?.removeEventListener("abort", onAbort)
            unread.unregister(finalizers)
            return finalizers.close
          })
          return Effect.tap(respond(sent, response, release, null, traced), (result) => {
            unread.register(result, finalizers, finalizers)
          })
        }
      })
    )
  }

  const start = (
    request: HttpClientRequest.HttpClientRequest,
    url: URL,
    scoped: AbortSignal | null,
    traced: boolean,
    trace: PlatformHeaders.Headers | null
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> => {
    const sent = new Sent(request, trace)
    const prepared = prepareBody(request)
    return Effect.isEffect(prepared)
      ? Effect.flatMap(prepared, (body) => send(sent, url, scoped, traced, body))
      : send(sent, url, scoped, traced, prepared)
  }

  // What @effect/platform's `HttpClient.make` does around a request, without what httpool
  // does itself: no AbortController per request (interruption, a body read to its end and
  // an unread response collected all release the connection here) and no wrapper around
  // each response. Its span, its attributes and trace propagation are the same where a
  // tracer records spans; under Effect's own tracer, which keeps them to itself, a request
  // sends the trace headers of the span it would have made, and makes none.
  const execute = (
    request: HttpClientRequest.HttpClientRequest,
    fiber: Fiber.RuntimeFiber<unknown, unknown>
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> => {
    const made = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
    if (made._tag === "Left") {
      return Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: made.left }))
    }
    const url = made.right
    const scoped = scopedRequests.get(request)?.signal ?? null
    if (
      !fiber.getFiberRef(FiberRef.currentTracerEnabled) ||
      fiber.getFiberRef(PlatformHttpClient.currentTracerDisabledWhen)(request)
    ) {
      return start(request, url, scoped, false, null)
    }
    const traced = fiber.currentTracer !== nativeTracer()
    const propagate = fiber.getFiberRef(PlatformHttpClient.currentTracerPropagation)
    if (!traced) return start(request, url, scoped, false, propagate ? nativeTraceHeaders(fiber) : null)
    const name = Context.get(fiber.currentContext, PlatformHttpClient.SpanNameGenerator)(request)
    return useClientSpan(name, (span) => {
      span.attribute("http.request.method", request.method)
      span.attribute("server.address", url.origin)
      if (url.port !== "") span.attribute("server.port", +url.port)
      // Without the URL's user and password, unlike @effect/platform's own span.
      span.attribute("url.full", url.username === "" && url.password === "" ? url.toString() : redactUrl(url.href))
      span.attribute("url.path", url.pathname)
      span.attribute("url.scheme", url.protocol.slice(0, -1))
      const query = url.search.slice(1)
      if (query !== "") span.attribute("url.query", query)
      const redactedNames = fiber.getFiberRef(PlatformHeaders.currentRedactedNames)
      const requestHeaders = PlatformHeaders.redact(request.headers, redactedNames)
      for (const name in requestHeaders) span.attribute(`http.request.header.${name}`, String(requestHeaders[name]))
      const trace = propagate ? HttpTraceContext.toHeaders(span) : null
      return Effect.tap(Effect.withParentSpan(start(request, url, scoped, true, trace), span), (response) => {
        span.attribute("http.response.status_code", response.status)
        const responseHeaders = PlatformHeaders.redact(response.headers, redactedNames)
        for (const name in responseHeaders) {
          span.attribute(`http.response.header.${name}`, String(responseHeaders[name]))
        }
      })
    })
  }

  return PlatformHttpClient.makeWith<HttpClientError.HttpClientError, never, HttpClientError.HttpClientError, never>(
    (effect) => Effect.flatMap(effect, (request) => Effect.withFiberRuntime((fiber) => execute(request, fiber))),
    Effect.succeed
  )
}

/** The span a new span's parent is, as Effect finds it: the closest one that propagates. */
const propagatingParent = (span: Tracer.AnySpan | undefined): Tracer.AnySpan | undefined => {
  let current = span
  while (current !== undefined && Context.get(current.context, Tracer.DisablePropagation)) {
    current = current._tag === "Span" ? Option.getOrUndefined(current.parent) : undefined
  }
  return current
}

/**
 * The trace headers @effect/platform sends for a client span of Effect's own tracer (its
 * `HttpTraceContext.toHeaders`), without making the span: that tracer keeps its spans to
 * itself, so what anyone sees of one is these ids, made as it makes them (the parent's trace
 * id or a new one, a new span id, sampled).
 */
const nativeTraceHeaders = (fiber: Fiber.RuntimeFiber<unknown, unknown>): PlatformHeaders.Headers => {
  const parent = propagatingParent(Context.getOrElse(fiber.currentContext, Tracer.ParentSpan, () => undefined))
  const traceId = parent === undefined ? randomHex(16) : parent.traceId
  const spanId = randomHex(8)
  return PlatformHeaders.unsafeFromRecord({
    b3: parent === undefined ? `${traceId}-${spanId}-1` : `${traceId}-${spanId}-1-${parent.spanId}`,
    traceparent: `00-${traceId}-${spanId}-01`
  })
}

const CLIENT_SPAN: Tracer.SpanOptions = { kind: "client", captureStackTrace: false }
/** A span's end when tracer timing is off (as Effect's own `useSpan` ends it). */
const NO_TIME = BigInt(0)

/**
 * `Effect.useSpan` for the request's client span, except that a span that succeeded ends with
 * `Exit.void` rather than with the response (a failed one ends with its failure, as before).
 * Effect's own tracer keeps the Exit a span ended with, and so the response, its request and
 * all they reach, for as long as the span lives; V8 then saw those objects outlive young
 * collections and began allocating their kind in the old generation (allocation-site
 * pretenuring), where each kept the next request's: with tracing on, garbage collection cost
 * 13-18 us per request instead of 5 (docs/performance.md). Tracers read a span's status from
 * whether its Exit succeeded, not from the value.
 */
const useClientSpan = <A, E>(name: string, evaluate: (span: Tracer.Span) => Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.flatMap(Effect.makeSpan(name, CLIENT_SPAN), (span) =>
    Effect.onExit(evaluate(span), (exit) => endClientSpan(span, Exit.isSuccess(exit) ? Exit.void : exit))
  )

const endClientSpan = (span: Tracer.Span, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    if (span.status._tag === "Ended") return Effect.void
    const timed = fiber.getFiberRef(FiberRef.currentTracerTimingEnabled)
    span.end(timed ? Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeNanos() : NO_TIME, exit)
    return Effect.void
  })

/**
 * The controllers @effect/platform's `HttpClient.withScope` gives requests, aborted when their
 * Scope closes: its own map, found by the key it is registered under.
 */
const scopedRequests: WeakMap<HttpClientRequest.HttpClientRequest, AbortController> = globalValue(
  "@effect/platform/HttpClient/scopedRequests",
  () => new WeakMap()
)

/** A response whose body is never read gives its connection back when it is collected. */
const unread = new FinalizationRegistry<Finalizers>((finalizers) => {
  Effect.runFork(finalizers.close)
})

/** Effect's built-in tracer, whose spans nobody exports: httpool annotates no span of it. */
let native: Tracer.Tracer | undefined
const nativeTracer = (): Tracer.Tracer => (native ??= Effect.runSync(Effect.tracer))

const hasOwnKeys = (record: object): boolean => {
  for (const key in record) if (Object.hasOwn(record, key)) return true
  return false
}

/** A manager's streamed urlopen with its releases held by `finalizers`. */
const openWith = (manager: PoolManager.Service) => {
  if (hasUnscoped(manager)) {
    const unscoped = manager[Unscoped]
    return (method: string, url: string, options: ConnectionPool.UrlopenOptions, finalizers: Finalizers) =>
      unscoped(method, url, options, finalizers) as Effect.Effect<Response.StreamingResponse, HttpoolError>
  }
  // Another implementation of the service: a Scope per request, closed by the finalizers.
  return (method: string, url: string, options: ConnectionPool.UrlopenOptions, finalizers: Finalizers) =>
    Effect.flatMap(Scope.make(), (scope) =>
      Effect.zipRight(
        finalizers.add(Scope.close(scope, Exit.void)),
        Scope.extend(manager.urlopen(method, url, { ...options, preloadContent: false }), scope)
      )
    )
}

/** The options of one request: the client's, its headers and body, streamed. A class, not a spread literal. */
class RequestOptions implements ConnectionPool.UrlopenOptions {
  readonly redirect?: boolean
  readonly retries?: Retry.Input
  readonly timeout?: Timeout.Input
  readonly decodeContent?: boolean
  readonly preloadContent = false
  constructor(
    base: ConnectionPool.UrlopenOptions,
    readonly headers: Headers.Headers,
    readonly body: ConnectionPool.Body
  ) {
    if (base.redirect !== undefined) this.redirect = base.redirect
    if (base.retries !== undefined) this.retries = base.retries
    if (base.timeout !== undefined) this.timeout = base.timeout
    if (base.decodeContent !== undefined) this.decodeContent = base.decodeContent
  }
}

/**
 * What a response holds until it is done with (its connection's lease, its pool's lease):
 * a Scope's job, done with a list, since one is made for every request.
 */
class Finalizers implements Holder {
  private finalizers: Array<Effect.Effect<void>> | null = []
  /** A body that arrived whole frees its connection at once: the response keeps the bytes. */
  readonly releaseEarly = true

  readonly addNow = (finalizer: Effect.Effect<void>): boolean => {
    if (this.finalizers === null) return false
    this.finalizers.push(finalizer)
    return true
  }

  readonly add = (finalizer: Effect.Effect<void>): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (this.finalizers === null) return finalizer
      this.finalizers.push(finalizer)
      return Effect.void
    })

  /** Runs the finalizers once, last added first. */
  readonly close: Effect.Effect<void> = Effect.suspend(() => {
    const all = this.finalizers
    if (all === null) return Effect.void
    this.finalizers = null
    if (all.length === 1) return all[0]!
    let effect: Effect.Effect<void> = Effect.void
    for (let i = all.length - 1; i >= 0; i--) effect = Effect.zipRight(effect, all[i])
    return effect
  })
}

/**
 * The HttpClientResponse (over the body's bytes when they are all here), with the span
 * annotated with what httpool did beyond @effect/platform's own when a real tracer records it.
 */
const respond = (
  sent: Sent,
  response: Response.StreamingResponse,
  release: Effect.Effect<void>,
  whole: Uint8Array | null,
  traced: boolean
): Effect.Effect<HttpClientResponse.HttpClientResponse> => {
  const result = new HttpoolClientResponse(sent, response, release, whole)
  if (!traced) return Effect.succeed(result)
  const attributes: Record<string, unknown> = {}
  const connection = response.connection
  if (connection !== undefined) {
    attributes["httpool.pool"] = connection.pool
    attributes["httpool.connection.id"] = connection.id
    attributes["httpool.connection.reused"] = connection.reused
    attributes["httpool.pool.wait_ms"] = connection.waitedMillis
  }
  const history = response.retries?.history
  if (history !== undefined && history.length > 0) {
    let redirects = 0
    for (const entry of history) if (entry.redirectLocation !== null && entry.error === null) redirects++
    attributes["httpool.redirects"] = redirects
    attributes["httpool.retries"] = history.length - redirects
    if (redirects > 0) {
      const final = UrlParams.makeUrl(result.request.url, result.request.urlParams, Option.none())
      if (final._tag === "Right") attributes["httpool.url.final"] = redactUrl(final.right.href)
    }
  } else if (connection === undefined) {
    return Effect.succeed(result)
  }
  return Effect.as(Effect.annotateCurrentSpan(attributes), result)
}

/** @internal */
export const layer = (
  options?: HttpClient.Options
): Layer.Layer<PlatformHttpClient.HttpClient, never, PoolManager.PoolManager> =>
  Layer.effect(
    PlatformHttpClient.HttpClient,
    Effect.map(PoolManager.PoolManager, (manager) => make(manager, options))
  )
