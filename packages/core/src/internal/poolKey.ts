import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { pipeArguments } from "effect/Pipeable"
import * as Hash from "effect/Hash"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Inspectable from "effect/Inspectable"
import * as Predicate from "effect/Predicate"
import { LocationValueError, URLSchemeUnknown } from "../Errors.js"
import type * as PoolKey from "../PoolKey.js"

/** @internal */
export const TypeId: PoolKey.TypeId = Symbol.for("@httpool/core/PoolKey") as PoolKey.TypeId

/** @internal */
export const KeyShapeTypeId: PoolKey.KeyShapeTypeId = Symbol.for(
  "@httpool/core/PoolKey/KeyShape"
) as PoolKey.KeyShapeTypeId

/**
 * The fields of urllib3 2.7.0's `PoolKey`, in its order, camelCased, leading underscores
 * dropped (`_proxy_headers` is `proxyHeaders`).
 *
 * @internal
 */
export const defaultFields = [
  "scheme",
  "host",
  "port",
  "timeout",
  "retries",
  "block",
  "sourceAddress",
  "keyFile",
  "keyPassword",
  "certFile",
  "certReqs",
  "caCerts",
  "caCertData",
  "sslVersion",
  "sslMinimumVersion",
  "sslMaximumVersion",
  "caCertDir",
  "sslContext",
  "maxsize",
  "headers",
  "proxy",
  "proxyHeaders",
  "proxyConfig",
  "socketOptions",
  "socksOptions",
  "assertHostname",
  "assertFingerprint",
  "serverHostname",
  "blocksize",
  // httpool's own: a pool on a Unix domain socket is another pool than TCP to its host.
  "socketPath"
] as const satisfies ReadonlyArray<PoolKey.DefaultField>

/** urllib3's `SSL_KEYWORDS`, camelCased. @internal */
export const tlsFields = [
  "keyFile",
  "certFile",
  "certReqs",
  "caCerts",
  "caCertData",
  "sslVersion",
  "sslMinimumVersion",
  "sslMaximumVersion",
  "caCertDir",
  "sslContext",
  "keyPassword",
  "serverHostname"
] as const satisfies ReadonlyArray<PoolKey.DefaultField>

/** @internal */
export const defaultBlocksize = 16384

/** Options given as a mapping and keyed as an unordered set of pairs. */
const headerFields: ReadonlySet<string> = new Set(["headers", "proxyHeaders", "socksOptions"])
const sensitiveNames: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  // socksOptions' RFC 1929 password
  "password"
])

/** Printed header pairs and SOCKS options never show credentials (the key itself keeps them, to compare). */
const redactPairs = (value: unknown): unknown => {
  if (value === null || typeof value !== "object" || !(Symbol.iterator in value)) return Inspectable.toJSON(value)
  return Array.from(value as Iterable<unknown>, (pair) =>
    Array.isArray(pair) && typeof pair[0] === "string" && sensitiveNames.has(pair[0].toLowerCase())
      ? [pair[0], "<redacted>"]
      : Inspectable.toJSON(pair)
  )
}

const mappingFields: ReadonlySet<string> = new Set(["headers", "proxyHeaders", "socksOptions"])

const defaultFieldSet: ReadonlySet<string> = new Set(defaultFields)

/** @internal */
export const defaultPort = (scheme: string): number | null => (scheme === "http" ? 80 : scheme === "https" ? 443 : null)

// ---------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------

/** How `build` fills a field. */
enum Kind {
  Value,
  Pairs,
  Scheme,
  Host,
  Port,
  Blocksize
}

interface ShapeImpl extends PoolKey.KeyShape {
  /** The extra (non-default) fields, sorted. */
  readonly extra: ReadonlyArray<string>
  /** For each field, how it is filled and the hash of its name. */
  readonly kinds: ReadonlyArray<Kind>
  readonly nameHashes: ReadonlyArray<number>
}

const kindOf = (field: string): Kind => {
  switch (field) {
    case "scheme":
      return Kind.Scheme
    case "host":
      return Kind.Host
    case "port":
      return Kind.Port
    case "blocksize":
      return Kind.Blocksize
    default:
      return mappingFields.has(field) ? Kind.Pairs : Kind.Value
  }
}

const makeShape = (extra: ReadonlyArray<string>): ShapeImpl => {
  const fields = [...defaultFields, ...extra]
  return {
    [KeyShapeTypeId]: KeyShapeTypeId,
    fields,
    extra,
    kinds: fields.map(kindOf),
    nameHashes: fields.map(Hash.string)
  }
}

/** @internal */
export const defaultShape: PoolKey.KeyShape = makeShape([])

/** @internal */
export const shape = (fields: Iterable<string>): PoolKey.KeyShape => {
  const extra = new Set<string>()
  for (const field of fields) {
    if (!defaultFieldSet.has(field)) extra.add(field)
  }
  return extra.size === 0 ? defaultShape : makeShape([...extra].sort())
}

/** @internal */
export const isKeyShape = (u: unknown): u is PoolKey.KeyShape => Predicate.hasProperty(u, KeyShapeTypeId)

const sameShape = (a: ShapeImpl, b: ShapeImpl): boolean => {
  if (a === b) return true
  if (a.extra.length !== b.extra.length) return false
  for (let i = 0; i < a.extra.length; i++) {
    if (a.extra[i] !== b.extra[i]) return false
  }
  return true
}

// ---------------------------------------------------------------------------
// Making option values structural
// ---------------------------------------------------------------------------

/** A byte string in a key: compared and hashed by content, never equal to a string. */
interface Bytes {
  readonly _tag: "Bytes"
  readonly latin1: string
}

const makeBytes = Data.tagged<Bytes>("Bytes")

// A key is built for every request; the same Uint8Array (say, `caCertData` from the
// manager's options) is converted once.
const bytesCache = new WeakMap<Uint8Array, Bytes>()

const bytesToKey = (bytes: Uint8Array): Bytes => {
  let cached = bytesCache.get(bytes)
  if (cached === undefined) {
    let latin1 = ""
    for (let i = 0; i < bytes.length; i += 8192) {
      latin1 += String.fromCharCode(...bytes.subarray(i, i + 8192))
    }
    cached = makeBytes({ latin1 })
    bytesCache.set(bytes, cached)
  }
  return cached
}

const isPlainObject = (u: object): u is Readonly<Record<string, unknown>> => {
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/**
 * Turns an option value into one that `Equal.equals` and `Hash.hash` compare by value:
 * arrays become `Data` arrays, plain objects `Data` structs, `Map`s `HashMap`s, `Set`s
 * `HashSet`s, bytes a tagged value; values implementing `Equal` are kept, and any other
 * object (a TLS context, a function) is compared by identity.
 *
 * @internal
 */
export const structural = (value: unknown): unknown => {
  if (value === undefined || value === null) return null
  if (typeof value !== "object") return value
  if (Equal.isEqual(value)) return value
  if (Array.isArray(value)) return Data.array(value.map(structural))
  if (value instanceof Uint8Array) return bytesToKey(value)
  if (value instanceof Map) {
    const entries: Array<readonly [unknown, unknown]> = []
    for (const [k, v] of value) entries.push([structural(k), structural(v)])
    return HashMap.fromIterable(entries)
  }
  if (value instanceof Set) {
    const members: Array<unknown> = []
    for (const v of value) members.push(structural(v))
    return HashSet.fromIterable(members)
  }
  if (isPlainObject(value)) {
    // defineProperty, so that a "__proto__" key stays a key
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(value)) {
      Object.defineProperty(out, k, { value: structural(value[k]), enumerable: true })
    }
    return Data.unsafeStruct(out)
  }
  return value
}

const pairSetCache = new WeakMap<object, HashSet.HashSet<readonly [string, unknown]>>()

/**
 * A mapping (plain record, array of pairs, `Headers`, `Map` or any iterable of pairs) as an
 * unordered set of `[name, value]` tuples, names in the case given, as urllib3's
 * `frozenset(mapping.items())`.
 *
 * @internal
 */
export const pairSet = (value: unknown): HashSet.HashSet<readonly [string, unknown]> | null => {
  if (value === undefined || value === null) return null
  // An immutable mapping (a `Headers` value) is converted once; a record may change, so it
  // is converted every time.
  if (typeof value === "object" && Equal.isEqual(value)) {
    let cached = pairSetCache.get(value)
    if (cached === undefined) {
      cached = toPairSet(value)
      pairSetCache.set(value, cached)
    }
    return cached
  }
  return toPairSet(value)
}

const toPairSet = (value: unknown): HashSet.HashSet<readonly [string, unknown]> => {
  const pairs: Array<readonly [string, unknown]> = []
  if (Predicate.isIterable(value) && typeof value !== "string") {
    for (const pair of value) {
      if (Array.isArray(pair)) pairs.push(Data.tuple(String(pair[0]), structural(pair[1])))
    }
  } else if (typeof value === "object") {
    const record = value as Readonly<Record<string, unknown>>
    for (const k of Object.keys(record)) pairs.push(Data.tuple(k, structural(record[k])))
  }
  return HashSet.fromIterable(pairs)
}

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

const ShapeKey = Symbol.for("@httpool/core/PoolKey/shape")
const ContextKey = Symbol.for("@httpool/core/PoolKey/context")

interface PoolKeyImpl extends PoolKey.PoolKey {
  readonly [ShapeKey]: ShapeImpl
  readonly [ContextKey]: PoolKey.RequestContext
  readonly [field: string]: unknown
}

const keyHash = (self: PoolKeyImpl): number => {
  const { fields, nameHashes } = self[ShapeKey]
  let h = 4051
  for (let i = 0; i < fields.length; i++) {
    h = Hash.combine(Hash.hash(self[fields[i]!]))(Hash.combine(nameHashes[i]!)(h))
  }
  return Hash.optimize(h)
}

const Proto = {
  [TypeId]: TypeId,
  [Equal.symbol](this: PoolKeyImpl, that: unknown): boolean {
    if (!isPoolKey(that)) return false
    const other = that as PoolKeyImpl
    const fields = this[ShapeKey]
    if (!sameShape(fields, other[ShapeKey])) return false
    for (const field of fields.fields) {
      if (!Equal.equals(this[field], other[field])) return false
    }
    return true
  },
  [Hash.symbol](this: PoolKeyImpl): number {
    return Hash.cached(this, keyHash(this))
  },
  toJSON(this: PoolKeyImpl): unknown {
    const out: Record<string, unknown> = { _id: "PoolKey" }
    for (const field of this[ShapeKey].fields) {
      out[field] = headerFields.has(field) ? redactPairs(this[field]) : Inspectable.toJSON(this[field])
    }
    return out
  },
  toString(this: PoolKeyImpl): string {
    return Inspectable.format(this.toJSON())
  },
  [Inspectable.NodeInspectSymbol](this: PoolKeyImpl): unknown {
    return this.toJSON()
  },
  pipe(...args: Array<unknown>) {
    return pipeArguments(this, args as unknown as IArguments)
  }
}

/** @internal */
export const isPoolKey = (u: unknown): u is PoolKey.PoolKey => Predicate.hasProperty(u, TypeId)

const build = (keyShape: ShapeImpl, context: PoolKey.RequestContext): PoolKey.PoolKey => {
  const scheme = context.scheme.toLowerCase()
  const key: Record<PropertyKey, unknown> = Object.create(Proto)
  key[ShapeKey] = keyShape
  // a copy: the caller may go on to change its context object
  key[ContextKey] = { ...context }
  const { fields, kinds } = keyShape
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!
    switch (kinds[i]) {
      case Kind.Scheme:
        key[field] = scheme
        break
      case Kind.Host:
        key[field] = context.host.toLowerCase()
        break
      case Kind.Port:
        key[field] = context.port ?? defaultPort(scheme)
        break
      case Kind.Blocksize:
        key[field] = context.blocksize ?? defaultBlocksize
        break
      case Kind.Pairs:
        key[field] = pairSet(context[field])
        break
      default:
        key[field] = structural(context[field])
    }
  }
  return key as unknown as PoolKey.PoolKey
}

/** @internal */
export const defaultKeyNormalizer = (keyShape: PoolKey.KeyShape, context: PoolKey.RequestContext): PoolKey.PoolKey =>
  build(keyShape as ShapeImpl, context)

/** @internal */
export const make = (fields: PoolKey.RequestContext): PoolKey.PoolKey =>
  build(shape(Object.keys(fields)) as ShapeImpl, fields)

/** @internal */
export const shapeOf = (key: PoolKey.PoolKey): PoolKey.KeyShape => (key as PoolKeyImpl)[ShapeKey]

/** @internal */
export const get: {
  <F extends PoolKey.DefaultField>(key: PoolKey.PoolKey, field: F): PoolKey.Fields[F]
  (key: PoolKey.PoolKey, field: string): unknown
} = (key: PoolKey.PoolKey, field: string): never => {
  const impl = key as PoolKeyImpl
  return (impl[ShapeKey].fields.includes(field) ? impl[field] : undefined) as never
}

/** @internal */
export const toContext = (key: PoolKey.PoolKey): PoolKey.RequestContext => {
  const source = (key as PoolKeyImpl)[ContextKey]
  const out: Record<string, unknown> = {}
  for (const field of Object.keys(source)) {
    const value = source[field]
    if (value !== undefined && value !== null) out[field] = value
  }
  out["scheme"] = key.scheme
  out["host"] = key.host
  out["port"] = key.port
  out["blocksize"] = key.blocksize
  return out as unknown as PoolKey.RequestContext
}

/** @internal */
export const keyFn =
  (keyShape: PoolKey.KeyShape): PoolKey.KeyFn =>
  (context) =>
    build(keyShape as ShapeImpl, context)

/**
 * The socket path of an `http+unix://` URL's host: the percent-encoded path
 * (`%2Fvar%2Frun%2Fdocker.sock`), as requests-unixsocket writes it.
 *
 * @internal
 */
export const unixSocketPath = (host: string): string => {
  try {
    return decodeURIComponent(host)
  } catch {
    return host
  }
}

/** An `http+unix://` key: the default shape, the socket path taken from the host (case kept). */
const unixKeyFn: PoolKey.KeyFn = (context) =>
  build(defaultShape as ShapeImpl, { ...context, socketPath: unixSocketPath(context.host) })

/** @internal */
export const defaultKeyFnByScheme: Readonly<Record<string, PoolKey.KeyFn>> = Object.freeze({
  http: keyFn(defaultShape),
  https: keyFn(defaultShape),
  "http+unix": unixKeyFn
})

/** @internal */
export const fromContext = (
  keyFnByScheme: Readonly<Record<string, PoolKey.KeyFn>>,
  context: PoolKey.RequestContext
): Either.Either<PoolKey.PoolKey, LocationValueError | URLSchemeUnknown> => {
  if (typeof context.host !== "string" || context.host.length === 0) {
    return Either.left(new LocationValueError({ message: "No host specified." }))
  }
  if (typeof context.scheme !== "string" || context.scheme.length === 0) {
    return Either.left(new URLSchemeUnknown({ scheme: null }))
  }
  const scheme = context.scheme.toLowerCase()
  const fn = Object.hasOwn(keyFnByScheme, scheme) ? keyFnByScheme[scheme] : undefined
  return fn === undefined ? Either.left(new URLSchemeUnknown({ scheme })) : Either.right(fn(context))
}
