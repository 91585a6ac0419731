/**
 * A WHATWG `fetch` function backed by httpool: for code, and libraries, that only know
 * `fetch`. Requests go through a PoolManager (or a ProxyManager, proxies from the
 * environment included) and its keep-alive pools; connection failures are retried as
 * urllib3 retries them, read failures too for idempotent methods; redirects follow fetch's
 * modes (`follow`, `manual`, `error`); request and response bodies stream; an `AbortSignal`
 * stops the request or its body; the `Request` and `Response` are the platform's own.
 *
 * @example
 * import { Effect } from "effect"
 * import { HttpoolFetch } from "@httpool/core"
 * import { NodePoolManager } from "@httpool/node"
 *
 * const program = Effect.gen(function* () {
 *   const fetch = yield* HttpoolFetch.make()
 *   const response = yield* Effect.promise(() => fetch("http://127.0.0.1:8080/"))
 *   return response.status
 * })
 * Effect.runPromise(program.pipe(Effect.provide(NodePoolManager.layer())))
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Runtime from "effect/Runtime"
import * as internal from "./internal/fetch.js"
import type * as PoolManager from "./PoolManager.js"
import type * as Retry from "./Retry.js"
import type * as Timeout from "./Timeout.js"

/**
 * The `fetch` function's type, the platform's.
 *
 * @since 0.1.0
 * @category models
 */
export type Fetch = typeof globalThis.fetch

/**
 * Options of a fetch function.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The retry policy of each fetch, its redirects included (they follow fetch's rule in the
   * request loop; the policy's `redirect` count is replaced by `maxRedirects`). Default
   * {@link DEFAULT_RETRIES}: up to 3 connection failures and, for idempotent methods, 3 read
   * failures; a response is always the answer, whatever its status. A request whose body is
   * a stream is never retried (its body cannot be sent twice).
   */
  readonly retries?: Retry.Input
  /** Timeouts of each request. Default: the pools'. */
  readonly timeout?: Timeout.Input
  /** Decode gzip, deflate, br (what the manager's ContentDecoder supports). Default true. */
  readonly decodeContent?: boolean
  /** Redirects followed in `follow` mode before failing. Default 20, as fetch's. */
  readonly maxRedirects?: number
  /**
   * The `Accept-Encoding` sent when a request gives none. Default null: httpool's `identity`.
   * Ask only for codings the manager's `ContentDecoder` decodes (`"gzip, deflate, br"` with
   * `NodeContentDecoder`), or set `decodeContent: false` to read them encoded.
   */
  readonly acceptEncoding?: string | null
}

/**
 * fetch's default retries: `Retry.make({ total: null, connect: 3, read: 3, other: 0,
 * status: 0, redirect: 0, respectRetryAfterHeader: false, raiseOnStatus: false })`.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_RETRIES: Retry.Retry = internal.DEFAULT_RETRIES

/**
 * A fetch function over the `PoolManager` of the current context. It runs on the current
 * Runtime: the manager must outlive the calls (its layer's Scope closing closes its pools,
 * and later calls fail with `TypeError: fetch failed` caused by `ClosedPoolError`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<Fetch, never, PoolManager.PoolManager> = internal.make

/**
 * A fetch function over the `PoolManager` of `runtime`, for code outside Effect: build the
 * runtime once, with `ManagedRuntime.make(NodePoolManager.layer())` for example, and dispose
 * of it when done.
 *
 * @example
 * import { ManagedRuntime } from "effect"
 * import { HttpoolFetch } from "@httpool/core"
 * import { NodePoolManager } from "@httpool/node"
 *
 * const main = async () => {
 *   const runtime = ManagedRuntime.make(NodePoolManager.layer())
 *   const fetch = HttpoolFetch.fromRuntime(await runtime.runtime())
 *   try {
 *     const response = await fetch("http://127.0.0.1:8080/", { headers: { Accept: "text/plain" } })
 *     console.log(response.status, await response.text())
 *   } finally {
 *     await runtime.dispose()
 *   }
 * }
 * main()
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromRuntime: (runtime: Runtime.Runtime<PoolManager.PoolManager>, options?: Options) => Fetch =
  internal.fromRuntime
