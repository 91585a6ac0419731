import * as Either from "effect/Either"
import type * as ConnectionPool from "../../ConnectionPool.js"
import * as Connector from "../../Connector.js"
import {
  type InvalidHeader,
  type LocationParseError,
  LocationValueError,
  ProxySchemeUnknown,
  ValueError
} from "../../Errors.js"
import * as Headers from "../../Headers.js"
import * as Url from "../../Url.js"
import type { Origin } from "../request/attempt.js"

/** A pool's origin from its options: scheme http or https, host lower-cased without brackets, a valid port. @internal */
export const resolveOrigin = (
  options: ConnectionPool.Options
): Either.Either<Origin, ValueError | LocationValueError> => {
  const scheme = options.scheme ?? "http"
  if (scheme !== "http" && scheme !== "https") {
    return Either.left(new ValueError({ message: `A ConnectionPool's scheme is http or https, not ${scheme}` }))
  }
  let host = options.host.trim().toLowerCase()
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1)
  if (host.length === 0) return Either.left(new LocationValueError({ message: "No host specified." }))
  const port = options.port ?? Url.defaultPort(scheme)!
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Either.left(new ValueError({ message: `Invalid port ${port}` }))
  }
  return Either.right({ scheme, host, port })
}

/** How a pool reaches its origin through its proxy. @internal */
export interface ResolvedProxy {
  /** The pool's origin is the proxy: requests go in absolute form with the proxy headers. */
  readonly forward: boolean
  readonly headers: Headers.Headers
  /** The hops to the origin (the tunnel through the proxy); empty when forwarding or direct. */
  readonly route: ReadonlyArray<Connector.Hop>
}

/** @internal */
export const resolveProxy = (
  options: ConnectionPool.Options,
  origin: Origin
): Either.Either<
  ResolvedProxy | null,
  ProxySchemeUnknown | LocationValueError | LocationParseError | InvalidHeader
> => {
  if (options.proxy === undefined || options.proxy === null) return Either.right(null)
  const parsed = Url.parseAbsolute(options.proxy)
  if (Either.isLeft(parsed)) return Either.left(parsed.left)
  const url = parsed.right
  const scheme = url.scheme
  if (scheme !== "http" && scheme !== "https") return Either.left(new ProxySchemeUnknown({ scheme }))
  const host = Url.hostname(url) ?? ""
  const port = url.port ?? Url.defaultPort(scheme)!
  return Either.map(Headers.fromInput(options.proxyHeaders ?? undefined), (headers): ResolvedProxy => {
    const forward = origin.scheme === scheme && origin.host === host && origin.port === port
    if (forward) return { forward, headers, route: [] }
    const flat: Array<string> = []
    for (const [name, value] of headers) flat.push(name, value)
    return {
      forward,
      headers,
      route: [
        {
          _tag: "HttpConnect",
          scheme,
          host,
          port,
          tls: scheme === "https" ? Connector.makeTlsOptions(options.proxyConfig ?? {}) : null,
          headers: flat
        }
      ]
    }
  })
}
