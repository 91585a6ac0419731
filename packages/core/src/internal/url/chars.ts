/** The characters of URLs: classes of ASCII bytes and percent-encoding. @internal */
export const PERCENT = 37
export const SLASH = 47
export const COLON = 58
export const OPEN_BRACKET = 91
export const CLOSE_BRACKET = 93

/** Character classes of ASCII, one bit each. */
export const UNRESERVED = 1
export const USERINFO = 2
export const PATH = 4
export const QUERY = 8
export const HEX = 16
export const SCHEME = 32
export const AUTHORITY_END = 64

export const table = new Uint8Array(128)
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

export const isHex = (c: number): boolean => c < 128 && (table[c] & HEX) !== 0
export const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
/** C0 controls, space, DEL and C1 controls: never allowed in a host. */
export const isControl = (c: number): boolean => c <= 0x20 || (c >= 0x7f && c <= 0x9f)
/** `%XX` naming a control character or a space. */
export const isEncodedControl = (hi: number, lo: number): boolean =>
  hi === 48 || hi === 49 || (hi === 50 && lo === 48) || (hi === 55 && (lo === 70 || lo === 102))

export const PERCENT_BYTE: ReadonlyArray<string> = Array.from(
  { length: 256 },
  (_, b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`
)

export const upper = (c: number): string => String.fromCharCode(c >= 97 ? c - 32 : c)

/**
 * Percent-encodes every character of `s` outside `allowed`, as UTF-8 (a lone surrogate as
 * its three-byte form). Existing `%XX` escapes are upper-cased; when every `%` starts one,
 * they are kept, otherwise every `%` is encoded too. Returns `s` itself when nothing
 * changes.
 */
export const encodeInvalid = (s: string, allowed: number): string => {
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

export const lowerAscii = (s: string): string => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 65 && c <= 90) return s.toLowerCase()
  }
  return s
}

const H16 = "[0-9A-Fa-f]{1,4}"
const LS32 = `(?:${H16}:${H16}|(?:[0-9]{1,3}\\.){3}[0-9]{1,3})`
/** RFC 3986 `IPv6address`, one alternative per ABNF line (the IPv4 tail is not range-checked). */
export const IPV6 = new RegExp(
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
