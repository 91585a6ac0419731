import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { dual } from "effect/Function"
import * as Hash from "effect/Hash"
import { format, NodeInspectSymbol } from "effect/Inspectable"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import { InvalidHeader, ValueError } from "../Errors.js"
import type * as Headers from "../Headers.js"

/** @internal */
export const TypeId: Headers.TypeId = Symbol.for("@httpool/core/Headers") as Headers.TypeId

/** A header name is an RFC 9110 token. Compiled once. */
const tokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** A header value may not contain CR, LF or NUL. Compiled once. */
const forbiddenValueRe = /[\r\n\0]/

const noValues: ReadonlyArray<string> = Object.freeze([])

const redactedNames: ReadonlySet<string> = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"])

/**
 * Up to this many distinct names, a name is found by a linear scan of the lower-cased names,
 * which beats hashing at the sizes requests have; past it, a Map index is built once.
 */
const indexThreshold = 24

const buildIndex = (keys: ReadonlyArray<string>): Map<string, number> => {
  const index = new Map<string, number>()
  for (let i = 0; i < keys.length; i++) index.set(keys[i], i)
  return index
}

const join = (values: ReadonlyArray<string>): string => (values.length === 1 ? values[0] : values.join(", "))

const sameValues = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): boolean => {
  if (a.length === b.length) {
    let i = 0
    while (i < a.length && a[i] === b[i]) i++
    if (i === a.length) return true
  }
  return join(a) === join(b)
}

/**
 * Three parallel arrays, one slot per distinct name in the order names were first added:
 * the lower-cased name, the spelling to send, and the values. Never mutated once built;
 * updates copy the arrays (a handful of slots for a request), and may share the ones they do
 * not change.
 *
 * @internal
 */
export class HeadersImpl implements Headers.Headers {
  readonly [TypeId]: Headers.TypeId = TypeId
  /** Built on first use, valid forever since the value never changes. */
  private lineCache: ReadonlyArray<readonly [string, string]> | undefined = undefined
  private index: Map<string, number> | undefined = undefined

  private builtKeys: ReadonlyArray<string> | undefined
  private builtNames: ReadonlyArray<string> | undefined
  private builtValues: ReadonlyArray<ReadonlyArray<string>> | undefined

  constructor(
    keys: ReadonlyArray<string> | undefined,
    names: ReadonlyArray<string> | undefined,
    values: ReadonlyArray<ReadonlyArray<string>> | undefined,
    /** Every name and value has been validated. */
    readonly checked: boolean,
    /**
     * Headers off the wire keep the flat `[name, value, ...]` list they came as, and make
     * their arrays only when something needs more than a lookup: most responses are asked
     * for two or three names, and a scan of a few lines costs less than building them.
     */
    readonly wire: ReadonlyArray<string> | undefined = undefined
  ) {
    this.builtKeys = keys
    this.builtNames = names
    this.builtValues = values
  }

  /** The lower-cased names. */
  get keys(): ReadonlyArray<string> {
    if (this.builtKeys === undefined) this.build()
    return this.builtKeys!
  }

  /** The names as they are sent. */
  get names(): ReadonlyArray<string> {
    if (this.builtNames === undefined) this.build()
    return this.builtNames!
  }

  /** The values of each name. */
  get values(): ReadonlyArray<ReadonlyArray<string>> {
    if (this.builtValues === undefined) this.build()
    return this.builtValues!
  }

  private build(): void {
    const { keys, names, push, values } = collector()
    const wire = this.wire!
    for (let n = 0; n + 1 < wire.length; n += 2) push(wire[n], wire[n + 1])
    this.builtKeys = keys
    this.builtNames = names
    this.builtValues = values
  }

  /** Whether the arrays are not made yet: lookups scan `wire`. */
  get unbuilt(): boolean {
    return this.builtKeys === undefined
  }

  get size(): number {
    return this.keys.length
  }

  /** The slot of a lower-cased name, or -1. */
  find(lower: string): number {
    if (this.keys.length <= indexThreshold) return this.keys.indexOf(lower)
    if (this.index === undefined) this.index = buildIndex(this.keys)
    return this.index.get(lower) ?? -1
  }

  lines(): ReadonlyArray<readonly [string, string]> {
    if (this.lineCache === undefined) {
      // `Array.of`, not literals: see `Collector`.
      const out: Array<readonly [string, string]> = Array.of()
      for (let i = 0; i < this.keys.length; i++) {
        const name = this.names[i]
        for (const value of this.values[i]) out.push(Array.of(name, value) as unknown as readonly [string, string])
      }
      this.lineCache = out
    }
    return this.lineCache
  }

  [Symbol.iterator](): Iterator<readonly [string, string]> {
    return this.lines()[Symbol.iterator]()
  }

  [Equal.symbol](that: Equal.Equal): boolean {
    if (!isHeaders(that)) return false
    const other = that as HeadersImpl
    if (other.keys.length !== this.keys.length) return false
    for (let i = 0; i < this.keys.length; i++) {
      const j = other.find(this.keys[i])
      if (j === -1 || !sameValues(this.values[i], other.values[j])) return false
    }
    return true
  }

  [Hash.symbol](): number {
    // Order-independent (a sum), as equality ignores the order of names.
    let sum = 0
    for (let i = 0; i < this.keys.length; i++) {
      sum = (sum + Hash.combine(Hash.string(join(this.values[i])))(Hash.string(this.keys[i]))) | 0
    }
    return Hash.cached(this, Hash.optimize(sum))
  }

  pipe() {
    // biome-ignore lint/complexity/noArguments: pipeArguments takes the call's arguments
    return pipeArguments(this, arguments)
  }

  toJSON(): unknown {
    return {
      _id: "Headers",
      lines: this.lines().map(([name, value]) =>
        redactedNames.has(name.toLowerCase()) ? [name, "<redacted>"] : [name, value]
      )
    }
  }

  toString(): string {
    return format(this.toJSON())
  }

  [NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

const impl = (self: Headers.Headers): HeadersImpl => self as HeadersImpl

/** @internal */
export const isHeaders = (u: unknown): u is Headers.Headers => typeof u === "object" && u !== null && TypeId in u

/** @internal */
export const empty: Headers.Headers = new HeadersImpl([], [], [], true)

/**
 * Slots being added to a copy of existing headers. Values arrays are never mutated here:
 * they may be shared with the headers the copy came from.
 */
class Draft {
  readonly keys: Array<string>
  readonly names: Array<string>
  readonly values: Array<ReadonlyArray<string>>
  private index: Map<string, number> | undefined = undefined

  constructor(from: HeadersImpl) {
    this.keys = from.keys.slice()
    this.names = from.names.slice()
    this.values = from.values.slice()
  }

  find(lower: string): number {
    if (this.index !== undefined) return this.index.get(lower) ?? -1
    if (this.keys.length <= indexThreshold) return this.keys.indexOf(lower)
    this.index = buildIndex(this.keys)
    return this.index.get(lower) ?? -1
  }

  private push(name: string, lower: string, values: ReadonlyArray<string>): void {
    this.index?.set(lower, this.keys.length)
    this.keys.push(lower)
    this.names.push(name)
    this.values.push(values)
  }

  /** Appends values to a name, keeping its slot and first spelling; a new name goes last. */
  append(name: string, lower: string, values: ReadonlyArray<string>): void {
    const i = this.find(lower)
    if (i === -1) this.push(name, lower, values)
    else this.values[i] = this.values[i].concat(values)
  }

  /** Replaces a name's values and spelling, keeping its slot; a new name goes last. */
  replace(name: string, lower: string, values: ReadonlyArray<string>): void {
    const i = this.find(lower)
    if (i === -1) {
      this.push(name, lower, values)
    } else {
      this.names[i] = name
      this.values[i] = values
    }
  }

  done(checked: boolean): HeadersImpl {
    return new HeadersImpl(this.keys, this.names, this.values, checked)
  }
}

// ---------------------------------------------------------------------------
// Construction
// ---------------------------------------------------------------------------

const invalidName = (name: unknown): InvalidHeader =>
  new InvalidHeader({
    message:
      typeof name === "string"
        ? `Invalid header name ${JSON.stringify(name)}: a name is a token of letters, digits and !#$%&'*+-.^_\`|~ (no spaces, colons or control characters)`
        : `Invalid header name: expected a string, got ${typeof name}`
  })

const invalidValue = (name: string, value: unknown): InvalidHeader =>
  new InvalidHeader({
    message:
      typeof value === "string"
        ? `Invalid value for header ${JSON.stringify(name)}: it contains a CR, LF or NUL character`
        : `Invalid value for header ${JSON.stringify(name)}: expected a string, got ${typeof value}`
  })

const checkLine = (name: unknown, value: unknown): InvalidHeader | undefined => {
  if (typeof name !== "string" || !tokenRe.test(name)) return invalidName(name)
  if (typeof value !== "string" || forbiddenValueRe.test(value)) return invalidValue(name, value)
  return undefined
}

/**
 * Three fresh arrays and `push`, which adds a value under its name's slot (a new name goes
 * last); names are found by a scan while few, then by an index.
 */
/**
 * Gathers lines into the three arrays of a `HeadersImpl`. A class and `Array.of`, not literals:
 * a response's headers are made per request, and V8 allocates the literals of a hot site
 * straight into the old generation once it sees them survive (see request/attempt.ts).
 */
class Collector {
  readonly keys: Array<string> = Array.of()
  readonly names: Array<string> = Array.of()
  readonly values: Array<Array<string>> = Array.of()
  private index: Map<string, number> | undefined = undefined
  readonly push = (name: string, value: string): void => {
    const lower = name.toLowerCase()
    const keys = this.keys
    let i: number
    if (this.index !== undefined) {
      i = this.index.get(lower) ?? -1
    } else if (keys.length <= indexThreshold) {
      i = keys.indexOf(lower)
    } else {
      this.index = buildIndex(keys)
      i = this.index.get(lower) ?? -1
    }
    if (i === -1) {
      this.index?.set(lower, keys.length)
      keys.push(lower)
      this.names.push(name)
      this.values.push(Array.of(value))
    } else {
      this.values[i]!.push(value)
    }
  }
}

const collector = (): Collector => new Collector()

/**
 * Builds from caller input in one pass into three fresh arrays (so values arrays may be
 * appended to in place); with `check`, the first bad line is returned instead.
 */
const build = (input: Headers.Input, check: boolean): HeadersImpl | InvalidHeader => {
  if (input === undefined) return empty as HeadersImpl
  if (isHeaders(input)) {
    const self = impl(input)
    if (!check || self.checked) return self
    for (let i = 0; i < self.keys.length; i++) {
      for (const value of self.values[i]) {
        const error = checkLine(self.names[i], value)
        if (error !== undefined) return error
      }
    }
    return new HeadersImpl(self.keys, self.names, self.values, true)
  }
  const { push, keys, names, values } = collector()
  if (Symbol.iterator in input) {
    for (const pair of input as Iterable<readonly [string, string]>) {
      const name = pair[0]
      const value = pair[1]
      if (check) {
        const error = checkLine(name, value)
        if (error !== undefined) return error
      }
      push(name, value)
    }
  } else {
    const record = input as Readonly<Record<string, string | ReadonlyArray<string>>>
    for (const name of Object.keys(record)) {
      const value = record[name]
      if (typeof value === "string") {
        if (check) {
          const error = checkLine(name, value)
          if (error !== undefined) return error
        }
        push(name, value)
      } else if (Array.isArray(value)) {
        for (const item of value as ReadonlyArray<string>) {
          if (check) {
            const error = checkLine(name, item)
            if (error !== undefined) return error
          }
          push(name, item)
        }
      } else if (check) {
        return invalidValue(name, value)
      }
    }
  }
  return new HeadersImpl(keys, names, values, check)
}

/** @internal */
export const fromInput = (input: Headers.Input): Either.Either<Headers.Headers, InvalidHeader> => {
  const result = build(input, true)
  return result instanceof HeadersImpl ? Either.right(result) : Either.left(result)
}

/**
 * Headers from a flat `[name, value, name, value, ...]` list as it came off the wire,
 * unchecked: the parser already rejected what HTTP forbids.
 *
 * @internal
 */
export const fromFlat = (flat: ReadonlyArray<string>): Headers.Headers =>
  new HeadersImpl(undefined, undefined, undefined, false, flat)

/** Whether the name at `at` of a wire list is `lower`, compared without case. */
const wireNameIs = (wire: ReadonlyArray<string>, at: number, lower: string): boolean => {
  const name = wire[at]
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower)
}

/** @internal */
export const unsafeFromInput = (input: Headers.Input): Headers.Headers => build(input, false) as HeadersImpl

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/** @internal */
export const get = dual<
  (name: string) => (self: Headers.Headers) => Option.Option<string>,
  (self: Headers.Headers, name: string) => Option.Option<string>
>(2, (self, name) => {
  const headers = impl(self)
  const lower = name.toLowerCase()
  if (headers.unbuilt) {
    const wire = headers.wire!
    let found: string | undefined
    for (let n = 0; n + 1 < wire.length; n += 2) {
      if (wireNameIs(wire, n, lower)) found = found === undefined ? wire[n + 1] : `${found}, ${wire[n + 1]}`
    }
    return found === undefined ? Option.none() : Option.some(found)
  }
  const i = headers.find(lower)
  return i === -1 ? Option.none() : Option.some(join(headers.values[i]))
})

/** @internal */
export const getAll = dual<
  (name: string) => (self: Headers.Headers) => ReadonlyArray<string>,
  (self: Headers.Headers, name: string) => ReadonlyArray<string>
>(2, (self, name) => {
  const headers = impl(self)
  const i = headers.find(name.toLowerCase())
  return i === -1 ? noValues : headers.values[i]
})

/** @internal */
export const has = dual<
  (name: string) => (self: Headers.Headers) => boolean,
  (self: Headers.Headers, name: string) => boolean
>(2, (self, name) => {
  const headers = impl(self)
  const lower = name.toLowerCase()
  if (headers.unbuilt) {
    const wire = headers.wire!
    for (let n = 0; n + 1 < wire.length; n += 2) if (wireNameIs(wire, n, lower)) return true
    return false
  }
  return headers.find(lower) !== -1
})

/** @internal */
export const names = (self: Headers.Headers): ReadonlyArray<string> => impl(self).names

/** @internal */
export const toRecord = (self: Headers.Headers): Record<string, string> => {
  const headers = impl(self)
  const out: Record<string, string> = {}
  for (let i = 0; i < headers.keys.length; i++) {
    const name = headers.names[i]
    const value = join(headers.values[i])
    if (name === "__proto__") {
      Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true })
    } else {
      out[name] = value
    }
  }
  return out
}

// ---------------------------------------------------------------------------
// Updating (every function returns a new value)
// ---------------------------------------------------------------------------

const stillChecked = (self: HeadersImpl, name: string, value: string): boolean =>
  self.checked && tokenRe.test(name) && !forbiddenValueRe.test(value)

/** @internal */
export const add = dual<
  (name: string, value: string) => (self: Headers.Headers) => Headers.Headers,
  (self: Headers.Headers, name: string, value: string) => Headers.Headers
>(3, (self, name, value) => {
  const headers = impl(self)
  const lower = name.toLowerCase()
  const i = headers.find(lower)
  const checked = stillChecked(headers, name, value)
  if (i === -1) {
    return new HeadersImpl([...headers.keys, lower], [...headers.names, name], [...headers.values, [value]], checked)
  }
  const values = headers.values.slice()
  values[i] = [...values[i], value]
  return new HeadersImpl(headers.keys, headers.names, values, checked)
})

/** @internal */
export const set = dual<
  (name: string, value: string) => (self: Headers.Headers) => Headers.Headers,
  (self: Headers.Headers, name: string, value: string) => Headers.Headers
>(3, (self, name, value) => {
  const headers = impl(self)
  const lower = name.toLowerCase()
  const i = headers.find(lower)
  const checked = stillChecked(headers, name, value)
  if (i === -1) {
    return new HeadersImpl([...headers.keys, lower], [...headers.names, name], [...headers.values, [value]], checked)
  }
  // The slot is kept; the new spelling replaces the old one (urllib3's headers[name] = value).
  const names = headers.names.slice()
  const values = headers.values.slice()
  names[i] = name
  values[i] = [value]
  return new HeadersImpl(headers.keys, names, values, checked)
})

/** @internal */
export const setIfAbsent = dual<
  (name: string, value: string) => (self: Headers.Headers) => Headers.Headers,
  (self: Headers.Headers, name: string, value: string) => Headers.Headers
>(3, (self, name, value) => {
  const headers = impl(self)
  const lower = name.toLowerCase()
  if (headers.find(lower) !== -1) return self
  return new HeadersImpl(
    [...headers.keys, lower],
    [...headers.names, name],
    [...headers.values, [value]],
    stillChecked(headers, name, value)
  )
})

/** @internal */
export const remove = dual<
  (name: string) => (self: Headers.Headers) => Headers.Headers,
  (self: Headers.Headers, name: string) => Headers.Headers
>(2, (self, name) => {
  const headers = impl(self)
  const i = headers.find(name.toLowerCase())
  if (i === -1) return self
  const keys = headers.keys.slice()
  const names = headers.names.slice()
  const values = headers.values.slice()
  keys.splice(i, 1)
  names.splice(i, 1)
  values.splice(i, 1)
  return new HeadersImpl(keys, names, values, headers.checked)
})

/** @internal */
export const merge = dual<
  (that: Headers.Input) => (self: Headers.Headers) => Headers.Headers,
  (self: Headers.Headers, that: Headers.Input) => Headers.Headers
>(2, (self, that) => {
  const other = impl(unsafeFromInput(that))
  if (other.keys.length === 0) return self
  const headers = impl(self)
  if (headers.keys.length === 0) return other
  const draft = new Draft(headers)
  for (let i = 0; i < other.keys.length; i++) draft.replace(other.names[i], other.keys[i], other.values[i])
  return draft.done(headers.checked && other.checked)
})

/** @internal */
export const concat = dual<
  (that: Headers.Input) => (self: Headers.Headers) => Headers.Headers,
  (self: Headers.Headers, that: Headers.Input) => Headers.Headers
>(2, (self, that) => {
  const other = impl(unsafeFromInput(that))
  if (other.keys.length === 0) return self
  const headers = impl(self)
  if (headers.keys.length === 0) return other
  const draft = new Draft(headers)
  for (let i = 0; i < other.keys.length; i++) draft.append(other.names[i], other.keys[i], other.values[i])
  return draft.done(headers.checked && other.checked)
})

// ---------------------------------------------------------------------------
// SKIP_HEADER
// ---------------------------------------------------------------------------

/** @internal */
export const SKIP_HEADER = "@@@SKIP_HEADER@@@" as const

/** @internal */
export const SKIPPABLE_HEADERS: ReadonlySet<string> = new Set(["accept-encoding", "host", "user-agent"])

const skipMessage = "SKIP_HEADER only supports 'Accept-Encoding', 'Host', 'User-Agent'"

/** @internal */
export const checkSkipHeader = (self: Headers.Headers): Either.Either<Headers.Headers, ValueError> => {
  const headers = impl(self)
  for (let i = 0; i < headers.keys.length; i++) {
    if (!SKIPPABLE_HEADERS.has(headers.keys[i]) && headers.values[i].includes(SKIP_HEADER)) {
      return Either.left(new ValueError({ message: `${skipMessage}, not '${headers.names[i]}'` }))
    }
  }
  return Either.right(self)
}

/** @internal */
export const removeSkipped = (self: Headers.Headers): Headers.Headers => {
  const headers = impl(self)
  if (!headers.values.some((values) => values.includes(SKIP_HEADER))) return self
  const keys: Array<string> = []
  const names: Array<string> = []
  const values: Array<ReadonlyArray<string>> = []
  for (let i = 0; i < headers.keys.length; i++) {
    const kept = headers.values[i].filter((value) => value !== SKIP_HEADER)
    if (kept.length > 0) {
      keys.push(headers.keys[i])
      names.push(headers.names[i])
      values.push(kept)
    }
  }
  return new HeadersImpl(keys, names, values, headers.checked)
}

// ---------------------------------------------------------------------------
// makeHeaders
// ---------------------------------------------------------------------------

/** @internal */
export const DEFAULT_ENCODINGS: ReadonlyArray<string> = Object.freeze(["gzip", "deflate"])

const encoder = new TextEncoder()

/** Standard base64 of the UTF-8 bytes of a string. */
const base64Utf8 = (text: string): string => {
  const bytes = encoder.encode(text)
  let binary = ""
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i])
  return btoa(binary)
}

/** @internal */
export const makeHeaders = (options: Headers.MakeHeadersOptions): Headers.Headers => {
  const lines: Array<readonly [string, string]> = []
  const acceptEncoding = options.acceptEncoding
  if (acceptEncoding !== undefined && acceptEncoding !== false && acceptEncoding !== "") {
    const value =
      typeof acceptEncoding === "string"
        ? acceptEncoding
        : acceptEncoding === true
          ? (options.encodings ?? DEFAULT_ENCODINGS).join(",")
          : acceptEncoding.join(",")
    // urllib3 tests the list itself, so an empty list adds nothing while [""] adds "".
    if (acceptEncoding === true || typeof acceptEncoding === "string" || acceptEncoding.length > 0) {
      lines.push(["accept-encoding", value])
    }
  }
  if (options.userAgent) lines.push(["user-agent", options.userAgent])
  if (options.keepAlive) lines.push(["connection", "keep-alive"])
  if (options.basicAuth) lines.push(["authorization", `Basic ${base64Utf8(options.basicAuth)}`])
  if (options.proxyBasicAuth) lines.push(["proxy-authorization", `Basic ${base64Utf8(options.proxyBasicAuth)}`])
  if (options.disableCache) lines.push(["cache-control", "no-cache"])
  const result = build(lines, true)
  return result instanceof HeadersImpl ? result : (build(lines, false) as HeadersImpl)
}
