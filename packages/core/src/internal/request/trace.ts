/**
 * The `http.client` span of a request made through a ConnectionPool, a PoolManager or a
 * ProxyManager (OpenTelemetry's HTTP client conventions), and the span of each retry and
 * redirect under it.
 *
 * A span costs nothing unless a real tracer is installed: `begin` compares the fiber's
 * tracer with Effect's built-in one (captured once) and returns null when they are the same
 * or tracing is off, and the loop's hooks are `call.trace?.x(...)`, a null check per step.
 * Spans are made and ended with the tracer's own synchronous calls, so a traced request runs
 * no Effect instruction more than an untraced one, except the one that ends the call's span
 * with its outcome.
 *
 * Under the HttpClient adapter, @effect/platform has opened its own `http.client` span and
 * made it the parent: that span is taken as the call's (events and child spans go to it)
 * instead of opening a second one for the same request.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import type { HttpoolError } from "../../Errors.js"
import * as Url from "../../Url.js"
import { errorType } from "../errors.js"
import { openedReport } from "../opened.js"
import type { Attempt } from "./attempt.js"

/** Effect's built-in tracer, whose spans no one exports: no span is made under it. */
const nativeTracer: Tracer.Tracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/** Query parameters whose values OpenTelemetry's conventions redact in `url.full`. */
const SECRET_PARAMS: ReadonlySet<string> = new Set(["awsaccesskeyid", "signature", "sig", "x-goog-signature"])

const redactQuery = (query: string): string =>
  query
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=")
      if (eq === -1) return pair
      let name = pair.slice(0, eq)
      try {
        name = decodeURIComponent(name)
      } catch {
        // Left as written.
      }
      return SECRET_PARAMS.has(name.toLowerCase()) ? `${pair.slice(0, eq)}=REDACTED` : pair
    })
    .join("&")

/**
 * A URL as a span shows it: absolute, without user and password (OpenTelemetry's rule), the
 * values of signature-like query parameters replaced by `REDACTED`, no fragment.
 *
 * @internal
 */
export const urlFull = (url: Url.Url): string =>
  Url.format(
    Url.make({
      scheme: url.scheme ?? "http",
      host: url.host,
      port: url.port,
      path: url.path,
      query: url.query === null ? null : redactQuery(url.query)
    })
  )

/** A span's attributes for one request's URL and method. */
const requestAttributes = (method: string, url: Url.Url): Record<string, unknown> => {
  const scheme = url.scheme ?? "http"
  const host = Url.hostname(url) ?? ""
  return {
    "http.request.method": method,
    "url.full": urlFull(url),
    "url.scheme": scheme,
    "server.address": host,
    "server.port": url.port ?? Url.defaultPort(scheme) ?? 80,
    "network.protocol.name": "http",
    "network.protocol.version": "1.1"
  }
}

/** A `performance.now()` reading as nanoseconds since the epoch, the clock of spans. */
const epochNanos = (millis: number): bigint => BigInt(Math.round((performance.timeOrigin + millis) * 1e6))

/** What the loop reports of one response. */
interface Answered {
  readonly status: number
  /** When the head was parsed (`performance.now()`), if the connector says. */
  readonly headAt?: number | undefined
  readonly connection:
    | {
        readonly id: number
        readonly reused: boolean
        readonly waitedMillis: number
        readonly remoteAddress: string | null
        readonly pool: string
      }
    | undefined
}

/**
 * The spans of one call: its `http.client` span (made here, or the adapter's), and the span
 * of the attempt under way (the call's own for the first attempt, a child for each retry or
 * redirect).
 *
 * @internal
 */
export class Trace {
  /** The attempt under way: 0 for the first, then 1, 2, ... (`http.request.resend_count`). */
  private count = -1
  private attemptSpan: Tracer.Span
  private attemptStart = 0n
  /** Why the next attempt is made: "redirect", "status", or the tag of an error. */
  private pending: string | null = null

  constructor(
    readonly span: Tracer.Span,
    /** Whether the span is ours to end (false: the HttpClient adapter's). */
    readonly owned: boolean,
    private readonly tracer: Tracer.Tracer,
    private readonly clock: Clock.Clock,
    private readonly timing: boolean
  ) {
    this.attemptSpan = span
  }

  private now(): bigint {
    return this.timing ? this.clock.unsafeCurrentTimeNanos() : 0n
  }

  /** An attempt starts: the first is the call's span; a retry or redirect gets a child span. */
  attempt(attempt: Attempt): void {
    this.count++
    this.attemptStart = this.now()
    if (this.count === 0) return
    const attributes = requestAttributes(attempt.method, attempt.parsed)
    attributes["http.request.resend_count"] = this.count
    if (this.pending !== null) attributes["httpool.resend.reason"] = this.pending
    this.attemptSpan = this.tracer.span(
      attempt.method,
      Option.some(this.span),
      Context.empty(),
      [],
      this.attemptStart,
      "client",
      { kind: "client", attributes }
    )
    for (const key in attributes) this.attemptSpan.attribute(key, attributes[key])
  }

  /** A response head arrived for the attempt under way. */
  response(answered: Answered): void {
    const span = this.attemptSpan
    const now = this.now()
    const connection = answered.connection
    if (connection !== undefined) {
      if (connection.waitedMillis > 0) {
        span.event("httpool.pool.wait", this.attemptStart + BigInt(Math.round(connection.waitedMillis * 1e6)), {
          "httpool.pool": connection.pool,
          "httpool.pool.wait_ms": connection.waitedMillis
        })
      }
      const opened = connection.reused ? undefined : openedReport(connection.id)
      if (opened !== undefined && this.timing) {
        span.event("httpool.connect", epochNanos(opened.connected), {
          "httpool.connect.duration_ms": opened.connected - opened.started,
          ...(opened.remoteAddress === null ? {} : { "network.peer.address": opened.remoteAddress })
        })
        if (opened.scheme === "https") {
          span.event("httpool.tls", epochNanos(opened.ready), {
            "httpool.tls.duration_ms": opened.ready - opened.connected
          })
        }
      }
      span.event(connection.reused ? "httpool.connection.reused" : "httpool.connection.opened", now, {
        "httpool.connection.id": connection.id,
        ...(connection.remoteAddress === null ? {} : { "network.peer.address": connection.remoteAddress })
      })
      span.attribute("httpool.pool", connection.pool)
      span.attribute("httpool.connection.id", connection.id)
      span.attribute("httpool.connection.reused", connection.reused)
    }
    const headAt = answered.headAt === undefined ? now : epochNanos(answered.headAt)
    span.event("http.response.head", headAt, { "http.response.status_code": answered.status })
    // The call's own span takes its status and error.type from the call's outcome (`end`).
    if (span === this.span) return
    span.attribute("http.response.status_code", answered.status)
    if (answered.status >= 400) span.attribute("error.type", String(answered.status))
    span.end(now, Exit.void)
  }

  /** The attempt under way failed with `error` (the loop may retry it). */
  failed(error: HttpoolError): void {
    const span = this.attemptSpan
    if (span === this.span) return
    span.attribute("error.type", errorType(error))
    span.end(this.now(), Exit.fail(error))
  }

  /** Another attempt follows, for `reason`: "redirect", "status", or the tag of an error. */
  resend(reason: string, url: Url.Url): void {
    this.pending = reason
    this.span.event(reason === "redirect" ? "http.redirect" : "http.retry", this.now(), {
      "httpool.resend.reason": reason,
      "http.request.resend_count": this.count + 1,
      "url.full": urlFull(url)
    })
  }

  /** The call ends with `exit`: the final status or error on the call's span, which ends if it is ours. */
  end(exit: Exit.Exit<{ readonly status: number }, HttpoolError>): void {
    const span = this.span
    if (Exit.isSuccess(exit)) {
      span.attribute("http.response.status_code", exit.value.status)
      if (exit.value.status >= 400) span.attribute("error.type", String(exit.value.status))
    } else {
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure)) span.attribute("error.type", errorType(failure.value))
    }
    if (this.count > 0) span.attribute("http.request.resend_count", this.count)
    if (this.owned) span.end(this.now(), exit)
  }
}

/** The adapter's span: a client span that already names an HTTP method. */
const isHttpClientSpan = (span: Tracer.AnySpan | undefined): span is Tracer.Span =>
  span !== undefined && span._tag === "Span" && span.kind === "client" && span.attributes.has("http.request.method")

/**
 * The trace of a call starting in `fiber`, or null (the common case, and the fast one) when
 * the fiber's tracer is Effect's built-in one or tracing is disabled.
 *
 * @internal
 */
export const begin = (fiber: Fiber.RuntimeFiber<unknown, unknown>, method: string, url: Url.Url): Trace | null => {
  const tracer = fiber.currentTracer
  if (tracer === nativeTracer || !fiber.getFiberRef(FiberRef.currentTracerEnabled)) return null
  const services = fiber.currentDefaultServices
  const clock = Context.get(services, Clock.Clock)
  const timing = fiber.getFiberRef(FiberRef.currentTracerTimingEnabled)
  const parent = fiber.currentSpan
  if (isHttpClientSpan(parent)) return new Trace(parent, false, tracer, clock, timing)
  if (Context.get(fiber.currentContext, Tracer.DisablePropagation)) return null
  const attributes = requestAttributes(method, url)
  const span = tracer.span(
    method,
    parent === undefined ? Option.none() : Option.some(parent),
    Context.empty(),
    [],
    timing ? clock.unsafeCurrentTimeNanos() : 0n,
    "client",
    { kind: "client", attributes }
  )
  const annotations = fiber.getFiberRef(FiberRef.currentTracerSpanAnnotations)
  HashMap.forEach(annotations, (value, key) => span.attribute(key, value))
  for (const key in attributes) span.attribute(key, attributes[key])
  return new Trace(span, true, tracer, clock, timing)
}

/**
 * A traced call's Effect: its span the parent of what runs inside (the retry log line lands
 * on it), ended with the call's outcome.
 *
 * @internal
 */
export const around = <A extends { readonly status: number }>(
  trace: Trace,
  effect: Effect.Effect<A, HttpoolError>
): Effect.Effect<A, HttpoolError> =>
  Effect.onExit(trace.owned ? Effect.withParentSpan(effect, trace.span) : effect, (exit) =>
    Effect.sync(() => trace.end(exit))
  )
