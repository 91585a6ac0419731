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
/** @internal */
export const idnaLabel = (label: string): string | null => {
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
