import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import type * as ConnectionPool from "../../ConnectionPool.js"
import { UnrewindableBodyError, ValueError } from "../../Errors.js"

/** What goes on the wire as a body on one attempt. @internal */
export type Payload = string | Uint8Array | AsyncIterable<Uint8Array> | null

/**
 * A request body prepared once per call: `next` gives what to send on each attempt (text is
 * encoded once; a Stream is run again; an AsyncIterable can be sent once, after which `next`
 * is an UnrewindableBodyError, which is how redirects and retries rewind, or refuse to).
 *
 * @internal
 */
export interface PreparedBody {
  readonly next: () => Either.Either<Payload, UnrewindableBodyError>
  /** Bytes, when known up front (text and bytes). */
  readonly length: number | null
  readonly isStream: boolean
}

const encoder = new TextEncoder()

/** No body. @internal */
export const none: PreparedBody = { next: () => Either.right(null), length: null, isStream: false }

const preparedNone: Either.Either<PreparedBody, ValueError> = Either.right(none)

// A request's body is a class instance, not an object literal (see attempt.ts).

/** Bytes, sent again as they are. */
class Bytes implements PreparedBody {
  readonly isStream = false
  readonly length: number
  private readonly payload: Either.Either<Payload, UnrewindableBodyError>
  constructor(bytes: Uint8Array) {
    this.length = bytes.length
    this.payload = Either.right(bytes)
  }
  readonly next = () => this.payload
}

/** A stream, which is run again from its start for each attempt. */
class Streamed implements PreparedBody {
  readonly isStream = true
  readonly length = null
  constructor(private readonly stream: Stream.Stream<Uint8Array, unknown>) {}
  readonly next = () => Either.right(Stream.toAsyncIterable(this.stream))
}

/** An async iterable, which can be sent once. */
class Once implements PreparedBody {
  readonly isStream = true
  readonly length = null
  private used = false
  constructor(private readonly iterable: AsyncIterable<Uint8Array>) {}
  readonly next = (): Either.Either<Payload, UnrewindableBodyError> => {
    if (this.used) return Either.left(unrewindable())
    this.used = true
    return Either.right(this.iterable)
  }
}

const unrewindable = () =>
  new UnrewindableBodyError({
    message: "Unable to record file position for rewinding request body during a redirect/retry."
  })

const isAsyncIterable = (u: unknown): u is AsyncIterable<Uint8Array> =>
  typeof u === "object" && u !== null && Symbol.asyncIterator in u

/** @internal */
export const prepare = (body: ConnectionPool.Body | undefined): Either.Either<PreparedBody, ValueError> => {
  if (body === undefined || body === null) return preparedNone
  if (typeof body === "string") return Either.right(new Bytes(encoder.encode(body)))
  if (body instanceof Uint8Array) return Either.right(new Bytes(body))
  if (Stream.StreamTypeId in body) return Either.right(new Streamed(body as Stream.Stream<Uint8Array, unknown>))
  if (isAsyncIterable(body)) return Either.right(new Once(body))
  return Either.left(
    new ValueError({
      message: `Unsupported body type ${Object.prototype.toString.call(body)}: use a string, Uint8Array, Stream or AsyncIterable`
    })
  )
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  if (bytes.length > 0) yield bytes
}

/**
 * The payload as the transport gets it: with chunked framing, bytes (or no body at all) go
 * as an iterable, so the transport frames them in chunks and ends with the last chunk.
 *
 * @internal
 */
export const framed = (payload: Payload, chunked: boolean): Payload => {
  if (!chunked) return payload
  if (payload === null) return once(EMPTY)
  if (typeof payload === "string") return once(encoder.encode(payload))
  return payload instanceof Uint8Array ? once(payload) : payload
}

const EMPTY = new Uint8Array(0)
