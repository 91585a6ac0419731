import * as Either from "effect/Either"
import type { LocationParseError, LocationValueError } from "../../Errors.js"
import * as Headers from "../../Headers.js"
import * as Retry from "../../Retry.js"
import * as Url from "../../Url.js"
import * as body from "./body.js"
import { type Attempt, hostLineOf } from "./attempt.js"
import { dropContentHeaders } from "./wire.js"

/**
 * The one redirect rule of httpool, for pools, managers, proxies and the HttpClient adapter
 * alike (urllib3 2.7.0's): the Location is resolved against the URL that answered; a 303
 * makes the request a GET without a body and without the body's headers, whatever the
 * method was (HEAD included); any other status keeps method and body (the body is rewound,
 * or UnrewindableBodyError when it cannot be); across origins the headers named by
 * `retries.removeHeadersOnRedirect` (Authorization, Cookie, Proxy-Authorization by default)
 * are dropped. `retries` is the policy already incremented for this redirect.
 *
 * @internal
 */
export const next = (
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
    return {
      method: seeOther ? "GET" : attempt.method,
      url: Url.format(parsed),
      parsed,
      target: Url.requestTarget(parsed),
      hostLine: hostLineOf(parsed),
      headers,
      body: seeOther ? body.none : attempt.body,
      retries
    }
  })
