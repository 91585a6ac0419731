/**
 * The `HttpClient` of @effect/platform over an httpool `PoolManager`: a program written against
 * `HttpClient.HttpClient` gets httpool's pools, proxies, retries and urllib3-style redirects
 * by swapping one layer.
 *
 * Each request goes through `PoolManager.urlopen` with a streamed response: the body is read
 * from the pooled connection, which goes back to its pool once the body has been read to its
 * end, and is closed (never reused) when the body is abandoned: a read that is interrupted,
 * a stream stopped early, the request fiber interrupted, an unread response garbage
 * collected, or the Scope of `HttpClient.withScope` closing. The client is built with
 * @effect/platform's `HttpClient.makeWith`: it makes the same span as `HttpClient.make`
 * (attributes, trace propagation, `withTracerDisabledWhen`, `SpanNameGenerator`), without an
 * AbortController or a wrapper per request.
 *
 * Failures are @effect/platform's errors with httpool's tagged error as `cause`: a
 * `RequestError` with reason `"InvalidUrl"` for URL errors, `"Encode"` for a request that
 * cannot be sent as given, `"Transport"` for everything on the way (so
 * `HttpClient.retryTransient` retries it), and a `ResponseError` with reason `"Decode"` for
 * a body that cannot be read.
 *
 * @example
 * import { HttpClient as PlatformHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { HttpClient } from "@httpool/core"
 * import { NodePoolManager } from "@httpool/node"
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* PlatformHttpClient.HttpClient
 *   const response = yield* client.get("http://127.0.0.1:8080/")
 *   return yield* response.json
 * })
 * const layer = HttpClient.layer().pipe(Layer.provide(NodePoolManager.layer()))
 * Effect.runPromise(program.pipe(Effect.provide(layer)))
 *
 * @since 0.1.0
 */
import type * as PlatformHttpClient from "@effect/platform/HttpClient"
import type * as Layer from "effect/Layer"
import type { HttpoolError } from "./Errors.js"
import * as internal from "./internal/httpClient.js"
import type * as PoolManager from "./PoolManager.js"
import type * as Retry from "./Retry.js"
import type * as Timeout from "./Timeout.js"

/**
 * Options of the adapter, applied to every request it sends.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Follow redirects as urllib3 does (301, 302, 303, 307, 308, across hosts; a 303 becomes a
   * GET without a body; `Authorization`, `Cookie` and `Proxy-Authorization` are dropped when
   * the origin changes). `false` returns the 3xx response as it is. Default true.
   */
  readonly followRedirects?: boolean
  /**
   * The retry policy (also the redirect limit, `{ redirect: n }`). Default: the manager's
   * `connectionPoolKw.retries`, else `Retry(3)`.
   */
  readonly retries?: Retry.Input
  /**
   * The timeout of each request, merged over the pool's field by field. Default: the
   * manager's `connectionPoolKw.timeout`, else `Timeout.DEFAULT` (connect 10 s, read 300 s).
   */
  readonly timeout?: Timeout.Input
  /**
   * Decode gzip, deflate and br bodies (the `Content-Encoding` header is left as it came).
   * httpool asks for `Accept-Encoding: identity` unless the request sets that header.
   * Default true.
   */
  readonly decodeContent?: boolean
  /**
   * The `Accept-Encoding` sent when a request gives none. Default null: httpool's
   * `identity` (`NodeHttpClient.layer*` default to `"gzip, deflate, br"`). Ask only for
   * codings the manager's `ContentDecoder` decodes, or set `decodeContent: false` to read
   * them encoded.
   */
  readonly acceptEncoding?: string | null
}

/**
 * An @effect/platform `HttpClient` sending every request through `manager`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (manager: PoolManager.Service, options?: Options) => PlatformHttpClient.HttpClient = internal.make

/**
 * A Layer providing @effect/platform's `HttpClient` over the `PoolManager` it is given (a
 * PoolManager or a ProxyManager).
 *
 * @example
 * import { HttpClient } from "@httpool/core"
 * import { NodePoolManager } from "@httpool/node"
 * import { Layer } from "effect"
 *
 * const HttpLive = HttpClient.layer({ followRedirects: false }).pipe(
 *   Layer.provide(NodePoolManager.layer({ numPools: 20 }))
 * )
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options?: Options) => Layer.Layer<PlatformHttpClient.HttpClient, never, PoolManager.PoolManager> =
  internal.layer

/**
 * The `RequestError` reason an httpool error is reported with: `"InvalidUrl"` for URL
 * errors (`isLocationValueError`), `"Encode"` for `ValueError`, `InvalidHeader` and
 * `UnrewindableBodyError`, `"Transport"` for every other error.
 *
 * @since 0.1.0
 * @category errors
 */
export const requestErrorReason: (error: HttpoolError) => "Transport" | "Encode" | "InvalidUrl" =
  internal.requestErrorReason
