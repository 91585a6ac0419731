import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as ConnectionPool from "../ConnectionPool.js"
import type { HttpoolError } from "../Errors.js"
import * as Headers from "../Headers.js"
import type * as HttpoolFetch from "../HttpoolFetch.js"
import * as PoolManager from "../PoolManager.js"
import * as Retry from "../Retry.js"
import type * as Response from "../Response.js"
import * as redirect from "./request/redirect.js"
import * as retry from "./retry.js"

// ---------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------

/**
 * fetch's retries, urllib3's where they are safe: connection failures (nothing was sent) up to
 * 3 times, read failures up to 3 times for idempotent methods, nothing else. Redirects are
 * counted by `maxRedirects` instead of `redirect` (see `fromRuntime`), and a response,
 * whatever its status, is the answer.
 *
 * @internal
 */
export const DEFAULT_RETRIES: Retry.Retry = Retry.make({
  total: null,
  connect: 3,
  read: 3,
  other: 0,
  status: 0,
  redirect: 0,
  respectRetryAfterHeader: false,
  raiseOnStatus: false
})

/** Nothing retried, no redirect followed: the base of a streamed body's policy. */
const NO_RETRIES = {
  total: null,
  connect: 0,
  read: 0,
  other: 0,
  status: 0,
  respectRetryAfterHeader: false,
  raiseOnStatus: false
} as const

/** @internal */
export const DEFAULT_MAX_REDIRECTS = 20

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])
/** Statuses whose response has no body (the Response constructor refuses one). */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304])

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/** A request as the hops send it: the body is bytes (replayable) or a one-shot iterable. */
interface Outgoing {
  readonly method: string
  readonly url: URL
  readonly headers: Headers.Headers
  readonly body: Uint8Array | AsyncIterable<Uint8Array> | null
}

const isStreamBody = (body: unknown): boolean =>
  typeof body === "object" &&
  body !== null &&
  (body instanceof ReadableStream || (Symbol.asyncIterator in body && !(body instanceof Blob)))

/** A web ReadableStream of bytes as an AsyncIterable (Node's is one already; others are read). */
async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      if (value.length > 0) yield value
    }
  } finally {
    reader.releaseLock()
  }
}

/**
 * The body to send: a stream (a `ReadableStream` or async iterable given as `init.body`) goes
 * as it is read, chunked; everything else (text, bytes, Blob, FormData, URLSearchParams, and
 * the body of a `Request` given as input) is read into bytes first and sent with its length.
 */
const bodyOf = async (
  request: globalThis.Request,
  init: RequestInit | undefined
): Promise<Uint8Array | AsyncIterable<Uint8Array> | null> => {
  if (request.body === null) return null
  if (init?.body !== undefined && init.body !== null && isStreamBody(init.body)) return chunksOf(request.body)
  return new Uint8Array(await request.arrayBuffer())
}

const headersOf = (
  manager: PoolManager.Service,
  request: globalThis.Request,
  acceptEncoding: string | null
): Headers.Headers => {
  let headers = Headers.merge(manager.headers, request.headers as unknown as Iterable<readonly [string, string]>)
  if (!Headers.has(headers, "accept")) headers = Headers.set(headers, "Accept", "*/*")
  if (acceptEncoding !== null && !Headers.has(headers, "accept-encoding")) {
    headers = Headers.set(headers, "Accept-Encoding", acceptEncoding)
  }
  return headers
}

// ---------------------------------------------------------------------------
// Failures
// ---------------------------------------------------------------------------

/** What a fetch rejects with: a TypeError "fetch failed" whose cause says why (undici's shape). */
const networkError = (cause: unknown): TypeError => new TypeError("fetch failed", { cause })

// ---------------------------------------------------------------------------
// Hops
// ---------------------------------------------------------------------------

/** The answer: the response, streamed, leased in `scope`. */
interface Hop {
  readonly response: Response.StreamingResponse
  readonly scope: Scope.CloseableScope
}

const closeHop = (hop: Hop): Effect.Effect<void> => Scope.close(hop.scope, Exit.void)

interface Settings {
  readonly manager: PoolManager.Service
  /** The options of a request whose body is bytes (or none); they name fetch's redirect rule. */
  readonly urlopen: ConnectionPool.UrlopenOptions
  /** The options of a request whose body is a stream: no retries (it cannot be sent twice), redirects alike. */
  readonly streamedUrlopen: ConnectionPool.UrlopenOptions
  /** Why every request fails: the `retries` option given was not a policy. */
  readonly invalid: HttpoolError | null
}

/** The redirect count ran out: what undici's fetch says then. */
const isRedirectCountExceeded = (error: HttpoolError): boolean =>
  error._tag === "MaxRetryError" &&
  error.reason !== null &&
  typeof error.reason === "object" &&
  (error.reason as { _tag?: unknown })._tag === "ResponseError" &&
  (error.reason as { message?: unknown }).message === "too many redirects"

/**
 * Sends the request in a Scope of its own, which holds the connection until the body is done.
 * In `follow` mode the request loop follows the redirects by fetch's rule
 * (`request/redirect.ts`, `fetchNext`), reading each redirect's body so its connection goes
 * back; the last response is the answer.
 */
const send = (settings: Settings, outgoing: Outgoing, follow: boolean): Effect.Effect<Hop, TypeError> =>
  Effect.flatMap(Scope.make(), (scope) =>
    Effect.uninterruptibleMask((restore) =>
      restore(
        Scope.extend(
          settings.manager.urlopen(outgoing.method, outgoing.url.href, {
            ...(outgoing.body !== null && !(outgoing.body instanceof Uint8Array)
              ? settings.streamedUrlopen
              : settings.urlopen),
            headers: outgoing.headers,
            body: outgoing.body,
            redirect: follow,
            preloadContent: false
          }),
          scope
        )
      ).pipe(
        Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, Exit.void))),
        Effect.map((response): Hop => ({ response, scope })),
        Effect.mapError((error: HttpoolError) =>
          networkError(isRedirectCountExceeded(error) ? new Error("redirect count exceeded") : error)
        )
      )
    )
  )

/** The last hop, the URL that answered, and whether its body was already read (it had none). */
interface Answer {
  readonly hop: Hop
  readonly url: URL
  readonly redirected: boolean
  readonly drained: boolean
}

/** A response with nothing to read: HEAD, 204, 205, 304, 1xx, or a Content-Length of 0. */
const hasNoBody = (method: string, response: Response.StreamingResponse): boolean =>
  method === "HEAD" ||
  NULL_BODY_STATUSES.has(response.status) ||
  Option.getOrNull(Headers.get(response.headers, "content-length"))?.trim() === "0"

/** Whether the loop followed a redirect to reach `response`. */
const wasRedirected = (response: Response.StreamingResponse): boolean =>
  response.retries?.history.some((entry) => entry.redirectLocation !== null) === true

/**
 * Sends `first` and follows redirects as `mode` says: `follow` up to `maxRedirects` (the
 * loop's redirect step with fetch's rule), `manual` answers with the redirect itself,
 * `error` fails on any redirect status.
 */
const sendAll = (
  settings: Settings,
  first: Outgoing,
  mode: "follow" | "manual" | "error"
): Effect.Effect<Answer, TypeError> =>
  Effect.gen(function* () {
    if (settings.invalid !== null) return yield* Effect.fail(networkError(settings.invalid))
    const hop = yield* send(settings, first, mode === "follow")
    const response = hop.response
    if (mode === "error" && REDIRECT_STATUSES.has(response.status)) {
      // The redirect's own body is not wanted: read it (the connection goes back) or drop it.
      yield* Effect.zipRight(response.drain, closeHop(hop))
      return yield* Effect.fail(networkError(new Error('unexpected redirect (redirect mode is "error")')))
    }
    const redirected = wasRedirected(response)
    const answer: Answer = { hop, url: redirected ? new URL(response.url) : first.url, redirected, drained: false }
    if (!hasNoBody(response.method, response)) return answer
    // Nothing to read: the connection goes back now, as undici's does, not when the body is.
    yield* Effect.zipRight(response.drain, closeHop(hop))
    return { ...answer, drained: true }
  })

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/** Releases what an unread, forgotten response still holds (its connection is then discarded). */
const forgotten =
  typeof FinalizationRegistry === "function" ? new FinalizationRegistry<() => void>((release) => release()) : null

const platformHeadersOf = (headers: Headers.Headers): globalThis.Headers => {
  const out = new globalThis.Headers()
  for (const [name, value] of headers) out.append(name, value)
  return out
}

/**
 * The platform Response over the last hop: its body a ReadableStream pulled from the
 * connection (the connection goes back to its pool when the body has been read, is closed
 * when it is cancelled, when the signal aborts, or when the response is garbage-collected
 * unread).
 */
const toResponse = (
  runtime: Runtime.Runtime<never>,
  answer: Answer,
  method: string,
  signal: AbortSignal
): globalThis.Response => {
  const { hop } = answer
  const source = hop.response
  if (source.status < 200 || source.status > 599) {
    Runtime.runFork(runtime)(closeHop(hop))
    throw networkError(new Error(`invalid response status ${source.status}`))
  }
  let released = false
  let onAbort: (() => void) | null = null
  const release = (): void => {
    if (released) return
    released = true
    if (onAbort !== null) signal.removeEventListener("abort", onAbort)
    Runtime.runFork(runtime)(closeHop(hop))
  }
  const init: ResponseInit = {
    status: source.status,
    statusText: source.reason,
    headers: platformHeadersOf(source.headers)
  }
  let body: ReadableStream<Uint8Array> | null = null
  if (answer.drained) {
    released = true
    if (!NULL_BODY_STATUSES.has(source.status) && method !== "HEAD") {
      body = new ReadableStream<Uint8Array>({ start: (controller) => controller.close() })
    }
  } else {
    const pull = Runtime.runSync(runtime)(Scope.extend(Stream.toPull(source.stream), hop.scope))
    let reading: Fiber.RuntimeFiber<unknown, unknown> | null = null
    let controls: ReadableStreamDefaultController<Uint8Array> | null = null
    const stop = (): void => {
      const fiber = reading
      reading = null
      if (fiber !== null) Runtime.runFork(runtime)(Fiber.interrupt(fiber))
      release()
    }
    body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          controls = controller
        },
        pull: (controller) =>
          new Promise<void>((resolve) => {
            const fiber = Runtime.runFork(runtime)(pull)
            reading = fiber
            fiber.addObserver((exit) => {
              if (reading === fiber) reading = null
              if (Exit.isSuccess(exit)) {
                for (const chunk of exit.value) if (chunk.length > 0) controller.enqueue(chunk)
              } else if (!Cause.isInterruptedOnly(exit.cause)) {
                release()
                const failure = Cause.failureOption(exit.cause)
                if (Option.isSome(failure) && Option.isNone(failure.value)) {
                  controller.close()
                } else {
                  const cause = Option.isSome(failure) ? Option.getOrUndefined(failure.value) : Cause.squash(exit.cause)
                  controller.error(new TypeError("terminated", { cause }))
                }
              }
              resolve()
            })
          }),
        cancel: stop
      },
      { highWaterMark: 0 }
    )
    onAbort = () => {
      stop()
      try {
        controls?.error(abortReason(signal))
      } catch {
        // Already closed or errored.
      }
    }
    signal.addEventListener("abort", onAbort, { once: true })
  }
  const response = new globalThis.Response(body, init)
  Object.defineProperty(response, "url", { value: answer.url.href, enumerable: true })
  Object.defineProperty(response, "redirected", { value: answer.redirected, enumerable: true })
  if (body !== null && forgotten !== null) forgotten.register(response, release)
  return response
}

// ---------------------------------------------------------------------------
// The fetch function
// ---------------------------------------------------------------------------

const abortReason = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException("This operation was aborted", "AbortError")

/** @internal */
export const fromRuntime = (
  runtime: Runtime.Runtime<PoolManager.PoolManager>,
  options: HttpoolFetch.Options = {}
): HttpoolFetch.Fetch => {
  const manager = Context.get(runtime.context, PoolManager.PoolManager)
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS
  const given = Retry.from(options.retries ?? DEFAULT_RETRIES)
  // Redirects are counted by the policy, up to fetch's maxRedirects; `false` retries nothing else.
  const noRetries = Retry.make({ ...NO_RETRIES, redirect: maxRedirects })
  const retries = Either.map(given, (policy) =>
    policy.total === false ? noRetries : retry.withRedirects(policy, maxRedirects)
  )
  const base: ConnectionPool.UrlopenOptions & redirect.WithRule = {
    [redirect.RuleId]: "fetch",
    retries: Either.getOrElse(retries, () => noRetries),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.decodeContent === undefined ? {} : { decodeContent: options.decodeContent })
  }
  const settings: Settings = {
    manager,
    urlopen: base,
    // A body read once cannot be sent again: no retries for it.
    streamedUrlopen: { ...base, retries: noRetries },
    invalid: Either.isLeft(retries) ? retries.left : null
  }
  const acceptEncoding = options.acceptEncoding ?? null
  const platform = runtime as Runtime.Runtime<never>

  const fetch = async (input: string | URL | globalThis.Request, init?: RequestInit): Promise<globalThis.Response> => {
    const request = new globalThis.Request(input, init)
    const signal = request.signal
    if (signal.aborted) throw abortReason(signal)
    const url = new URL(request.url)
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw networkError(new Error(`URL scheme must be a HTTP(S) scheme (${url.protocol})`))
    }
    const body = await bodyOf(request, init)
    if (signal.aborted) throw abortReason(signal)
    const outgoing: Outgoing = {
      method: request.method,
      url,
      headers: headersOf(manager, request, acceptEncoding),
      body
    }
    const answer = await new Promise<Answer>((resolve, reject) => {
      const fiber = Runtime.runFork(platform)(
        sendAll(settings, outgoing, request.redirect as "follow" | "manual" | "error")
      )
      const onAbort = () => {
        Runtime.runFork(platform)(Fiber.interrupt(fiber))
      }
      signal.addEventListener("abort", onAbort, { once: true })
      fiber.addObserver((exit) => {
        signal.removeEventListener("abort", onAbort)
        if (Exit.isSuccess(exit)) {
          if (signal.aborted) {
            Runtime.runFork(platform)(closeHop(exit.value.hop))
            reject(abortReason(signal))
          } else {
            resolve(exit.value)
          }
          return
        }
        if (signal.aborted) return reject(abortReason(signal))
        const failure = Cause.failureOption(exit.cause)
        reject(Option.isSome(failure) ? failure.value : networkError(Cause.squash(exit.cause)))
      })
    })
    return toResponse(platform, answer, request.method, signal)
  }
  return fetch as HttpoolFetch.Fetch
}

/** @internal */
export const make = (
  options?: HttpoolFetch.Options
): Effect.Effect<HttpoolFetch.Fetch, never, PoolManager.PoolManager> =>
  Effect.map(Effect.runtime<PoolManager.PoolManager>(), (runtime) => fromRuntime(runtime, options))
