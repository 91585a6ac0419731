import * as Either from "effect/Either"
import type * as ConnectionPool from "../../ConnectionPool.js"
import { type LocationParseError, LocationValueError, UnrewindableBodyError } from "../../Errors.js"
import * as Headers from "../../Headers.js"
import * as Retry from "../../Retry.js"
import * as Url from "../../Url.js"
import * as body from "./body.js"
import { type Attempt, make as makeAttempt, whereOf } from "./attempt.js"
import { dropContentHeaders } from "./wire.js"

/**
 * The rules a call follows a redirect by: `urllib3` (every entry point's) or `fetch`
 * (HttpoolFetch's, the WHATWG fetch standard's). The loop asks {@link next}, which reads
 * the call's rule from its options.
 *
 * @internal
 */
export type Rule = "urllib3" | "fetch"

/** Where a call's options name the rule, when it is not urllib3's (HttpoolFetch's options). @internal */
export const RuleId: unique symbol = Symbol.for("@httpool/core/RedirectRule")

/** Options that name a redirect rule. @internal */
export interface WithRule {
  readonly [RuleId]?: Rule
}

/**
 * The request a redirect makes of `attempt`, by the rule `opts` names (urllib3's unless
 * HttpoolFetch set fetch's). `retries` is the policy already incremented for this redirect.
 *
 * @internal
 */
export const next = (
  attempt: Attempt,
  status: number,
  location: string,
  retries: Retry.Retry,
  opts: ConnectionPool.UrlopenOptions
): Either.Either<Attempt, LocationValueError | LocationParseError | UnrewindableBodyError> =>
  (opts as WithRule)[RuleId] === "fetch"
    ? fetchNext(attempt, status, location, retries)
    : urllib3Next(attempt, status, location, retries)

/**
 * urllib3 2.7.0's rule, for pools, managers, proxies and the HttpClient adapter alike: the Location is resolved against the URL that answered; a 303
 * makes the request a GET without a body and without the body's headers, whatever the
 * method was (HEAD included); any other status keeps method and body (the body is rewound,
 * or UnrewindableBodyError when it cannot be); across origins the headers named by
 * `retries.removeHeadersOnRedirect` (Authorization, Cookie, Proxy-Authorization by default)
 * are dropped. `retries` is the policy already incremented for this redirect.
 *
 * @internal
 */
export const urllib3Next = (
  attempt: Attempt,
  status: number,
  location: string,
  retries: Retry.Retry
): Either.Either<Attempt, LocationValueError | LocationParseError> =>
  Either.map(Url.resolve(attempt.parsed, location), (parsed) => {
    const seeOther = status === 303
    let headers = seeOther ? dropContentHeaders(attempt.headers) : attempt.headers
    if (!Url.isSameOrigin(attempt.parsed, parsed)) {
      for (const [name] of headers) {
        if (Retry.removesHeaderOnRedirect(retries, name)) headers = Headers.remove(headers, name)
      }
    }
    return makeAttempt(
      seeOther ? "GET" : attempt.method,
      whereOf(Url.format(parsed), parsed),
      headers,
      seeOther ? body.none : attempt.body,
      retries
    )
  })

/** What fetch drops with the body when a redirect makes the request a GET (the request-body headers). */
const FETCH_BODY_HEADERS = [
  "Content-Encoding",
  "Content-Language",
  "Content-Location",
  "Content-Type",
  "Content-Length"
]

/** What fetch drops on a redirect to another origin (the standard's Authorization, and what undici drops besides). */
const FETCH_CREDENTIAL_HEADERS = ["Authorization", "Proxy-Authorization", "Cookie"]

/**
 * The fetch standard's rule (HttpoolFetch's): the Location must lead to http or https; a 301
 * or 302 turns a POST into a GET, and a 303 turns any method but GET and HEAD into a GET,
 * each without the body and the request-body headers; any other redirect keeps method and
 * body, and a streamed body cannot be sent again (UnrewindableBodyError unless a 303); across origins
 * Authorization, Proxy-Authorization and Cookie are dropped.
 *
 * @internal
 */
export const fetchNext = (
  attempt: Attempt,
  status: number,
  location: string,
  retries: Retry.Retry
): Either.Either<Attempt, LocationValueError | LocationParseError | UnrewindableBodyError> =>
  Either.flatMap(
    Url.resolve(attempt.parsed, location),
    (parsed): Either.Either<Attempt, LocationValueError | UnrewindableBodyError> => {
      if (parsed.scheme !== "http" && parsed.scheme !== "https") {
        return Either.left(
          new LocationValueError({
            message: `URL scheme must be a HTTP(S) scheme (redirect to ${parsed.scheme ?? "no scheme"}:)`
          })
        )
      }
      if (status !== 303 && attempt.body.isStream) {
        return Either.left(
          new UnrewindableBodyError({ message: "Cannot follow a redirect with a streamed request body" })
        )
      }
      const method = attempt.method
      const toGet =
        ((status === 301 || status === 302) && method === "POST") ||
        (status === 303 && method !== "GET" && method !== "HEAD")
      let headers = attempt.headers
      if (toGet) for (const name of FETCH_BODY_HEADERS) headers = Headers.remove(headers, name)
      if (!Url.isSameOrigin(attempt.parsed, parsed)) {
        for (const name of FETCH_CREDENTIAL_HEADERS) headers = Headers.remove(headers, name)
      }
      return Either.right(
        makeAttempt(
          toGet ? "GET" : method,
          whereOf(Url.format(parsed), parsed),
          headers,
          toGet ? body.none : attempt.body,
          retries
        )
      )
    }
  )
