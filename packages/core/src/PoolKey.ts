/**
 * The identity of a ConnectionPool.
 *
 * A PoolManager derives a key from each request (its scheme, host and port plus the pool
 * options in force) and hands out one pool per distinct key. Keys are `Data`-like values:
 * every field of their shape is present (an absent option is `null`), and nested
 * collections are made structural, so `Equal.equals` and `Hash.hash` compare values,
 * never identities.
 *
 * @example
 * import * as Equal from "effect/Equal"
 * import { PoolKey } from "@httpool/core"
 *
 * const a = PoolKey.make({ scheme: "HTTP", host: "Example.com" })
 * const b = PoolKey.make({ scheme: "http", host: "example.com", port: 80 })
 * Equal.equals(a, b) // true: one pool
 *
 * @since 0.1.0
 */
import type * as Either from "effect/Either"
import type * as Equal from "effect/Equal"
import type * as HashSet from "effect/HashSet"
import type { Inspectable } from "effect/Inspectable"
import type { Pipeable } from "effect/Pipeable"
import type { LocationValueError, URLSchemeUnknown } from "./Errors.js"
import * as internal from "./internal/poolKey.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export const KeyShapeTypeId: unique symbol = internal.KeyShapeTypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type KeyShapeTypeId = typeof KeyShapeTypeId

/**
 * A mapping-valued option as a caller may give it: a plain record, an array of
 * `[name, value]` pairs, a `Headers` value, a `Map`, or any iterable of pairs.
 *
 * @since 0.1.0
 * @category models
 */
export type PairsInput<V = string> = Readonly<Record<string, V>> | Iterable<readonly [string, V]>

/**
 * What a request brings to key derivation: scheme, host and port plus every pool option
 * in force (the manager's `connectionPoolKw` merged with the call's). Names are urllib3's
 * camelCased. Fields the default key does not know are allowed; the default key ignores
 * them and a custom {@link KeyShape} may include them.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestContext {
  readonly scheme: string
  readonly host: string
  /** Defaults by scheme: http 80, https 443; `null` for other schemes. */
  readonly port?: number | null | undefined
  /** A `Timeout` value or a number of seconds. */
  readonly timeout?: unknown
  /** A `Retry` value, a number or a boolean. */
  readonly retries?: unknown
  readonly block?: boolean | null | undefined
  /** `[host, port]` to bind the local end of each socket to. */
  readonly sourceAddress?: readonly [host: string, port: number] | null | undefined
  readonly keyFile?: string | null | undefined
  readonly keyPassword?: string | null | undefined
  readonly certFile?: string | null | undefined
  readonly certReqs?: string | number | null | undefined
  readonly caCerts?: string | null | undefined
  readonly caCertData?: string | Uint8Array | null | undefined
  readonly sslVersion?: string | number | null | undefined
  readonly sslMinimumVersion?: string | number | null | undefined
  readonly sslMaximumVersion?: string | number | null | undefined
  readonly caCertDir?: string | null | undefined
  /** A platform TLS context; compared by identity. */
  readonly sslContext?: unknown
  readonly maxsize?: number | null | undefined
  readonly headers?: PairsInput | null | undefined
  /** The proxy's URL (a `Url` value or a string). */
  readonly proxy?: unknown
  readonly proxyHeaders?: PairsInput | null | undefined
  readonly proxyConfig?: unknown
  readonly socketOptions?: ReadonlyArray<ReadonlyArray<unknown>> | null | undefined
  readonly socksOptions?: PairsInput<unknown> | null | undefined
  readonly assertHostname?: string | boolean | null | undefined
  readonly assertFingerprint?: string | null | undefined
  readonly serverHostname?: string | null | undefined
  /** Defaults to 16384 (see {@link defaultBlocksize}). */
  readonly blocksize?: number | null | undefined
  /** A Unix domain socket the pool connects to instead of TCP (httpool's own field). */
  readonly socketPath?: string | null | undefined
  readonly [field: string]: unknown
}

/**
 * The fields every key has, as the key holds them: `null` where the context had no value,
 * mappings as a set of `[name, value]` tuples, lists as `Data` arrays, plain objects as
 * `Data` structs, values implementing `Equal` (a `Timeout`, a `Retry`) as given.
 *
 * @since 0.1.0
 * @category models
 */
export interface Fields {
  /** Lower-cased. */
  readonly scheme: string
  /** Lower-cased; a trailing dot is kept (`localhost.` is not `localhost`). */
  readonly host: string
  /** The scheme's default port when the context had none; `null` for an unknown scheme. */
  readonly port: number | null
  readonly timeout: unknown
  readonly retries: unknown
  readonly block: boolean | null
  readonly sourceAddress: ReadonlyArray<unknown> | null
  readonly keyFile: string | null
  readonly keyPassword: string | null
  readonly certFile: string | null
  readonly certReqs: string | number | null
  readonly caCerts: string | null
  /** A string as given; bytes as a value compared by content. */
  readonly caCertData: unknown
  readonly sslVersion: string | number | null
  readonly sslMinimumVersion: string | number | null
  readonly sslMaximumVersion: string | number | null
  readonly caCertDir: string | null
  readonly sslContext: unknown
  readonly maxsize: number | null
  readonly headers: HashSet.HashSet<readonly [string, string]> | null
  readonly proxy: unknown
  readonly proxyHeaders: HashSet.HashSet<readonly [string, string]> | null
  readonly proxyConfig: unknown
  readonly socketOptions: ReadonlyArray<ReadonlyArray<unknown>> | null
  readonly socksOptions: HashSet.HashSet<readonly [string, unknown]> | null
  readonly assertHostname: string | boolean | null
  readonly assertFingerprint: string | null
  readonly serverHostname: string | null
  /** 16384 when the context had none. */
  readonly blocksize: number
  /** httpool's own field, after urllib3's: the Unix domain socket of the pool, or null. */
  readonly socketPath: string | null
}

/**
 * The name of a field every key has.
 *
 * @since 0.1.0
 * @category models
 */
export type DefaultField = keyof Fields

/**
 * The identity of a ConnectionPool: two requests share a pool exactly when their keys are
 * `Equal.equals`. Scheme and host are lower-cased; an absent option is `null`. A key made
 * with a custom {@link KeyShape} also has the shape's extra fields (read them with
 * {@link get}).
 *
 * @since 0.1.0
 * @category models
 */
export interface PoolKey extends Fields, Equal.Equal, Pipeable, Inspectable {
  readonly [TypeId]: TypeId
}

/**
 * The list of fields a key has: always every {@link defaultFields} entry, then any extra
 * fields (sorted by name). urllib3's counterpart is the namedtuple class handed to its key
 * normalizer.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyShape {
  readonly [KeyShapeTypeId]: KeyShapeTypeId
  readonly fields: ReadonlyArray<string>
}

/**
 * Derives the key of a request; one per scheme in a PoolManager's `keyFnByScheme`.
 *
 * @since 0.1.0
 * @category models
 */
export type KeyFn = (context: RequestContext) => PoolKey

/**
 * The fields of urllib3 2.7.0's `PoolKey`, in its order, camelCased and without leading
 * underscores, then httpool's own `socketPath` (a pool on a Unix domain socket).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultFields: ReadonlyArray<DefaultField> = internal.defaultFields

/**
 * The TLS-only options (urllib3's `SSL_KEYWORDS`): a PoolManager drops them when it builds
 * a pool for `http`.
 *
 * @since 0.1.0
 * @category constants
 */
export const tlsFields: ReadonlyArray<DefaultField> = internal.tlsFields

/**
 * The `blocksize` a key (and the pool built from it) has when the context sets none: 16384.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBlocksize: number = internal.defaultBlocksize

/**
 * The shape of urllib3's default key: exactly {@link defaultFields}.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultShape: KeyShape = internal.defaultShape

/**
 * A key shape with the given fields. The default fields are always part of it, so
 * `shape(["myField"])` and `shape([...defaultFields, "myField"])` are the same shape.
 *
 * @example
 * import { PoolKey } from "@httpool/core"
 *
 * const withField = PoolKey.shape([...PoolKey.defaultFields, "myField"])
 * withField.fields.at(-1) // "myField"
 *
 * @since 0.1.0
 * @category constructors
 */
export const shape: (fields: Iterable<string>) => KeyShape = internal.shape

/**
 * Builds a key of the given shape from a request context: scheme and host lower-cased,
 * the port defaulted by scheme, `blocksize` defaulted to 16384, every other field taken
 * from the context (`null` when absent) and made structural. Context fields outside the
 * shape are ignored.
 *
 * @example
 * import { PoolKey } from "@httpool/core"
 *
 * const withField = PoolKey.shape([...PoolKey.defaultFields, "myField"])
 * PoolKey.defaultKeyNormalizer(withField, { scheme: "HTTP", host: "Example.com", myField: "wheat" })
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultKeyNormalizer: (shape: KeyShape, context: RequestContext) => PoolKey = internal.defaultKeyNormalizer

/**
 * Builds a key directly from its fields: the default fields plus every other field given,
 * normalized as {@link defaultKeyNormalizer} does.
 *
 * @example
 * import { PoolKey } from "@httpool/core"
 *
 * const key = PoolKey.make({ scheme: "https", host: "example.com", port: 8443 })
 * key.timeout // null
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (fields: RequestContext) => PoolKey = internal.make

/**
 * A key function for the given shape (urllib3's `functools.partial(normalizer, KeyClass)`).
 *
 * @example
 * import { PoolKey } from "@httpool/core"
 *
 * const keyFnByScheme = {
 *   ...PoolKey.defaultKeyFnByScheme,
 *   http: PoolKey.keyFn(PoolKey.shape(["myField"]))
 * }
 *
 * @since 0.1.0
 * @category constructors
 */
export const keyFn: (shape: KeyShape) => KeyFn = internal.keyFn

/**
 * The key functions a PoolManager starts with: `http` and `https`, both of the default
 * shape, and `http+unix` (requests-unixsocket's `http+unix://%2Fpath%2Fto.sock/path`), whose
 * `socketPath` is the host percent-decoded. The record is frozen; a manager copies it and lets callers replace entries.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultKeyFnByScheme: Readonly<Record<string, KeyFn>> = internal.defaultKeyFnByScheme

/**
 * Derives the key of a context with the key function registered for its (lower-cased)
 * scheme. Fails with `LocationValueError("No host specified.")` when the host is empty and
 * with `URLSchemeUnknown` when no key function is registered for the scheme.
 *
 * @example
 * import * as Either from "effect/Either"
 * import { PoolKey } from "@httpool/core"
 *
 * PoolKey.fromContext(PoolKey.defaultKeyFnByScheme, { scheme: "ftp", host: "example.com" })
 * // Either.left(URLSchemeUnknown({ scheme: "ftp" }))
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromContext: (
  keyFnByScheme: Readonly<Record<string, KeyFn>>,
  context: RequestContext
) => Either.Either<PoolKey, LocationValueError | URLSchemeUnknown> = internal.fromContext

/**
 * @since 0.1.0
 * @category refinements
 */
export const isPoolKey: (u: unknown) => u is PoolKey = internal.isPoolKey

/**
 * @since 0.1.0
 * @category refinements
 */
export const isKeyShape: (u: unknown) => u is KeyShape = internal.isKeyShape

/**
 * Reads a field of a key, including the extra fields of a custom shape. A field that is
 * not part of the key's shape reads as `undefined`.
 *
 * @example
 * import { PoolKey } from "@httpool/core"
 *
 * const key = PoolKey.make({ scheme: "http", host: "example.com", myField: "wheat" })
 * PoolKey.get(key, "myField") // "wheat"
 * PoolKey.get(key, "port") // 80
 *
 * @since 0.1.0
 * @category getters
 */
export const get: {
  <F extends DefaultField>(key: PoolKey, field: F): Fields[F]
  (key: PoolKey, field: string): unknown
} = internal.get

/**
 * The shape a key was built with.
 *
 * @since 0.1.0
 * @category getters
 */
export const shapeOf: (key: PoolKey) => KeyShape = internal.shapeOf

/**
 * The pool options a key stands for, as the request that produced it gave them (header
 * order, byte strings and option values intact), with scheme and host lower-cased and
 * `port` and `blocksize` defaulted; absent options are left out. A PoolManager builds a
 * new pool from it. Context fields outside the key's shape are kept too, as urllib3 hands
 * the whole request context to the pool it creates.
 *
 * @since 0.1.0
 * @category getters
 */
export const toContext: (key: PoolKey) => RequestContext = internal.toContext
