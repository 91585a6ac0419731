import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { dual } from "effect/Function"
import * as Hash from "effect/Hash"
import { NodeInspectSymbol } from "effect/Inspectable"
import { pipeArguments } from "effect/Pipeable"
import { LocationParseError, LocationValueError } from "../Errors.js"
import type * as Url from "../Url.js"

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
// Characters
// ---------------------------------------------------------------------------

const PERCENT = 37
const SLASH = 47
const COLON = 58
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93

/** Character classes of ASCII, one bit each. */
const UNRESERVED = 1
const USERINFO = 2
const PATH = 4
const QUERY = 8
const HEX = 16
const SCHEME = 32
const AUTHORITY_END = 64

const table = new Uint8Array(128)
{
  const mark = (chars: string, bits: number) => {
    for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] |= bits
  }
  const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
  const digit = "0123456789"
  const unreserved = `${alpha}${digit}._-~`
  const userinfo = `${unreserved}!$&'()*+,;=:`
  const path = `${userinfo}@/`
  mark(unreserved, UNRESERVED)
  mark(userinfo, USERINFO)
  mark(path, PATH)
  mark(`${path}?`, QUERY)
  mark(`${digit}ABCDEFabcdef`, HEX)
  mark(`${alpha}${digit}+-`, SCHEME)
  mark("\\/?#", AUTHORITY_END)
}

const isHex = (c: number): boolean => c < 128 && (table[c] & HEX) !== 0
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
/** C0 controls, space, DEL and C1 controls: never allowed in a host. */
const isControl = (c: number): boolean => c <= 0x20 || (c >= 0x7f && c <= 0x9f)
/** `%XX` naming a control character or a space. */
const isEncodedControl = (hi: number, lo: number): boolean =>
  hi === 48 || hi === 49 || (hi === 50 && lo === 48) || (hi === 55 && (lo === 70 || lo === 102))

const PERCENT_BYTE: ReadonlyArray<string> = Array.from(
  { length: 256 },
  (_, b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`
)

const upper = (c: number): string => String.fromCharCode(c >= 97 ? c - 32 : c)

/**
 * Percent-encodes every character of `s` outside `allowed`, as UTF-8 (a lone surrogate as
 * its three-byte form). Existing `%XX` escapes are upper-cased; when every `%` starts one,
 * they are kept, otherwise every `%` is encoded too. Returns `s` itself when nothing
 * changes.
 */
const encodeInvalid = (s: string, allowed: number): string => {
  const len = s.length
  let percents = 0
  let escapes = 0
  let dirty = false
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i)
    if (c === PERCENT) {
      percents++
      if (i + 2 < len && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
        escapes++
        const a = s.charCodeAt(i + 1)
        const b = s.charCodeAt(i + 2)
        if (a >= 97 || b >= 97) dirty = true
        i += 2
      }
    } else if (c >= 128 || (table[c] & allowed) === 0) {
      dirty = true
    }
  }
  const keepPercent = percents === escapes
  if (!dirty && keepPercent) return s
  let out = ""
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i)
    if (c === PERCENT) {
      const prefix = keepPercent ? "%" : "%25"
      if (i + 2 < len && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
        out += prefix + upper(s.charCodeAt(i + 1)) + upper(s.charCodeAt(i + 2))
        i += 2
      } else {
        out += prefix
      }
    } else if (c < 128) {
      out += (table[c] & allowed) !== 0 ? s[i] : PERCENT_BYTE[c]
    } else if (c < 0x800) {
      out += PERCENT_BYTE[0xc0 | (c >> 6)] + PERCENT_BYTE[0x80 | (c & 63)]
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(i + 1) - 0xdc00)
      out +=
        PERCENT_BYTE[0xf0 | (cp >> 18)] +
        PERCENT_BYTE[0x80 | ((cp >> 12) & 63)] +
        PERCENT_BYTE[0x80 | ((cp >> 6) & 63)] +
        PERCENT_BYTE[0x80 | (cp & 63)]
      i++
    } else {
      out += PERCENT_BYTE[0xe0 | (c >> 12)] + PERCENT_BYTE[0x80 | ((c >> 6) & 63)] + PERCENT_BYTE[0x80 | (c & 63)]
    }
  }
  return out
}

const lowerAscii = (s: string): string => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 65 && c <= 90) return s.toLowerCase()
  }
  return s
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

const H16 = "[0-9A-Fa-f]{1,4}"
const LS32 = `(?:${H16}:${H16}|(?:[0-9]{1,3}\\.){3}[0-9]{1,3})`
/** RFC 3986 `IPv6address`, one alternative per ABNF line (the IPv4 tail is not range-checked). */
const IPV6 = new RegExp(
  `^(?:${[
    `(?:${H16}:){6}${LS32}`,
    `::(?:${H16}:){5}${LS32}`,
    `(?:${H16})?::(?:${H16}:){4}${LS32}`,
    `(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3}${LS32}`,
    `(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2}${LS32}`,
    `(?:(?:${H16}:){0,3}${H16})?::${H16}:${LS32}`,
    `(?:(?:${H16}:){0,4}${H16})?::${LS32}`,
    `(?:(?:${H16}:){0,5}${H16})?::${H16}`,
    `(?:(?:${H16}:){0,6}${H16})?::`
  ].join("|")})$`
)
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
// IDNA 2008 (RFC 5890-5893) for one non-ASCII label
// ---------------------------------------------------------------------------

interface IdnaTables {
  readonly unassigned: RegExp
  readonly ignorable: RegExp
  readonly letterDigit: RegExp
  readonly mark: RegExp
  readonly nonspacing: RegExp
  readonly rtl: RegExp
  readonly greek: RegExp
  readonly hebrew: RegExp
  readonly kana: RegExp
}

let idnaTables: IdnaTables | undefined

/** Script names a runtime may not know yet are left out rather than breaking the module. */
const scriptClass = (names: ReadonlyArray<string>): RegExp => {
  const known = names.filter((name) => {
    try {
      new RegExp(`\\p{Script=${name}}`, "u")
      return true
    } catch {
      return false
    }
  })
  return new RegExp(`[${known.map((name) => `\\p{Script=${name}}`).join("")}]`, "u")
}

const tables = (): IdnaTables => {
  if (idnaTables === undefined) {
    idnaTables = {
      unassigned: /\p{Cn}/u,
      ignorable: /[\p{Default_Ignorable_Code_Point}\p{White_Space}\p{Noncharacter_Code_Point}]/u,
      letterDigit: /[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]/u,
      mark: /\p{M}/u,
      nonspacing: /\p{Mn}/u,
      rtl: scriptClass([
        "Hebrew",
        "Arabic",
        "Syriac",
        "Thaana",
        "Nko",
        "Samaritan",
        "Mandaic",
        "Adlam",
        "Hanifi_Rohingya",
        "Mende_Kikakui",
        "Imperial_Aramaic",
        "Phoenician",
        "Kharoshthi",
        "Old_South_Arabian",
        "Old_North_Arabian",
        "Avestan",
        "Inscriptional_Parthian",
        "Inscriptional_Pahlavi",
        "Psalter_Pahlavi",
        "Old_Turkic",
        "Old_Hungarian",
        "Manichaean",
        "Nabataean",
        "Palmyrene",
        "Hatran",
        "Lydian",
        "Meroitic_Cursive",
        "Meroitic_Hieroglyphs",
        "Cypriot",
        "Sogdian",
        "Old_Sogdian",
        "Elymaic",
        "Chorasmian",
        "Yezidi",
        "Old_Uyghur",
        "Garay"
      ]),
      greek: /\p{Script=Greek}/u,
      hebrew: /\p{Script=Hebrew}/u,
      kana: /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u
    }
  }
  return idnaTables
}

const PVALID = 0
const CONTEXTJ = 1
const CONTEXTO = 2
const DISALLOWED = 3

/** RFC 5892 section 2.6: code points whose class is fixed by hand. */
const exceptions = new Map<number, number>([
  [0x00df, PVALID],
  [0x03c2, PVALID],
  [0x06fd, PVALID],
  [0x06fe, PVALID],
  [0x0f0b, PVALID],
  [0x3007, PVALID],
  [0x00b7, CONTEXTO],
  [0x0375, CONTEXTO],
  [0x05f3, CONTEXTO],
  [0x05f4, CONTEXTO],
  [0x30fb, CONTEXTO],
  [0x0640, DISALLOWED],
  [0x07fa, DISALLOWED],
  [0x302e, DISALLOWED],
  [0x302f, DISALLOWED],
  [0x3031, DISALLOWED],
  [0x3032, DISALLOWED],
  [0x3033, DISALLOWED],
  [0x3034, DISALLOWED],
  [0x3035, DISALLOWED],
  [0x303b, DISALLOWED]
])

/**
 * Unicode case folding, which `String.prototype` lacks: lower-casing after upper-casing
 * agrees with it except for the dotless i and Cherokee, which folds to upper case.
 */
const caseFold = (s: string, cp: number): string => {
  if (cp === 0x0131 || (cp >= 0x13a0 && cp <= 0x13f5)) return s
  if ((cp >= 0x13f8 && cp <= 0x13fd) || (cp >= 0xab70 && cp <= 0xabbf)) return s.toUpperCase()
  return s.toUpperCase().toLowerCase()
}

/** The RFC 5892 derived property of a non-ASCII code point. */
const idnaClass = (cp: number, t: IdnaTables): number => {
  const fixed = exceptions.get(cp)
  if (fixed !== undefined) return fixed
  if ((cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06f0 && cp <= 0x06f9)) return CONTEXTO
  if (cp === 0x200c || cp === 0x200d) return CONTEXTJ
  const s = String.fromCodePoint(cp)
  if (t.unassigned.test(s)) return DISALLOWED
  if (caseFold(s.normalize("NFKC"), cp).normalize("NFKC") !== s) return DISALLOWED
  if (t.ignorable.test(s)) return DISALLOWED
  if ((cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0x1d100 && cp <= 0x1d24f)) return DISALLOWED
  if ((cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97f) || (cp >= 0xd7b0 && cp <= 0xd7ff)) {
    return DISALLOWED
  }
  return t.letterDigit.test(s) ? PVALID : DISALLOWED
}

/**
 * Whether a code point has canonical combining class 9 (virama), read from how NFD orders
 * it: it goes after a class 8 mark and stays before a class 9 one.
 */
const isVirama = (cp: number): boolean => {
  const s = String.fromCodePoint(cp)
  return `a${s}\u3099`.normalize("NFD") === `a\u3099${s}` && `a${s}\u094d`.normalize("NFD") === `a${s}\u094d`
}

/** RFC 5892 appendix A rules for the CONTEXTO code points. */
const contextOk = (cps: ReadonlyArray<number>, i: number, t: IdnaTables): boolean => {
  const cp = cps[i]
  switch (cp) {
    case 0x00b7:
      return i > 0 && i < cps.length - 1 && cps[i - 1] === 0x6c && cps[i + 1] === 0x6c
    case 0x0375:
      return i < cps.length - 1 && t.greek.test(String.fromCodePoint(cps[i + 1]))
    case 0x05f3:
    case 0x05f4:
      return i > 0 && t.hebrew.test(String.fromCodePoint(cps[i - 1]))
    case 0x30fb:
      return cps.some((other) => other !== 0x30fb && t.kana.test(String.fromCodePoint(other)))
  }
  if (cp >= 0x0660 && cp <= 0x0669) return !cps.some((other) => other >= 0x06f0 && other <= 0x06f9)
  return !cps.some((other) => other >= 0x0660 && other <= 0x0669)
}

const L = 0
const R = 1
const EN = 2
const AN = 3
const ES = 4
const BN = 5
const ON = 6
const NSM = 7

/** Non-spacing marks whose bidi class is L nevertheless. */
const leftMarks = new Set([0x0cbf, 0x0cc6, 0x11a07, 0x11a08, 0x11c3f])
/** Valid code points whose bidi class is ON. */
const otherNeutral = (cp: number): boolean =>
  cp === 0xb7 ||
  cp === 0x2b9 ||
  cp === 0x2ba ||
  (cp >= 0x2c6 && cp <= 0x2cf) ||
  cp === 0x2ec ||
  cp === 0x375 ||
  cp === 0x2e2f ||
  cp === 0x30fb ||
  cp === 0xa67f ||
  (cp >= 0xa717 && cp <= 0xa71f) ||
  cp === 0xa788

/** The bidi class of a code point already known to be valid in a label (R stands for AL too). */
const bidiClass = (cp: number, t: IdnaTables): number => {
  if (cp === 0x2d) return ES
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x6f0 && cp <= 0x6f9)) return EN
  if ((cp >= 0x660 && cp <= 0x669) || (cp >= 0x10d30 && cp <= 0x10d39)) return AN
  if (cp === 0x200c || cp === 0x200d) return BN
  if (otherNeutral(cp)) return ON
  const s = String.fromCodePoint(cp)
  if (t.nonspacing.test(s)) return leftMarks.has(cp) ? L : NSM
  return t.rtl.test(s) ? R : L
}

/** RFC 5893 section 2, applied when the label holds right-to-left characters. */
const bidiOk = (cps: ReadonlyArray<number>, t: IdnaTables): boolean => {
  const classes = cps.map((cp) => bidiClass(cp, t))
  if (!classes.some((c) => c === R || c === AN)) return true
  const rtl = classes[0] === R
  if (!rtl && classes[0] !== L) return false
  let ending = false
  let numbers = -1
  for (const c of classes) {
    if (rtl) {
      if (c === L) return false
      if (c === EN || c === AN) {
        if (numbers !== -1 && numbers !== c) return false
        numbers = c
      }
      if (c === R || c === EN || c === AN) ending = true
      else if (c !== NSM) ending = false
    } else {
      if (c === R || c === AN) return false
      if (c === L || c === EN) ending = true
      else if (c !== NSM) ending = false
    }
  }
  return ending
}

/** RFC 3492 Punycode of a label's code points, with the `xn--` prefix. */
const punycode = (cps: ReadonlyArray<number>): string => {
  const base = 36
  const tMin = 1
  const tMax = 26
  const digit = (d: number) => String.fromCharCode(d < 26 ? 97 + d : 22 + d)
  const adapt = (delta: number, points: number, first: boolean): number => {
    delta = first ? Math.floor(delta / 700) : delta >> 1
    delta += Math.floor(delta / points)
    let k = 0
    while (delta > ((base - tMin) * tMax) >> 1) {
      delta = Math.floor(delta / (base - tMin))
      k += base
    }
    return k + Math.floor(((base - tMin + 1) * delta) / (delta + 38))
  }
  let out = ""
  for (const cp of cps) if (cp < 128) out += String.fromCharCode(cp)
  const basic = out.length
  let handled = basic
  if (basic > 0) out += "-"
  let n = 128
  let delta = 0
  let bias = 72
  while (handled < cps.length) {
    let m = Number.MAX_SAFE_INTEGER
    for (const cp of cps) if (cp >= n && cp < m) m = cp
    delta += (m - n) * (handled + 1)
    n = m
    for (const cp of cps) {
      if (cp < n) delta++
      if (cp === n) {
        let q = delta
        for (let k = base; ; k += base) {
          const t = k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias
          if (q < t) break
          out += digit(t + ((q - t) % (base - t)))
          q = Math.floor((q - t) / (base - t))
        }
        out += digit(q)
        bias = adapt(delta, handled + 1, handled === basic)
        delta = 0
        handled++
      }
    }
    delta++
    n++
  }
  return `xn--${out}`
}

/**
 * A non-ASCII label, lower-cased and checked as IDNA 2008 requires (NFC, hyphens, no leading
 * mark, every code point PVALID or valid in its context, the bidi rule), as its `xn--` form;
 * null when it is not a valid label. A ZWNJ that does not follow a virama is valid only
 * between joining letters, which needs Unicode's joining types: that case is left to the
 * runtime's WHATWG `URL`, whose UTS 46 processing applies the same RFC 5892 rule.
 */
const idnaLabel = (label: string): string | null => {
  const lower = label.toLowerCase()
  if (lower.normalize("NFC") !== lower) return null
  const cps: Array<number> = []
  let ascii = true
  for (const ch of lower) {
    const cp = ch.codePointAt(0)!
    if (cp >= 128) ascii = false
    cps.push(cp)
  }
  if (cps.length >= 4 && cps[2] === 0x2d && cps[3] === 0x2d) return null
  if (cps[0] === 0x2d || cps[cps.length - 1] === 0x2d) return null
  if (ascii) {
    // Lower-casing made it ASCII (the Kelvin sign is `k`): an LDH label, at most 63 long.
    return lower.length <= 63 && /^[a-z0-9-]+$/.test(lower) ? lower : null
  }
  const t = tables()
  if (t.mark.test(String.fromCodePoint(cps[0]))) return null
  let joiningContext = false
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i]
    if (cp < 128) {
      if (!((cp >= 97 && cp <= 122) || (cp >= 48 && cp <= 57) || cp === 0x2d)) return null
      continue
    }
    const kind = idnaClass(cp, t)
    if (kind === CONTEXTJ) {
      // Both joiners may follow a virama; ZWNJ may otherwise sit between joining letters.
      if (i === 0 || !isVirama(cps[i - 1])) {
        if (cp === 0x200d) return null
        joiningContext = true
      }
    } else if (kind === CONTEXTO) {
      if (!contextOk(cps, i, t)) return null
    } else if (kind !== PVALID) return null
  }
  if (!bidiOk(cps, t)) return null
  const encoded = punycode(cps)
  if (encoded.length > 63) return null
  if (joiningContext) {
    try {
      if (new URL(`http://${lower}/`).hostname !== encoded) return null
    } catch {
      return null
    }
  }
  return encoded
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

// ---------------------------------------------------------------------------
// Resolving a redirect (Python's urllib.parse.urljoin, which urllib3's PoolManager uses)
// ---------------------------------------------------------------------------

const usesRelative = new Set([
  "",
  "ftp",
  "http",
  "gopher",
  "nntp",
  "imap",
  "wais",
  "file",
  "https",
  "shttp",
  "mms",
  "prospero",
  "rtsp",
  "rtsps",
  "rtspu",
  "sftp",
  "svn",
  "svn+ssh",
  "ws",
  "wss"
])
const usesNetloc = new Set([
  "",
  "ftp",
  "http",
  "gopher",
  "nntp",
  "telnet",
  "imap",
  "wais",
  "file",
  "mms",
  "https",
  "shttp",
  "snews",
  "prospero",
  "rtsp",
  "rtsps",
  "rtspu",
  "rsync",
  "svn",
  "svn+ssh",
  "sftp",
  "nfs",
  "git",
  "git+ssh",
  "ws",
  "wss"
])
const usesParams = new Set([
  "",
  "ftp",
  "hdl",
  "prospero",
  "http",
  "imap",
  "https",
  "shttp",
  "rtsp",
  "rtsps",
  "rtspu",
  "sip",
  "sips",
  "mms",
  "sftp",
  "tel"
])

interface Reference {
  scheme: string
  netloc: string
  path: string
  params: string
  query: string
  fragment: string
}

const LEADING_CONTROL_OR_SPACE = /^[\x00-\x20]+/
const TAB_OR_NEWLINE = /[\t\r\n]/g
const SCHEME_CHARS = /^[A-Za-z][A-Za-z0-9+.-]*$/
const IP_FUTURE = /^v[a-fA-F0-9]+\.[^\n]+$/

/** A bracketed host as Python accepts it: IPvFuture, or an IPv6 address with an optional scope. */
const validBracketedHost = (inner: string): boolean => {
  if (inner.startsWith("v")) return IP_FUTURE.test(inner)
  const pct = inner.indexOf("%")
  if (pct === -1) return IPV6.test(inner)
  const scope = inner.slice(pct + 1)
  return IPV6.test(inner.slice(0, pct)) && scope.length > 0 && !scope.includes("%")
}

/** Splits a URL reference the way Python's `urlparse` does; null where it raises. */
const splitReference = (raw: string, defaultScheme: string): Reference | null => {
  let url = raw.replace(LEADING_CONTROL_OR_SPACE, "").replace(TAB_OR_NEWLINE, "")
  let scheme = defaultScheme
  const colon = url.indexOf(":")
  if (colon > 0 && SCHEME_CHARS.test(url.slice(0, colon))) {
    scheme = url.slice(0, colon).toLowerCase()
    url = url.slice(colon + 1)
  }
  let netloc = ""
  if (url.startsWith("//")) {
    let end = url.length
    for (const delimiter of ["/", "?", "#"]) {
      const at = url.indexOf(delimiter, 2)
      if (at !== -1 && at < end) end = at
    }
    netloc = url.slice(2, end)
    url = url.slice(end)
    const open = netloc.includes("[")
    const close = netloc.includes("]")
    if (open !== close) return null
    if (open) {
      const inner = netloc.slice(netloc.indexOf("[") + 1)
      const closing = inner.indexOf("]")
      if (!validBracketedHost(closing === -1 ? inner : inner.slice(0, closing))) return null
    }
  }
  let fragment = ""
  const hash = url.indexOf("#")
  if (hash !== -1) {
    fragment = url.slice(hash + 1)
    url = url.slice(0, hash)
  }
  let query = ""
  const question = url.indexOf("?")
  if (question !== -1) {
    query = url.slice(question + 1)
    url = url.slice(0, question)
  }
  if (!netlocSurvivesNfkc(netloc)) return null
  let params = ""
  if (usesParams.has(scheme) && url.includes(";")) {
    const semicolon = url.includes("/") ? url.indexOf(";", url.lastIndexOf("/")) : url.indexOf(";")
    if (semicolon !== -1) {
      params = url.slice(semicolon + 1)
      url = url.slice(0, semicolon)
    }
  }
  return { scheme, netloc, path: url, params, query, fragment }
}

/** Python refuses a non-ASCII netloc whose NFKC form grows URL delimiters. */
const netlocSurvivesNfkc = (netloc: string): boolean => {
  if (netloc.length === 0 || /^[\x00-\x7f]*$/.test(netloc)) return true
  const stripped = netloc.replace(/[@:#?]/g, "")
  const normalized = stripped.normalize("NFKC")
  return normalized === stripped || !/[/?#@:]/.test(normalized)
}

const unsplit = (r: Reference): string => {
  let url = r.params.length > 0 ? `${r.path};${r.params}` : r.path
  if (r.netloc.length > 0 || (r.scheme.length > 0 && usesNetloc.has(r.scheme) && !url.startsWith("//"))) {
    if (url.length > 0 && url.charCodeAt(0) !== SLASH) url = `/${url}`
    url = `//${r.netloc}${url}`
  }
  if (r.scheme.length > 0) url = `${r.scheme}:${url}`
  if (r.query.length > 0) url += `?${r.query}`
  if (r.fragment.length > 0) url += `#${r.fragment}`
  return url
}

/** @internal */
export const join = (base: string, location: string): string | null => {
  if (base.length === 0) return location
  if (location.length === 0) return base
  const b = splitReference(base, "")
  if (b === null) return null
  const r = splitReference(location, b.scheme)
  if (r === null) return null
  if (r.scheme !== b.scheme || !usesRelative.has(r.scheme)) return location
  if (usesNetloc.has(r.scheme)) {
    if (r.netloc.length > 0) return unsplit(r)
    r.netloc = b.netloc
  }
  if (r.path.length === 0 && r.params.length === 0) {
    r.path = b.path
    r.params = b.params
    if (r.query.length === 0) r.query = b.query
    return unsplit(r)
  }
  const baseParts = b.path.split("/")
  if (baseParts[baseParts.length - 1] !== "") baseParts.pop()
  let segments: Array<string>
  if (r.path.charCodeAt(0) === SLASH) {
    segments = r.path.split("/")
  } else {
    const all = baseParts.concat(r.path.split("/"))
    segments = all.length <= 2 ? all : [all[0], ...all.slice(1, -1).filter((s) => s.length > 0), all[all.length - 1]]
  }
  const resolved: Array<string> = []
  for (const segment of segments) {
    if (segment === "..") resolved.pop()
    else if (segment !== ".") resolved.push(segment)
  }
  const last = segments[segments.length - 1]
  if (last === "." || last === "..") resolved.push("")
  r.path = resolved.join("/") || "/"
  return unsplit(r)
}

/** @internal */
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
