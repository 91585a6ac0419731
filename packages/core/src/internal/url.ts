import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { dual } from "effect/Function"
import * as Hash from "effect/Hash"
import { NodeInspectSymbol } from "effect/Inspectable"
import { pipeArguments } from "effect/Pipeable"
import { LocationParseError, LocationValueError } from "../Errors.js"
import type * as Url from "../Url.js"
import {
  AUTHORITY_END,
  CLOSE_BRACKET,
  COLON,
  IPV6,
  OPEN_BRACKET,
  PATH,
  PERCENT,
  QUERY,
  SCHEME,
  SLASH,
  USERINFO,
  encodeInvalid,
  isAlpha,
  isControl,
  isEncodedControl,
  isHex,
  lowerAscii,
  table
} from "./url/chars.js"
import { idnaLabel } from "./url/idna.js"
import { join } from "./url/join.js"

// ---------------------------------------------------------------------------
// The value
// ---------------------------------------------------------------------------

/** @internal */
export const TypeId: Url.TypeId = Symbol.for("@httpool/core/Url") as Url.TypeId

const hashField = (value: string | null): number => (value === null ? 0 : Hash.string(value))

/** @internal */
export class UrlImpl implements Url.Url {
  constructor(
    readonly scheme: string | null,
    readonly auth: string | null,
    readonly host: string | null,
    readonly port: number | null,
    readonly path: string | null,
    readonly query: string | null,
    readonly fragment: string | null
  ) {}

  get [TypeId](): Url.TypeId {
    return TypeId
  }

  [Equal.symbol](that: Equal.Equal): boolean {
    return (
      isUrl(that) &&
      this.scheme === that.scheme &&
      this.auth === that.auth &&
      this.host === that.host &&
      this.port === that.port &&
      this.path === that.path &&
      this.query === that.query &&
      this.fragment === that.fragment
    )
  }

  [Hash.symbol](): number {
    let h = hashField(this.scheme)
    h = Hash.combine(hashField(this.auth))(h)
    h = Hash.combine(hashField(this.host))(h)
    h = Hash.combine(this.port === null ? -1 : this.port)(h)
    h = Hash.combine(hashField(this.path))(h)
    h = Hash.combine(hashField(this.query))(h)
    h = Hash.combine(hashField(this.fragment))(h)
    return Hash.cached(this, Hash.optimize(h))
  }

  pipe() {
    // biome-ignore lint/complexity/noArguments: pipeArguments takes the call's arguments
    return pipeArguments(this, arguments)
  }

  toJSON(): unknown {
    return {
      _id: "Url",
      scheme: this.scheme,
      auth: this.auth === null ? null : "<redacted>",
      host: this.host,
      port: this.port,
      path: this.path,
      query: this.query,
      fragment: this.fragment
    }
  }

  toString(): string {
    return format(this)
  }

  [NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

/** @internal */
export const isUrl = (u: unknown): u is Url.Url => typeof u === "object" && u !== null && TypeId in u

const EMPTY = new UrlImpl(null, null, null, null, null, null, null)

/** @internal */
export const make = (fields: Url.Fields): Url.Url => {
  const path = fields.path ?? null
  return new UrlImpl(
    fields.scheme == null ? null : fields.scheme.toLowerCase(),
    fields.auth ?? null,
    fields.host ?? null,
    fields.port ?? null,
    path !== null && path.length > 0 && path.charCodeAt(0) !== SLASH ? `/${path}` : path,
    fields.query ?? null,
    fields.fragment ?? null
  )
}

// ---------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------

/** Whether some segment of the path is `.` or `..`. */
const hasDotSegment = (path: string): boolean => {
  let k = path.indexOf(".")
  while (k !== -1) {
    if (k === 0 || path.charCodeAt(k - 1) === SLASH) {
      const next = k + 1 < path.length ? path.charCodeAt(k + 1) : SLASH
      if (next === SLASH) return true
      if (next === 46) {
        const after = k + 2 < path.length ? path.charCodeAt(k + 2) : SLASH
        if (after === SLASH) return true
      }
    }
    k = path.indexOf(".", k + 1)
  }
  return false
}

/**
 * Removes `.` and `..` segments the way urllib3 does: a `..` drops the previous segment when
 * there is one (even the empty one before a leading `/`), a path that started with `/` keeps
 * it, and a path ending in `/.` or `/..` keeps its trailing `/`.
 */
const removeDotSegments = (path: string): string => {
  if (!hasDotSegment(path)) return path
  const kept: Array<string> = []
  let start = 0
  for (;;) {
    const slash = path.indexOf("/", start)
    const segment = slash === -1 ? path.slice(start) : path.slice(start, slash)
    if (segment === "..") kept.pop()
    else if (segment !== ".") kept.push(segment)
    if (slash === -1) break
    start = slash + 1
  }
  if (path.charCodeAt(0) === SLASH && (kept.length === 0 || kept[0] !== "")) kept.unshift("")
  if (path.endsWith("/.") || path.endsWith("/..")) kept.push("")
  return kept.join("/")
}

// ---------------------------------------------------------------------------
// Hosts
// ---------------------------------------------------------------------------

/** RFC 6874 zone id, with the `%25` separator or a bare `%`. */
const ZONE = /^(?:%25|%)(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+$/

/** Upper-cases the `%xx` escapes of a string whose every `%` starts one. */
const upperEscapes = (s: string): string => s.replace(/%[0-9A-Fa-f]{2}/g, (e) => e.toUpperCase())

const hasControl = (s: string, start: number, end: number): boolean => {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (isControl(c)) return true
    if (c === PERCENT && i + 2 < end && isEncodedControl(s.charCodeAt(i + 1), s.charCodeAt(i + 2))) return true
  }
  return false
}

/** The bracketed literal `[addr%zone]`, normalised when asked, or null when invalid. */
const ipLiteral = (literal: string, normalize: boolean): string | null => {
  const inner = literal.slice(1, -1)
  const pct = inner.indexOf("%")
  const address = pct === -1 ? inner : inner.slice(0, pct)
  if (!IPV6.test(address)) return null
  if (pct === -1) return normalize ? literal.toLowerCase() : literal
  const zone = inner.slice(pct)
  if (!ZONE.test(zone)) return null
  if (!normalize) return literal
  const id = zone.startsWith("%25") && zone !== "%25" ? zone.slice(3) : zone.slice(1)
  return `[${address.toLowerCase()}%${upperEscapes(id)}]`
}

/** A reg-name or IPv4 host, lower-cased and IDNA-encoded, or null when a label fails IDNA. */
const normalizeRegName = (host: string): string | null => {
  let ascii = true
  for (let i = 0; i < host.length; i++) {
    if (host.charCodeAt(i) >= 128) {
      ascii = false
      break
    }
  }
  if (ascii) return lowerAscii(host)
  const labels = host.split(".")
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]
    let labelAscii = true
    for (let j = 0; j < label.length; j++) {
      if (label.charCodeAt(j) >= 128) {
        labelAscii = false
        break
      }
    }
    if (labelAscii) {
      labels[i] = lowerAscii(label)
    } else {
      const encoded = idnaLabel(label)
      if (encoded === null) return null
      labels[i] = encoded
    }
  }
  return labels.join(".")
}

// ---------------------------------------------------------------------------
// parse
// ---------------------------------------------------------------------------

/** The port digits in `s[start, end)`: null when absent or empty, -1 when invalid. */
const parsePort = (s: string, start: number, end: number): number | null => {
  if (start === end) return null
  let i = start
  while (i < end && s.charCodeAt(i) === 48) i++
  if (end - i > 5) return -1
  let value = 0
  for (let j = start; j < end; j++) {
    const c = s.charCodeAt(j)
    if (c < 48 || c > 57) return -1
    value = value * 10 + (c - 48)
  }
  return value > 65535 ? -1 : value
}

/**
 * Scans `s` from `start` to the first of `stop1` or `stop2` (char codes; -1 for none) and
 * tells whether every character on the way is ASCII in `allowed`. Results are left in
 * `scanEnd` and `scanClean` so the hot path allocates nothing for them.
 */
let scanEnd = 0
let scanClean = true
let scanDot = false
const scan = (s: string, start: number, stop1: number, stop2: number, allowed: number): void => {
  const len = s.length
  let clean = true
  let dot = false
  let i = start
  for (; i < len; i++) {
    const c = s.charCodeAt(i)
    if (c === stop1 || c === stop2) break
    if (c === 46) dot = true
    else if (c >= 128 || (table[c] & allowed) === 0) clean = false
  }
  scanEnd = i
  scanClean = clean
  scanDot = dot
}

/** The parsed URL, or null when it does not parse. */
const parseOrNull = (input: string): UrlImpl | null => {
  const len = input.length
  if (len === 0) return EMPTY
  let scheme: string | null = null
  let pos = 0
  let hasAuthority = false
  const first = input.charCodeAt(0)
  if (first === SLASH) {
    if (len > 1 && input.charCodeAt(1) === SLASH) {
      hasAuthority = true
      pos = 2
    }
  } else {
    let colon = -1
    let upperCase = false
    if (isAlpha(first)) {
      let j = 0
      while (j < len) {
        const c = input.charCodeAt(j)
        if (c >= 128 || (table[c] & SCHEME) === 0) break
        if (c <= 90 && c >= 65) upperCase = true
        j++
      }
      if (j < len && input.charCodeAt(j) === COLON) colon = j
    }
    if (colon === -1) {
      // No scheme and no leading slash: the input starts with an authority.
      hasAuthority = true
    } else {
      scheme = input.slice(0, colon)
      if (upperCase) scheme = scheme.toLowerCase()
      pos = colon + 1
      if (pos + 1 < len && input.charCodeAt(pos) === SLASH && input.charCodeAt(pos + 1) === SLASH) {
        hasAuthority = true
        pos += 2
      }
    }
  }
  const normalize = scheme === null || scheme === "http" || scheme === "https"

  let auth: string | null = null
  let host: string | null = null
  let port: number | null = null
  if (hasAuthority) {
    let end = pos
    while (end < len) {
      const c = input.charCodeAt(end)
      if (c < 128 && (table[c] & AUTHORITY_END) !== 0) break
      end++
    }
    if (end > pos) {
      const at = input.lastIndexOf("@", end - 1)
      let start = pos
      if (at >= pos) {
        if (at > pos) auth = input.slice(pos, at)
        start = at + 1
      }
      let portStart = -1
      if (start < end && input.charCodeAt(start) === OPEN_BRACKET) {
        const close = input.indexOf("]", start)
        if (close === -1 || close >= end) return null
        if (close + 1 < end) {
          if (input.charCodeAt(close + 1) !== COLON) return null
          portStart = close + 2
        }
        if (hasControl(input, start, close)) return null
        host = ipLiteral(input.slice(start, close + 1), normalize)
        if (host === null) return null
      } else {
        let hostEnd = end
        let upperCase = false
        let nonAscii = false
        for (let i = start; i < end; i++) {
          const c = input.charCodeAt(i)
          if (c === COLON) {
            hostEnd = i
            portStart = i + 1
            break
          }
          if (c <= 90 && c >= 65) upperCase = true
          else if (c === OPEN_BRACKET || c === CLOSE_BRACKET || isControl(c)) return null
          else if (c >= 128) nonAscii = true
          else if (c === PERCENT) {
            if (i + 2 >= end || !isHex(input.charCodeAt(i + 1)) || !isHex(input.charCodeAt(i + 2))) return null
            if (isEncodedControl(input.charCodeAt(i + 1), input.charCodeAt(i + 2))) return null
            i += 2
            upperCase = true
          }
        }
        host = input.slice(start, hostEnd)
        if (normalize) {
          if (nonAscii) {
            host = normalizeRegName(host)
            if (host === null) return null
          } else if (upperCase) {
            host = host.toLowerCase()
          }
        }
      }
      if (portStart !== -1) {
        port = parsePort(input, portStart, end)
        if (port === -1) return null
      }
      if (auth !== null && normalize) auth = encodeInvalid(auth, USERINFO)
    }
    pos = end
  }

  scan(input, pos, 63, 35, PATH)
  const pathEnd = scanEnd
  let path = input.slice(pos, pathEnd)
  if (normalize && path.length > 0) {
    if (scanDot) path = removeDotSegments(path)
    if (!scanClean) path = encodeInvalid(path, PATH)
  }
  let query: string | null = null
  let fragment: string | null = null
  let fragmentStart = -1
  if (pathEnd < len) {
    if (input.charCodeAt(pathEnd) === 63) {
      scan(input, pathEnd + 1, 35, -1, QUERY)
      query = input.slice(pathEnd + 1, scanEnd)
      if (normalize && !scanClean) query = encodeInvalid(query, QUERY)
      if (scanEnd < len) fragmentStart = scanEnd + 1
    } else {
      fragmentStart = pathEnd + 1
    }
  }
  if (fragmentStart !== -1) {
    fragment = input.slice(fragmentStart)
    if (normalize) {
      scan(input, fragmentStart, -1, -1, QUERY)
      if (!scanClean) fragment = encodeInvalid(fragment, QUERY)
    }
  }
  let finalPath: string | null
  if (path.length === 0) finalPath = query !== null || fragment !== null ? "" : null
  else finalPath = path.charCodeAt(0) === SLASH ? path : `/${path}`
  return new UrlImpl(scheme, auth, host, port, finalPath, query, fragment)
}

/** @internal */
export const parse = (input: string): Either.Either<Url.Url, LocationParseError> => {
  const url = parseOrNull(input)
  return url === null ? Either.left(new LocationParseError({ location: input })) : Either.right(url)
}

/** @internal */
export const requireAbsolute = (url: Url.Url): Either.Either<Url.Url, LocationValueError> => {
  if (url.host === null || url.host.length === 0) {
    return Either.left(new LocationValueError({ message: "No host specified." }))
  }
  if (url.scheme === null) {
    const shown = format(new UrlImpl(null, null, url.host, url.port, url.path, url.query, url.fragment))
    return Either.left(
      new LocationValueError({
        message: `URL '${shown}' has no scheme: start it with http:// or https://`
      })
    )
  }
  return Either.right(url)
}

/** @internal */
export const parseAbsolute = (input: string): Either.Either<Url.Url, LocationValueError | LocationParseError> => {
  const url = parseOrNull(input)
  return url === null ? Either.left(new LocationParseError({ location: input })) : requireAbsolute(url)
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/** @internal */
export const format = (url: Url.Url): string => {
  let out = ""
  if (url.scheme !== null) out += `${url.scheme}://`
  if (url.auth !== null) out += `${url.auth}@`
  if (url.host !== null) out += url.host
  if (url.port !== null) out += `:${url.port}`
  if (url.path !== null) out += url.path
  if (url.query !== null) out += `?${url.query}`
  if (url.fragment !== null) out += `#${url.fragment}`
  return out
}

/** @internal */
export const requestUri = (url: Url.Url): string => {
  const path = url.path === null || url.path.length === 0 ? "/" : url.path
  return url.query === null ? path : `${path}?${url.query}`
}

/** @internal */
export const netloc = (url: Url.Url): string | null => {
  if (url.host === null) return null
  return url.port ? `${url.host}:${url.port}` : url.host
}

/** @internal */
export const authority = (url: Url.Url): string | null => {
  const location = netloc(url)
  return location === null || url.auth === null ? location : `${url.auth}@${location}`
}

/** @internal */
export const hostname = (url: Url.Url): string | null => {
  const host = url.host
  if (host === null) return null
  return host.length > 1 && host.charCodeAt(0) === OPEN_BRACKET && host.charCodeAt(host.length - 1) === CLOSE_BRACKET
    ? host.slice(1, -1)
    : host
}

/** @internal */
export const absoluteTarget = (url: Url.Url): string => {
  const location = netloc(url) ?? ""
  return `${url.scheme ?? "http"}://${location}${requestUri(url)}`
}

/** @internal */
export const encodeTarget = (target: string): string => {
  if (target === "*") return target
  scan(target, 0, 63, 35, PATH)
  const end = scanEnd
  const rawPath = end === target.length ? target : target.slice(0, end)
  let path = scanClean ? rawPath : encodeInvalid(rawPath, PATH)
  if (path.length === 0 || path.charCodeAt(0) !== SLASH) path = `/${path}`
  if (end === target.length || target.charCodeAt(end) === 35) return path
  scan(target, end + 1, 35, -1, QUERY)
  const rawQuery = target.slice(end + 1, scanEnd)
  if (path === rawPath && scanClean && scanEnd === target.length) return target
  return `${path}?${scanClean ? rawQuery : encodeInvalid(rawQuery, QUERY)}`
}

// ---------------------------------------------------------------------------
// Ports and origins
// ---------------------------------------------------------------------------

/** @internal */
export const defaultPort = (scheme: string | null): number | null => {
  if (scheme === null) return null
  switch (scheme) {
    case "http":
    case "http+unix":
      return 80
    case "https":
      return 443
  }
  const lower = scheme.toLowerCase()
  return lower === scheme ? null : defaultPort(lower)
}

/** @internal */
export const portOrDefault = (url: Url.Url): number | null => url.port || defaultPort(url.scheme ?? "http")

/** @internal */
export const origin = (url: Url.Url): Url.Origin => new OriginImpl(url.scheme ?? "http", url.host, portOrDefault(url))

class OriginImpl implements Url.Origin {
  constructor(
    readonly scheme: string,
    readonly host: string | null,
    readonly port: number | null
  ) {}

  [Equal.symbol](that: Equal.Equal): boolean {
    return (
      that instanceof OriginImpl && this.scheme === that.scheme && this.host === that.host && this.port === that.port
    )
  }

  [Hash.symbol](): number {
    const h = Hash.combine(hashField(this.host))(hashField(this.scheme))
    return Hash.cached(this, Hash.optimize(Hash.combine(this.port === null ? -1 : this.port)(h)))
  }
}

/** @internal */
export const isSameOrigin: {
  (that: Url.Url): (self: Url.Url) => boolean
  (self: Url.Url, that: Url.Url): boolean
} = dual(
  2,
  (self: Url.Url, that: Url.Url): boolean =>
    (self.scheme ?? "http") === (that.scheme ?? "http") &&
    self.host === that.host &&
    portOrDefault(self) === portOrDefault(that)
)

export const resolve = (
  base: Url.Url | string,
  location: string
): Either.Either<Url.Url, LocationValueError | LocationParseError> => {
  const joined = join(typeof base === "string" ? base : format(base), location)
  return joined === null ? Either.left(new LocationParseError({ location })) : parseAbsolute(joined)
}

/** @internal */
export const hostPort = (host: string, port: number): string =>
  `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`
