/**
 * Proxy configuration from environment variables, as curl reads it: `http_proxy`,
 * `https_proxy`, `all_proxy` and `no_proxy` (each also in upper case). The environment is
 * passed in as a plain record, so this module runs anywhere; `@httpool/node` hands it
 * `process.env`.
 *
 * A `ProxyEnv` holds the proxy URL for `http://` targets, the one for `https://` targets,
 * and the parsed `NO_PROXY` list; {@link proxyFor} picks the proxy for a request (or none).
 * Credentials in proxy URLs are kept for the ProxyManager's `Proxy-Authorization` header
 * but never shown when the value is printed.
 *
 * @example
 * import * as Either from "effect/Either"
 * import * as ProxyEnv from "@httpool/core/ProxyEnv"
 *
 * const env = Either.getOrThrow(
 *   ProxyEnv.fromEnv({
 *     https_proxy: "user:secret@proxy.internal:3128",
 *     NO_PROXY: "localhost,.corp.example,10.0.0.0/8"
 *   })
 * )
 * env.https // "http://user:secret@proxy.internal:3128"
 * ProxyEnv.proxyFor(env, "https://example.com/") // Option.some("http://user:secret@proxy.internal:3128")
 * ProxyEnv.proxyFor(env, "https://git.corp.example/") // Option.none(): NO_PROXY
 * ProxyEnv.proxyFor(env, "http://example.com/") // Option.none(): no http_proxy
 * String(env) // shows "http://<redacted>@proxy.internal:3128"
 *
 * @since 0.1.0
 */
import type * as Either from "effect/Either"
import type * as Equal from "effect/Equal"
import type { Inspectable } from "effect/Inspectable"
import type * as Option from "effect/Option"
import type { Pipeable } from "effect/Pipeable"
import type { LocationParseError, LocationValueError, ProxySchemeUnknown } from "./Errors.js"
import * as internal from "./internal/proxyEnv.js"
import type * as Url from "./Url.js"

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
 * An environment: variable names to values, as `process.env` is. Absent and `undefined`
 * are the same.
 *
 * @since 0.1.0
 * @category models
 */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * Proxy configuration for HTTP requests.
 *
 * - `http`: the proxy for `http://` targets, `null` for none.
 * - `https`: the proxy for `https://` targets, `null` for none.
 * - `noProxy`: the hosts, domains and networks reached directly.
 *
 * Proxy URLs are normalised (`http://` added when there is no scheme, scheme and host
 * lower-cased, as {@link Url.format} writes them) and keep their credentials.
 * `toString()`, `toJSON()` and Node's `inspect` show credentials as `<redacted>`; the
 * fields are getters, so spreading the value does not copy them either. `Equal.equals`
 * compares the two URLs and the `NO_PROXY` entries.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProxyEnv extends Equal.Equal, Pipeable, Inspectable {
  readonly [TypeId]: TypeId
  readonly http: string | null
  readonly https: string | null
  readonly noProxy: NoProxy
}

/**
 * A parsed `NO_PROXY` list, in the order written, without the entries that did not parse.
 *
 * @since 0.1.0
 * @category models
 */
export type NoProxy = ReadonlyArray<NoProxyEntry>

/**
 * One `NO_PROXY` entry.
 *
 * @since 0.1.0
 * @category models
 */
export type NoProxyEntry = NoProxyAll | NoProxyDomain | NoProxyAddress

/**
 * `*`: every host is reached directly.
 *
 * @since 0.1.0
 * @category models
 */
export interface NoProxyAll {
  readonly _tag: "All"
}

/**
 * A host name: matches the name itself and every name under it (`example.com` matches
 * `example.com` and `a.example.com`, not `badexample.com`). `domain` is lower-case and
 * IDNA-encoded, without leading `.`, `*.` or trailing `.`; `port`, when not `null`, limits
 * the entry to targets on that port.
 *
 * @since 0.1.0
 * @category models
 */
export interface NoProxyDomain {
  readonly _tag: "Domain"
  readonly domain: string
  readonly port: number | null
}

/**
 * An IPv4 or IPv6 address or network. A single address has the full prefix length (32 or
 * 128) and may have a `port`; a CIDR range never has one. `address` is the network address
 * as text (IPv6 as RFC 5952 writes it, without brackets) and `bytes` the same as 4 or 16
 * bytes, the bits past `prefixLength` cleared.
 *
 * @since 0.1.0
 * @category models
 */
export interface NoProxyAddress {
  readonly _tag: "Address"
  readonly family: 4 | 6
  readonly address: string
  readonly bytes: ReadonlyArray<number>
  readonly prefixLength: number
  readonly port: number | null
}

/**
 * What {@link make} takes: proxy URLs and a `NO_PROXY` list as they would be written in
 * the environment. Absent, `null` or blank means "not set".
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Proxy for `http://` targets. Default: none. */
  readonly http?: string | null | undefined
  /** Proxy for `https://` targets. Default: none (the `http` one is not used for them). */
  readonly https?: string | null | undefined
  /** Hosts, domains and networks to reach directly, as in `NO_PROXY`. Default: none. */
  readonly noProxy?: string | null | undefined
}

/**
 * Why a proxy URL cannot be used: a scheme other than `http`, `https`, `socks4`,
 * `socks4a`, `socks5` or `socks5h` (`ProxySchemeUnknown`), a URL that does not parse (`LocationParseError`, its `location`
 * without credentials), or no host (`LocationValueError`, naming the variable).
 *
 * @since 0.1.0
 * @category errors
 */
export type ProxyEnvError = ProxySchemeUnknown | LocationParseError | LocationValueError

/**
 * Whether a value is a {@link ProxyEnv}.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isProxyEnv: (u: unknown) => u is ProxyEnv = internal.isProxyEnv

/**
 * No proxies at all: every request goes directly.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: ProxyEnv = internal.empty

/**
 * Builds a `ProxyEnv` from explicit values, read as {@link fromEnv} reads the variables
 * (blank is unset, no scheme means `http://`). Useful to override the environment.
 *
 * @example
 * import * as Either from "effect/Either"
 * import * as ProxyEnv from "@httpool/core/ProxyEnv"
 *
 * const env = Either.getOrThrow(ProxyEnv.make({ http: "proxy:3128", noProxy: "localhost" }))
 * env.http // "http://proxy:3128"
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Either.Either<ProxyEnv, ProxyEnvError> = internal.make

/**
 * Reads proxy configuration from environment variables.
 *
 * - `http` from `http_proxy`, else `HTTP_PROXY`, else the `all_proxy` / `ALL_PROXY` pair.
 * - `https` from `https_proxy`, else `HTTPS_PROXY`, else the `all_proxy` / `ALL_PROXY` pair
 *   (never from `http_proxy`).
 * - `noProxy` from `no_proxy`, else `NO_PROXY`.
 *
 * In each pair the lower-case variable wins whenever it is defined, even empty: an empty
 * `https_proxy` hides `HTTPS_PROXY`. A value that is empty or only white space means "not
 * set", so an empty proxy variable falls through to the `all_proxy` pair. When
 * `REQUEST_METHOD` is defined (a CGI script, where a client's `Proxy:` header arrives as
 * `HTTP_PROXY`), `HTTP_PROXY` is ignored and only `http_proxy` counts.
 *
 * A SOCKS URL (`ALL_PROXY=socks5h://proxy:1080`) is a proxy like any other: the
 * ProxyManager dials through it. Only the URLs chosen are checked, so an unused
 * `ALL_PROXY=ftp://...` is no error.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEnv: (env: Env) => Either.Either<ProxyEnv, ProxyEnvError> = internal.fromEnv

/**
 * Normalises a proxy URL as {@link fromEnv} does: surrounding white space is dropped, a URL
 * without `scheme://` gets `http://` (as curl), the scheme must be `http`, `https` or a
 * SOCKS one (`socks4`, `socks4a`, `socks5`, `socks5h`), a host is required; the result is written as {@link Url.format} writes it, credentials
 * included.
 *
 * @example
 * import * as ProxyEnv from "@httpool/core/ProxyEnv"
 *
 * ProxyEnv.normalizeProxyUrl("User:pw@Proxy.Example:3128") // Either.right("http://User:pw@proxy.example:3128")
 * ProxyEnv.normalizeProxyUrl("socks5h://proxy:1080") // Either.right("socks5h://proxy:1080")
 * ProxyEnv.normalizeProxyUrl("ftp://proxy:21") // Either.left(ProxySchemeUnknown({ scheme: "ftp" }))
 *
 * @since 0.1.0
 * @category parsing
 */
export const normalizeProxyUrl: (value: string) => Either.Either<string, ProxyEnvError> = internal.normalizeProxyUrl

/**
 * Parses a `NO_PROXY` value. Entries are separated by commas and/or white space and read
 * case-insensitively:
 *
 * - `*`: every host.
 * - `example.com`, `.example.com`, `*.example.com`, `example.com.`: that name and every
 *   name under it.
 * - `192.168.1.10`, `::1`, `[::1]`: that address (IPv6 zone ids are ignored).
 * - `10.0.0.0/8`, `fe80::/10`, `[fe80::]/10`: every address in the range.
 * - `name:8080`, `192.168.1.10:8080`, `[::1]:8080`: only targets on that port (an IPv6
 *   address needs brackets to carry a port; a range cannot carry one).
 *
 * An entry that fits none of these (a bad prefix length, a port out of 1-65535, a URL, `*`
 * inside a name) is left out.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseNoProxy: (value: string) => NoProxy = internal.parseNoProxy

/**
 * Writes a `NO_PROXY` list back as text, one canonical entry per comma (`example.com:8080`,
 * `10.0.0.0/8`, `[::1]:8080`, `fe80::/10`); {@link parseNoProxy} reads it back to the same
 * entries.
 *
 * @since 0.1.0
 * @category rendering
 */
export const formatNoProxy: (noProxy: NoProxy) => string = internal.formatNoProxy

/**
 * Whether a host is reached directly according to a `NO_PROXY` list. `host` may be a name
 * (any case, trailing dot ignored, non-ASCII IDNA-encoded), an IPv4 address, or an IPv6
 * address with or without brackets. A name only matches name entries and an address only
 * address entries of its family: no DNS lookups, and `::ffff:10.0.0.1` is not in
 * `10.0.0.0/8`. With `port` `null`, entries that name a port do not match.
 *
 * @example
 * import * as ProxyEnv from "@httpool/core/ProxyEnv"
 *
 * const noProxy = ProxyEnv.parseNoProxy(".example.com, 10.0.0.0/8, [::1]:8080")
 * ProxyEnv.shouldBypass(noProxy, "api.Example.com", 443) // true
 * ProxyEnv.shouldBypass(noProxy, "badexample.com", 443) // false
 * ProxyEnv.shouldBypass(noProxy, "10.20.30.40", 80) // true
 * ProxyEnv.shouldBypass(noProxy, "[::1]", 80) // false: wrong port
 *
 * @since 0.1.0
 * @category matching
 */
export const shouldBypass: {
  (host: string, port: number | null): (self: NoProxy) => boolean
  (self: NoProxy, host: string, port: number | null): boolean
} = internal.shouldBypass

/**
 * The proxy a request to `url` should go through, or `Option.none()` to go directly: the
 * `http` proxy for `http://` (and scheme-less) URLs, the `https` one for `https://` URLs,
 * none for other schemes, URLs without a host, strings that do not parse, or hosts that
 * {@link shouldBypass} the proxy (with the URL's port, or its scheme's default).
 *
 * @since 0.1.0
 * @category matching
 */
export const proxyFor: {
  (url: Url.Url | string): (self: ProxyEnv) => Option.Option<string>
  (self: ProxyEnv, url: Url.Url | string): Option.Option<string>
} = internal.proxyFor
