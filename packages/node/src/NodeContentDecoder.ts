/**
 * httpool's `ContentDecoder` for Node.js, over `node:zlib`: gzip (and x-gzip), deflate (zlib
 * or raw), br, and zstd where the runtime's zlib has it. Preloaded bodies are decoded with
 * zlib's one-shot functions, streamed ones with its streaming classes; the decoded size is
 * capped (a `DecodeError` past the cap, before the memory is spent). `NodeConnector.layer`
 * includes it.
 *
 * @since 0.1.0
 */
import type * as ContentDecoder from "@httpool/core/ContentDecoder"
import type * as Layer from "effect/Layer"
import * as internal from "./internal/decoder.js"

/**
 * The decoder.
 *
 * @since 0.1.0
 * @category constructors
 */
export const decoder: ContentDecoder.Service = internal.decoder

/**
 * Provides `ContentDecoder`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ContentDecoder.ContentDecoder> = internal.layer
