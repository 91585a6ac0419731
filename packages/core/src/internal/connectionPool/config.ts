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
  const transport = checkTransport(options)
  if (transport !== null) return Either.left(transport)
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
  ProxySchemeUnknown | LocationValueError | LocationParseError | InvalidHeader | ValueError
> => {
  const socks = options.socksOptions ?? null
  if (socks !== null) return resolveSocks(socks, options.proxy ?? null)
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

const DEFAULT_BLOCKSIZE = 16384

const flag = (name: string, value: unknown): boolean | ValueError => {
  if (value === true || value === 1) return true
  if (value === false || value === 0) return false
  return new ValueError({ message: `socketOptions: ${name} takes a boolean, 1 or 0, got ${String(value)}` })
}

/** `socketOptions` by name into what a connector applies; null when not given. @internal */
export const socketOptionsOf = (
  options: ConnectionPool.Options
): Either.Either<Connector.SocketOptions | null, ValueError> => {
  const given: unknown = options.socketOptions
  if (given === undefined || given === null) return Either.right(null)
  if (!Array.isArray(given)) {
    return Either.left(new ValueError({ message: "socketOptions is a list of [name, value] entries" }))
  }
  let noDelay = false
  let keepAlive = false
  let keepAliveInitialDelay = 0
  for (const entry of given as ReadonlyArray<unknown>) {
    const [name, value] = Array.isArray(entry) && entry.length === 2 ? entry : [undefined, undefined]
    switch (name) {
      case "TCP_NODELAY":
      case "SO_KEEPALIVE": {
        const on = flag(name, value)
        if (on instanceof ValueError) return Either.left(on)
        if (name === "TCP_NODELAY") noDelay = on
        else keepAlive = on
        break
      }
      case "TCP_KEEPIDLE":
        if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
          return Either.left(
            new ValueError({
              message: `socketOptions: TCP_KEEPIDLE takes a positive number of seconds, got ${String(value)}`
            })
          )
        }
        keepAliveInitialDelay = Math.ceil(value * 1000)
        break
      default:
        return Either.left(
          new ValueError({
            message: `socketOptions: unsupported entry ${JSON.stringify(entry)}; supported: ["TCP_NODELAY", on], ["SO_KEEPALIVE", on], ["TCP_KEEPIDLE", seconds]`
          })
        )
    }
  }
  return Either.right({ noDelay, keepAlive, keepAliveInitialDelay })
}

/**
 * The transport options of a pool, checked: a socket path (not with a proxy), socket
 * options, and a blocksize that means something (only the default does here).
 *
 * @internal
 */
export const checkTransport = (options: ConnectionPool.Options): ValueError | null => {
  const socketPath: unknown = options.socketPath
  if (socketPath !== undefined && socketPath !== null) {
    if (typeof socketPath !== "string" || socketPath.length === 0 || socketPath.includes("\0")) {
      return new ValueError({ message: `socketPath must be a non-empty path, got ${JSON.stringify(socketPath)}` })
    }
    if (options.proxy !== undefined && options.proxy !== null) {
      return new ValueError({ message: "socketPath cannot be combined with a proxy" })
    }
  }
  const blocksize: unknown = options.blocksize
  if (blocksize !== undefined && blocksize !== null && blocksize !== DEFAULT_BLOCKSIZE) {
    return new ValueError({
      message: `blocksize ${String(blocksize)} is not supported: sockets here write what they are given and read what arrives (only the default ${DEFAULT_BLOCKSIZE} is accepted)`
    })
  }
  const socketOptions = socketOptionsOf(options)
  return Either.isLeft(socketOptions) ? socketOptions.left : null
}

/** The transport fields of a pool's connection target (options checked by `checkTransport`). @internal */
export const transportOf = (
  options: ConnectionPool.Options
): Pick<Connector.ConnectionTarget, "socketPath" | "socketOptions"> => ({
  socketPath: options.socketPath ?? null,
  socketOptions: Either.getOrNull(socketOptionsOf(options))
})

/** Most bytes of an RFC 1929 user name or password, and of a SOCKS5 host name. */
const SOCKS_FIELD_MAX = 255
const utf8 = new TextEncoder()

/** A pool's SOCKS proxy as the one hop of its route. */
const resolveSocks = (
  socks: ConnectionPool.SocksOptions,
  proxy: string | null
): Either.Either<ResolvedProxy, ValueError | LocationValueError> => {
  if (proxy !== null) {
    return Either.left(new ValueError({ message: "A pool goes through a proxy or a SOCKS proxy, not both" }))
  }
  if (socks.socksVersion !== 4 && socks.socksVersion !== 5) {
    return Either.left(new ValueError({ message: `socksVersion is 4 or 5, not ${String(socks.socksVersion)}` }))
  }
  let host = String(socks.proxyHost ?? "").trim()
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1)
  if (host.length === 0) return Either.left(new LocationValueError({ message: "No SOCKS proxy host specified." }))
  const port = socks.proxyPort
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return Either.left(new ValueError({ message: `Invalid SOCKS proxy port ${port}` }))
  }
  const username = socks.username ?? null
  const password = socks.password ?? null
  for (const [name, value] of [
    ["username", username],
    ["password", password]
  ] as const) {
    if (value !== null && socks.socksVersion === 5 && utf8.encode(value).length > SOCKS_FIELD_MAX) {
      return Either.left(new ValueError({ message: `A SOCKS5 ${name} is at most ${SOCKS_FIELD_MAX} bytes` }))
    }
    if (value?.includes("\0")) {
      return Either.left(new ValueError({ message: `A SOCKS ${name} cannot hold NUL` }))
    }
  }
  return Either.right({
    forward: false,
    headers: Headers.empty,
    route: [
      {
        _tag: "Socks",
        version: socks.socksVersion,
        remoteDns: socks.rdns === true,
        host: host.toLowerCase(),
        port,
        username,
        password
      }
    ]
  })
}
