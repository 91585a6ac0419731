/**
 * Decoding of `Content-Encoding`s. httpool's request loop decides which codings of a response
 * to undo, in which order and up to which size; a `ContentDecoder` does the decompressing.
 * `@httpool/node` provides one over Node's zlib (gzip, deflate, br, and zstd where the runtime
 * has it) in `NodeContentDecoder.layer`, which `NodeConnector.layer` includes.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { DecodeError } from "./Errors.js"

/**
 * A decoder of content codings. `maxOutput` caps the decoded size in bytes: past it, a
 * `DecodeError`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Lower-case codings this decoder understands (e.g. gzip, x-gzip, deflate, br). */
  readonly supported: ReadonlySet<string>
  readonly decode: (encoding: string, data: Uint8Array, maxOutput: number) => Effect.Effect<Uint8Array, DecodeError>
  readonly decodeStream: (
    encoding: string,
    maxOutput: number
  ) => <E, R>(stream: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E | DecodeError, R>
}

/**
 * The ContentDecoder service.
 *
 * @since 0.1.0
 * @category tags
 */
export class ContentDecoder extends Context.Tag("@httpool/core/ContentDecoder")<ContentDecoder, Service>() {}

/**
 * A decoder that understands no coding: every body passes through as it came. For
 * platforms without codecs, and tests that want the bytes on the wire.
 *
 * @since 0.1.0
 * @category constructors
 */
export const identity: Service = {
  supported: new Set(),
  decode: (_encoding, data) => Effect.succeed(data),
  decodeStream: () => (stream) => stream
}
