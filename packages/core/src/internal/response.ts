import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { DecodeError } from "../Errors.js"
import type * as Headers from "../Headers.js"
import type * as Retry from "../Retry.js"
import type * as Response from "../Response.js"

const utf8 = new TextDecoder("utf-8")

/** @internal */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])

/** @internal */
export const decodeText = (data: Uint8Array): string => utf8.decode(data)

/** @internal */
export const parseJson = (data: Uint8Array): Effect.Effect<unknown, DecodeError> =>
  Effect.try({
    try: () => JSON.parse(utf8.decode(data)) as unknown,
    catch: (cause) => new DecodeError({ message: `The response body is not valid JSON: ${String(cause)}`, cause })
  })

/** @internal */
export type Head = Response.ResponseHead

/** A `Head` as the request loop makes one per response (a class instance: see request/attempt.ts). @internal */
export class HeadOf implements Head {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: Headers.Headers,
    readonly method: string,
    readonly url: string,
    readonly retries: Retry.Retry | null,
    readonly redirectLocation: string | null,
    readonly connection: Response.ConnectionInfo | undefined
  ) {}
}

/** What a pool reports of the connection that carried a request (a class instance: see request/attempt.ts). @internal */
export class ConnectionInfoOf implements Response.ConnectionInfo {
  constructor(
    readonly pool: string,
    readonly id: number,
    readonly reused: boolean,
    readonly waitedMillis: number,
    readonly remoteAddress: string | null
  ) {}
}

/** The head every response carries, copied out of a `Head` (a flat object is cheapest to read). */
abstract class HeadFields {
  readonly status: number
  readonly reason: string
  readonly headers: Headers.Headers
  readonly method: string
  readonly url: string
  readonly retries: Retry.Retry | null
  readonly redirectLocation: string | null
  readonly connection: Response.ConnectionInfo | undefined
  constructor(head: Head) {
    this.status = head.status
    this.reason = head.reason
    this.headers = head.headers
    this.method = head.method
    this.url = head.url
    this.retries = head.retries
    this.redirectLocation = head.redirectLocation
    this.connection = head.connection
  }
  toJSON(): unknown {
    return {
      status: this.status,
      reason: this.reason,
      headers: this.headers,
      method: this.method,
      url: this.url,
      redirectLocation: this.redirectLocation
    }
  }
}

/** A preloaded response: its text is decoded on first use; built once per request, so kept lean. */
class PreloadedResponse extends HeadFields implements Response.Response {
  private decoded: string | undefined = undefined
  constructor(
    head: Head,
    readonly data: Uint8Array
  ) {
    super(head)
  }
  get text(): string {
    if (this.decoded === undefined) this.decoded = utf8.decode(this.data)
    return this.decoded
  }
  get json(): Effect.Effect<unknown, DecodeError> {
    return parseJson(this.data)
  }
}

/** @internal */
export const makeResponse = (head: Head, data: Uint8Array): Response.Response => new PreloadedResponse(head, data)

/** Where a streamed response's body comes from; each is called when the body is read. @internal */
export interface BodySource {
  readonly stream: () => Stream.Stream<Uint8Array, Response.BodyError>
  readonly data: () => Effect.Effect<Uint8Array, Response.BodyError>
  readonly drain: () => Effect.Effect<void>
  /** The whole body as it is to be read, when it is all in memory and no connection is held for it. */
  readonly whole?: Uint8Array
}

/** A streamed response: nothing of its body is set up until it is read. */
class StreamedResponse extends HeadFields implements Response.StreamingResponse {
  constructor(
    head: Head,
    private readonly source: BodySource
  ) {
    super(head)
  }
  get wholeBody(): Uint8Array | undefined {
    return this.source.whole
  }
  get stream(): Stream.Stream<Uint8Array, Response.BodyError> {
    return Stream.suspend(this.source.stream)
  }
  get data(): Effect.Effect<Uint8Array, Response.BodyError> {
    return Effect.suspend(this.source.data)
  }
  get text(): Effect.Effect<string, Response.BodyError> {
    return Effect.map(this.data, decodeText)
  }
  get json(): Effect.Effect<unknown, Response.BodyError> {
    return Effect.flatMap(this.data, parseJson)
  }
  get drain(): Effect.Effect<void> {
    return Effect.suspend(this.source.drain)
  }
}

/** @internal */
export const makeStreamingResponse = (head: Head, source: BodySource): Response.StreamingResponse =>
  new StreamedResponse(head, source)

/**
 * The whole body of a streamed response of the request loop when all of it is in memory
 * (it arrived with the head, needs no decoding, and no connection is held for it); null
 * otherwise. The HttpClient adapter answers such a response without a stream.
 *
 * @internal
 */
export const wholeBodyOf = (self: Response.StreamingResponse): Uint8Array | null =>
  self instanceof StreamedResponse ? (self.wholeBody ?? null) : null
