/**
 * Responses as httpool's pools return them: preloaded (the body read, the connection back in
 * its pool) or streamed (the body read on demand while the connection stays leased).
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { DecodeError, ProtocolError, ReadTimeoutError } from "./Errors.js"
import type * as Headers from "./Headers.js"
import * as internal from "./internal/response.js"
import type * as Retry from "./Retry.js"

/**
 * What every response has.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResponseHead {
  readonly status: number
  /** The reason phrase, e.g. `"OK"`. */
  readonly reason: string
  readonly headers: Headers.Headers
  /** The method of the request that got this answer: after a 303, `GET`. */
  readonly method: string
  /** The URL that answered, after redirects. */
  readonly url: string
  /** The retry state after this request: its `history` lists every retry and redirect taken. */
  readonly retries: Retry.Retry | null
  /** The `Location` of a 3xx that would be followed, else null. */
  readonly redirectLocation: string | null
  /** The connection that carried the final request, when the pool reports it. */
  readonly connection?: ConnectionInfo | undefined
}

/**
 * What the pool knows about the connection that carried a request: tracing spans and
 * metrics are built from it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectionInfo {
  /** The pool, as `scheme://host:port`. */
  readonly pool: string
  /** The connection's id, unique in the process. */
  readonly id: number
  /** Whether the connection had carried a request before this one. */
  readonly reused: boolean
  /** How long the request waited for a free connection (a blocking pool at its `maxsize`), in milliseconds. */
  readonly waitedMillis: number
  /** The IP address the connection's socket is connected to (the proxy's, through a tunnel), or null. */
  readonly remoteAddress: string | null
}

/**
 * A preloaded response: the body was read in full (and decoded unless `decodeContent` was
 * false), and its connection went back to the pool before the response was returned.
 *
 * @since 0.1.0
 * @category models
 */
export interface Response extends ResponseHead {
  readonly data: Uint8Array
  /** The body decoded as UTF-8. */
  readonly text: string
  /** The body parsed as JSON; a body that is not JSON is a `DecodeError`. */
  readonly json: Effect.Effect<unknown, DecodeError>
}

/**
 * Errors reading a streamed body can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type BodyError = ProtocolError | ReadTimeoutError | DecodeError

/**
 * A streamed response. Its connection stays leased until `stream` has been read to the end
 * (then it goes back to the pool) or the Scope of the request closes (then, if the body was
 * not read in full, the connection is closed, never reused).
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamingResponse extends ResponseHead {
  /** The body, decoded unless `decodeContent` was false. Read it once. */
  readonly stream: Stream.Stream<Uint8Array, BodyError>
  /** Reads the whole body. */
  readonly data: Effect.Effect<Uint8Array, BodyError>
  /** Reads the whole body as UTF-8. */
  readonly text: Effect.Effect<string, BodyError>
  /** Reads the whole body and parses it as JSON. */
  readonly json: Effect.Effect<unknown, BodyError>
  /**
   * Reads and discards the rest of the body without decoding it, giving the connection back
   * (or closing it when the body cannot be read to its end). urllib3's `drain_conn`.
   */
  readonly drain: Effect.Effect<void>
}

/**
 * Parses a body as JSON, failing with a `DecodeError`.
 *
 * @since 0.1.0
 * @category utils
 */
export const parseJson: (data: Uint8Array) => Effect.Effect<unknown, DecodeError> = internal.parseJson

/**
 * Redirect statuses that are followed when they carry a `Location`: 301, 302, 303, 307, 308.
 *
 * @since 0.1.0
 * @category constants
 */
export const REDIRECT_STATUSES: ReadonlySet<number> = internal.REDIRECT_STATUSES

/**
 * Whether a response is a `StreamingResponse` (its body still to be read) rather than a
 * preloaded `Response`: what a wrapper that forwards `preloadContent: boolean` gets back.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isStreamingResponse = (response: Response | StreamingResponse): response is StreamingResponse =>
  "stream" in response
