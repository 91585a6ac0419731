import * as Either from "effect/Either"
import type { LocationParseError, LocationValueError } from "../../Errors.js"
import type * as Headers from "../../Headers.js"
import type * as Retry from "../../Retry.js"
import * as Url from "../../Url.js"
import type { PreparedBody } from "./body.js"
import { hostHeader } from "./wire.js"

/**
 * One request of a call as it goes out: the first one, then one per redirect or retry. The
 * target is built once, when the attempt is made, and never parsed again: a pool sends a path
 * as it was given (percent-encoding only what must be), a manager the path of the URL it
 * parsed (dot segments removed, as urllib3's `parse_url`).
 *
 * @internal
 */
export interface Attempt {
  readonly method: string
  /** The URL as reported in the retry history and errors: a pool's path as given, else absolute. */
  readonly url: string
  /** The absolute URL, for origin checks and resolving redirects. */
  readonly parsed: Url.Url
  /** The origin-form request target, percent-encoded. */
  readonly target: string
  /** The Host of the origin asked (`host[:port]`, the port left out when it is the default). */
  readonly hostLine: string
  readonly headers: Headers.Headers
  readonly body: PreparedBody
  readonly retries: Retry.Retry
}

/** Where a attempt goes: its URL, parsed URL, target and Host. @internal */
export type Where = Pick<Attempt, "url" | "parsed" | "target" | "hostLine">

// The records of a request are class instances, not object literals, here and along the
// request path: V8 allocates the literals of a hot site straight into the old generation once
// it has seen them survive a young collection (allocation-site pretenuring), and an old record
// holding a request's young objects keeps them, and all they hold, past every young collection
// until a full one. Instances of classes are always allocated young. docs/performance.md has
// the measurements.

class WhereOf implements Where {
  constructor(
    readonly url: string,
    readonly parsed: Url.Url,
    readonly target: string,
    readonly hostLine: string
  ) {}
}

/** A `Where` of an absolute URL. @internal */
export const whereOf = (url: string, parsed: Url.Url): Where =>
  new WhereOf(url, parsed, Url.requestTarget(parsed), hostLineOf(parsed))

class AttemptOf implements Attempt {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly parsed: Url.Url,
    readonly target: string,
    readonly hostLine: string,
    readonly headers: Headers.Headers,
    readonly body: PreparedBody,
    readonly retries: Retry.Retry
  ) {}
}

/** An attempt of `method` to `where`. @internal */
export const make = (
  method: string,
  where: Where,
  headers: Headers.Headers,
  body: PreparedBody,
  retries: Retry.Retry
): Attempt => new AttemptOf(method, where.url, where.parsed, where.target, where.hostLine, headers, body, retries)

/** `attempt` again, counting against `retries`. @internal */
export const withRetries = (attempt: Attempt, retries: Retry.Retry): Attempt =>
  make(attempt.method, attempt, attempt.headers, attempt.body, retries)

/** The origin a pool serves. @internal */
export interface Origin {
  readonly scheme: "http" | "https"
  /** Lower-case, IPv6 without brackets. */
  readonly host: string
  readonly port: number
}

/** A pool's origin with its Host line. @internal */
export interface PoolOrigin extends Origin {
  readonly hostLine: string
}

const urlHost = (host: string) => (host.includes(":") ? `[${host}]` : host)

/**
 * The URL and target of a request given to a pool: a path (anything starting with `/`,
 * `//x` included) is the target itself, sent as given; an absolute URL is parsed and sent
 * in origin form.
 *
 * @internal
 */
export const fromPoolInput = (
  origin: PoolOrigin,
  input: string
): Either.Either<Where, LocationValueError | LocationParseError> => {
  if (input.startsWith("/")) {
    const target = Url.encodeTarget(input)
    const hash = target.indexOf("#")
    const bare = hash === -1 ? target : target.slice(0, hash)
    const q = bare.indexOf("?")
    const parsed = Url.make({
      scheme: origin.scheme,
      host: urlHost(origin.host),
      port: origin.port,
      path: q === -1 ? bare : bare.slice(0, q),
      query: q === -1 ? null : bare.slice(q + 1)
    })
    return Either.right(new WhereOf(input, parsed, target, origin.hostLine))
  }
  return Either.map(Url.parseAbsolute(input), (parsed) => whereOf(input, parsed))
}

/** The URL and target of a request given to a manager: an absolute URL, parsed once. @internal */
export const fromAbsolute = (input: string): Either.Either<Where, LocationValueError | LocationParseError> =>
  Either.map(Url.parseAbsolute(input), (parsed) => whereOf(input, parsed))

/** The Host of the origin a URL names. @internal */
export const hostLineOf = (url: Url.Url): string => {
  const scheme = url.scheme ?? "http"
  return hostHeader(scheme, Url.hostname(url) ?? "", url.port ?? Url.defaultPort(scheme) ?? 80)
}

/** How many URLs `memoized` keeps before it starts over. */
const MEMO_SIZE = 512

/**
 * `where` remembered per URL string: a program that asks for the same URLs again (most do)
 * parses each once. The results are immutable values, so sharing them is safe.
 *
 * @internal
 */
export const memoized = <E>(where: (input: string) => Either.Either<Where, E>) => {
  const seen = new Map<string, Either.Either<Where, E>>()
  return (input: string): Either.Either<Where, E> => {
    let found = seen.get(input)
    if (found === undefined) {
      found = where(input)
      if (seen.size >= MEMO_SIZE) seen.clear()
      seen.set(input, found)
    }
    return found
  }
}
