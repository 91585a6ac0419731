import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { dual } from "effect/Function"
import * as Hash from "effect/Hash"
import { format as formatJson, NodeInspectSymbol } from "effect/Inspectable"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import { LocationParseError, LocationValueError, ProxySchemeUnknown, redactUrl } from "../Errors.js"
import type * as ProxyEnv from "../ProxyEnv.js"
import * as Url from "../Url.js"

// ---------------------------------------------------------------------------
// IP addresses
// ---------------------------------------------------------------------------

const IPV4 = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/
const H16 = /^[0-9a-fA-F]{1,4}$/

/** Strict dotted-decimal IPv4 (four decimal parts, 0-255, no leading zeros), as `inet_pton`. */
const parseIpv4 = (s: string): Array<number> | null => {
  const m = IPV4.exec(s)
  if (m === null) return null
  const bytes = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]
  for (const b of bytes) if (b > 255) return null
  return bytes
}

/** An RFC 4291 text address (`::` once at most, an IPv4 tail allowed), as 16 bytes. */
const parseIpv6 = (s: string): Array<number> | null => {
  if (s.length < 2 || s.length > 45) return null
  const gap = s.indexOf("::")
  if (gap !== -1 && s.indexOf("::", gap + 1) !== -1) return null
  const groups = (part: string): Array<number> | null => {
    if (part.length === 0) return []
    const pieces = part.split(":")
    const out: Array<number> = []
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece)
        if (v4 === null) return null
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3])
      } else {
        if (!H16.test(piece)) return null
        out.push(Number.parseInt(piece, 16))
      }
    }
    return out
  }
  let words: Array<number>
  if (gap === -1) {
    const all = groups(s)
    if (all === null || all.length !== 8) return null
    words = all
  } else {
    const head = s.slice(0, gap)
    const tail = s.slice(gap + 2)
    // An IPv4 tail may only end the address.
    if (head.includes(".")) return null
    const left = groups(head)
    const right = groups(tail)
    if (left === null || right === null || left.length + right.length > 7) return null
    words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
  }
  const bytes: Array<number> = []
  for (const w of words) bytes.push(w >> 8, w & 0xff)
  return bytes
}

/** RFC 5952 text: lower-case hex, no leading zeros, the first longest run of two or more zero groups as `::`. */
const formatIpv6 = (bytes: ReadonlyArray<number>): string => {
  const words: Array<number> = []
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1])
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = (from: number, to: number) =>
    words
      .slice(from, to)
      .map((w) => w.toString(16))
      .join(":")
  return bestStart === -1 ? hex(0, 8) : `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`
}

/** `address` with every bit past `prefixLength` cleared. */
const mask = (bytes: ReadonlyArray<number>, prefixLength: number): Array<number> =>
  bytes.map((b, i) => {
    const bits = prefixLength - i * 8
    if (bits >= 8) return b
    if (bits <= 0) return 0
    return b & (0xff << (8 - bits)) & 0xff
  })

/** Whether `bytes` lies in the network `network/prefixLength` (same family assumed). */
const inNetwork = (bytes: ReadonlyArray<number>, network: ReadonlyArray<number>, prefixLength: number): boolean => {
  let bits = prefixLength
  let i = 0
  while (bits >= 8) {
    if (bytes[i] !== network[i]) return false
    i++
    bits -= 8
  }
  return bits === 0 || (bytes[i] & (0xff << (8 - bits)) & 0xff) === network[i]
}

/** Drops an IPv6 zone id (`fe80::1%eth0`): zones take no part in matching. */
const withoutZone = (s: string): string => {
  const pct = s.indexOf("%")
  return pct === -1 ? s : s.slice(0, pct)
}

// ---------------------------------------------------------------------------
// Host names
// ---------------------------------------------------------------------------

const DOMAIN = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/

const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 128) return false
  return true
}

/** A host name lower-cased and IDNA-encoded as `Url.parse` does it, or null when it is not one. */
const normalizeName = (name: string): string | null => {
  if (isAscii(name)) return name.toLowerCase()
  const parsed = Url.parse(`http://${name}`)
  if (Either.isLeft(parsed)) return null
  const url = parsed.right
  return url.auth === null && url.port === null && url.path === null && url.query === null && url.fragment === null
    ? url.host
    : null
}

const stripTrailingDot = (s: string): string => (s.length > 1 && s.endsWith(".") ? s.slice(0, -1) : s)

// ---------------------------------------------------------------------------
// NO_PROXY
// ---------------------------------------------------------------------------

const ALL: ProxyEnv.NoProxyAll = { _tag: "All" }

const PORT = /^[0-9]{1,5}$/

/** A port as written after `:`, 1-65535; -1 when it is not one. */
const parseEntryPort = (s: string): number => {
  if (!PORT.test(s)) return -1
  const port = Number(s)
  return port >= 1 && port <= 65535 ? port : -1
}

const address = (
  family: 4 | 6,
  bytes: ReadonlyArray<number>,
  prefixLength: number,
  port: number | null
): ProxyEnv.NoProxyAddress => {
  const network = mask(bytes, prefixLength)
  return {
    _tag: "Address",
    family,
    address: family === 4 ? network.join(".") : formatIpv6(network),
    bytes: network,
    prefixLength,
    port
  }
}

/** `10.0.0.0/8`, `fe80::/10`, `[fe80::]/10`. */
const parseCidr = (entry: string): ProxyEnv.NoProxyAddress | null => {
  const slash = entry.lastIndexOf("/")
  const bits = entry.slice(slash + 1)
  if (!/^[0-9]{1,3}$/.test(bits)) return null
  const prefixLength = Number(bits)
  let host = entry.slice(0, slash)
  const bracketed = host.startsWith("[") && host.endsWith("]")
  if (bracketed) host = host.slice(1, -1)
  host = withoutZone(host)
  const v4 = bracketed ? null : parseIpv4(host)
  if (v4 !== null) return prefixLength <= 32 ? address(4, v4, prefixLength, null) : null
  const v6 = parseIpv6(host)
  return v6 !== null && prefixLength <= 128 ? address(6, v6, prefixLength, null) : null
}

/** One NO_PROXY token (already lower-cased, not empty), or null when it does not parse. */
const parseEntry = (entry: string): ProxyEnv.NoProxyEntry | null => {
  if (entry === "*") return ALL
  if (entry.includes("/")) return parseCidr(entry)
  if (entry.startsWith("[")) {
    const close = entry.indexOf("]")
    if (close === -1) return null
    const v6 = parseIpv6(withoutZone(entry.slice(1, close)))
    if (v6 === null) return null
    const rest = entry.slice(close + 1)
    if (rest.length === 0) return address(6, v6, 128, null)
    const port = rest.startsWith(":") ? parseEntryPort(rest.slice(1)) : -1
    return port === -1 ? null : address(6, v6, 128, port)
  }
  const colon = entry.indexOf(":")
  if (colon !== -1 && entry.indexOf(":", colon + 1) !== -1) {
    // Two colons or more: an IPv6 address without brackets, which cannot carry a port.
    const v6 = parseIpv6(withoutZone(entry))
    return v6 === null ? null : address(6, v6, 128, null)
  }
  let host = entry
  let port: number | null = null
  if (colon !== -1) {
    port = parseEntryPort(entry.slice(colon + 1))
    if (port === -1) return null
    host = entry.slice(0, colon)
  }
  host = stripTrailingDot(host)
  const v4 = parseIpv4(host)
  if (v4 !== null) return address(4, v4, 32, port)
  if (host.startsWith("*.")) host = host.slice(2)
  else if (host.startsWith(".")) host = host.slice(1)
  const domain = normalizeName(host)
  return domain !== null && DOMAIN.test(domain) ? { _tag: "Domain", domain, port } : null
}

/** @internal */
export const parseNoProxy = (value: string): ProxyEnv.NoProxy => {
  const entries: Array<ProxyEnv.NoProxyEntry> = []
  for (const token of value.split(/[\s,]+/)) {
    if (token.length === 0) continue
    const entry = parseEntry(token.toLowerCase())
    if (entry !== null) entries.push(entry)
  }
  return entries
}

/** @internal */
export const formatNoProxyEntry = (entry: ProxyEnv.NoProxyEntry): string => {
  switch (entry._tag) {
    case "All":
      return "*"
    case "Domain":
      return entry.port === null ? entry.domain : `${entry.domain}:${entry.port}`
    case "Address": {
      const full = entry.family === 4 ? 32 : 128
      if (entry.prefixLength !== full) return `${entry.address}/${entry.prefixLength}`
      if (entry.port === null) return entry.address
      return entry.family === 4 ? `${entry.address}:${entry.port}` : `[${entry.address}]:${entry.port}`
    }
  }
}

/** @internal */
export const formatNoProxy = (noProxy: ProxyEnv.NoProxy): string => noProxy.map(formatNoProxyEntry).join(",")

type Target =
  | { readonly _tag: "Name"; readonly name: string }
  | { readonly _tag: "Ip"; readonly family: 4 | 6; readonly bytes: ReadonlyArray<number> }

const parseTarget = (host: string): Target | null => {
  let h = host
  if (h.startsWith("[")) {
    if (!h.endsWith("]")) return null
    h = h.slice(1, -1)
  }
  if (h.includes(":")) {
    const v6 = parseIpv6(withoutZone(h))
    return v6 === null ? null : { _tag: "Ip", family: 6, bytes: v6 }
  }
  h = stripTrailingDot(h)
  const v4 = parseIpv4(h)
  if (v4 !== null) return { _tag: "Ip", family: 4, bytes: v4 }
  const name = normalizeName(h)
  return name === null || name.length === 0 ? null : { _tag: "Name", name }
}

/** @internal */
export const shouldBypass: {
  (host: string, port: number | null): (self: ProxyEnv.NoProxy) => boolean
  (self: ProxyEnv.NoProxy, host: string, port: number | null): boolean
} = dual(3, (self: ProxyEnv.NoProxy, host: string, port: number | null): boolean => {
  if (self.length === 0) return false
  let target: Target | null | undefined
  for (const entry of self) {
    if (entry._tag === "All") return true
    if (entry.port !== null && entry.port !== port) continue
    if (target === undefined) target = parseTarget(host)
    if (target === null) continue
    if (entry._tag === "Domain") {
      if (target._tag !== "Name") continue
      const name = target.name
      const domain = entry.domain
      if (
        name === domain ||
        (name.length > domain.length &&
          name.endsWith(domain) &&
          name.charCodeAt(name.length - domain.length - 1) === 46)
      ) {
        return true
      }
    } else if (target._tag === "Ip" && target.family === entry.family) {
      if (inNetwork(target.bytes, entry.bytes, entry.prefixLength)) return true
    }
  }
  return false
})

// ---------------------------------------------------------------------------
// Proxy URLs
// ---------------------------------------------------------------------------

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i
/** socks4, socks4a, socks5, socks5h (a SocksProxyManager's schemes). */
const SOCKS = /^socks(?:4a?|5h?)$/

const normalize = (
  value: string,
  source: string | null
): Either.Either<string, ProxySchemeUnknown | LocationParseError | LocationValueError> => {
  const trimmed = value.trim()
  const scheme = SCHEME.exec(trimmed)
  if (scheme !== null) {
    const name = scheme[1].toLowerCase()
    if (name !== "http" && name !== "https" && !SOCKS.test(name)) {
      return Either.left(new ProxySchemeUnknown({ scheme: name }))
    }
  }
  const candidate = scheme === null ? `http://${trimmed}` : trimmed
  const parsed = Url.parseAbsolute(candidate)
  if (Either.isRight(parsed)) return Either.right(Url.format(parsed.right))
  const error = parsed.left
  if (error._tag === "LocationParseError") {
    // The location may hold a password: keep only what can be shown.
    return Either.left(new LocationParseError({ location: redactUrl(candidate) }))
  }
  return Either.left(
    new LocationValueError({
      message: source === null ? error.message : `${error.message.replace(/\.$/, "")} in the proxy URL from ${source}.`
    })
  )
}

/** @internal */
export const normalizeProxyUrl = (
  value: string
): Either.Either<string, ProxySchemeUnknown | LocationParseError | LocationValueError> => normalize(value, null)

/** `http://<redacted>@proxy:3128` for a URL with credentials; the URL itself otherwise. */
const redactProxyUrl = (proxy: string | null): string | null => {
  if (proxy === null) return null
  const parsed = Url.parse(proxy)
  if (Either.isLeft(parsed)) return redactUrl(proxy)
  const url = parsed.right
  return url.auth === null ? proxy : Url.format(Url.make({ ...url, auth: "<redacted>" }))
}

// ---------------------------------------------------------------------------
// The value
// ---------------------------------------------------------------------------

/** @internal */
export const TypeId: ProxyEnv.TypeId = Symbol.for("@httpool/core/ProxyEnv") as ProxyEnv.TypeId

const hashField = (value: string | null): number => (value === null ? 0 : Hash.string(value))

/** @internal */
export class ProxyEnvImpl implements ProxyEnv.ProxyEnv {
  // Private fields: spreading, `Object.entries` or a test runner's diff never see credentials.
  readonly #http: string | null
  readonly #https: string | null
  readonly #noProxy: ProxyEnv.NoProxy

  constructor(http: string | null, https: string | null, noProxy: ProxyEnv.NoProxy) {
    this.#http = http
    this.#https = https
    this.#noProxy = noProxy
  }

  get [TypeId](): ProxyEnv.TypeId {
    return TypeId
  }

  get http(): string | null {
    return this.#http
  }

  get https(): string | null {
    return this.#https
  }

  get noProxy(): ProxyEnv.NoProxy {
    return this.#noProxy
  }

  [Equal.symbol](that: Equal.Equal): boolean {
    return (
      isProxyEnv(that) &&
      this.#http === that.http &&
      this.#https === that.https &&
      formatNoProxy(this.#noProxy) === formatNoProxy(that.noProxy)
    )
  }

  [Hash.symbol](): number {
    let h = hashField(this.#http)
    h = Hash.combine(hashField(this.#https))(h)
    h = Hash.combine(Hash.string(formatNoProxy(this.#noProxy)))(h)
    return Hash.cached(this, Hash.optimize(h))
  }

  pipe() {
    // biome-ignore lint/complexity/noArguments: pipeArguments takes the call's arguments
    return pipeArguments(this, arguments)
  }

  toJSON(): unknown {
    return {
      _id: "ProxyEnv",
      http: redactProxyUrl(this.#http),
      https: redactProxyUrl(this.#https),
      noProxy: this.#noProxy.map(formatNoProxyEntry)
    }
  }

  toString(): string {
    return formatJson(this.toJSON())
  }

  [NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

/** @internal */
export const isProxyEnv = (u: unknown): u is ProxyEnv.ProxyEnv => typeof u === "object" && u !== null && TypeId in u

/** @internal */
export const empty: ProxyEnv.ProxyEnv = new ProxyEnvImpl(null, null, [])

/** A value counts when it is not blank. */
const present = (value: string | null | undefined): value is string => value != null && value.trim().length > 0

const build = (
  http: readonly [string, string] | null,
  https: readonly [string, string] | null,
  noProxy: string | null
): Either.Either<ProxyEnv.ProxyEnv, ProxySchemeUnknown | LocationParseError | LocationValueError> => {
  let httpUrl: string | null = null
  let httpsUrl: string | null = null
  if (http !== null) {
    const r = normalize(http[0], http[1])
    if (Either.isLeft(r)) return Either.left(r.left)
    httpUrl = r.right
  }
  if (https !== null) {
    const r = normalize(https[0], https[1])
    if (Either.isLeft(r)) return Either.left(r.left)
    httpsUrl = r.right
  }
  return Either.right(new ProxyEnvImpl(httpUrl, httpsUrl, noProxy === null ? [] : parseNoProxy(noProxy)))
}

/** @internal */
export const make = (
  options: ProxyEnv.Options
): Either.Either<ProxyEnv.ProxyEnv, ProxySchemeUnknown | LocationParseError | LocationValueError> =>
  build(
    present(options.http) ? [options.http, "the http option"] : null,
    present(options.https) ? [options.https, "the https option"] : null,
    options.noProxy ?? null
  )

/**
 * The lower-case variable when it is defined at all (an empty one hides the upper-case
 * one), else the upper-case variable; a blank result is no value. Returns the value and the
 * variable it came from.
 */
const lookup = (
  env: ProxyEnv.Env,
  lower: string,
  upper: string | null
): readonly [value: string, name: string] | null => {
  const low = env[lower]
  if (low !== undefined) return present(low) ? [low, lower] : null
  if (upper === null) return null
  const up = env[upper]
  return present(up) ? [up, upper] : null
}

/** @internal */
export const fromEnv = (
  env: ProxyEnv.Env
): Either.Either<ProxyEnv.ProxyEnv, ProxySchemeUnknown | LocationParseError | LocationValueError> => {
  // A CGI request's `Proxy:` header arrives as HTTP_PROXY (httpoxy): under CGI only the
  // lower-case variable is trusted, as in Python's urllib.
  const cgi = env["REQUEST_METHOD"] !== undefined
  const all = lookup(env, "all_proxy", "ALL_PROXY")
  const noProxy = lookup(env, "no_proxy", "NO_PROXY")
  return build(
    lookup(env, "http_proxy", cgi ? null : "HTTP_PROXY") ?? all,
    lookup(env, "https_proxy", "HTTPS_PROXY") ?? all,
    noProxy === null ? null : noProxy[0]
  )
}

// ---------------------------------------------------------------------------
// Choosing a proxy
// ---------------------------------------------------------------------------

/** @internal */
export const proxyFor: {
  (url: Url.Url | string): (self: ProxyEnv.ProxyEnv) => Option.Option<string>
  (self: ProxyEnv.ProxyEnv, url: Url.Url | string): Option.Option<string>
} = dual(2, (self: ProxyEnv.ProxyEnv, target: Url.Url | string): Option.Option<string> => {
  let url: Url.Url
  if (typeof target === "string") {
    const parsed = Url.parse(target)
    if (Either.isLeft(parsed)) return Option.none()
    url = parsed.right
  } else {
    url = target
  }
  const scheme = url.scheme ?? "http"
  const proxy = scheme === "http" ? self.http : scheme === "https" ? self.https : null
  if (proxy === null || url.host === null || url.host.length === 0) return Option.none()
  return shouldBypass(self.noProxy, url.host, Url.portOrDefault(url)) ? Option.none() : Option.some(proxy)
})
