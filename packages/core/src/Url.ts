/**
 * URLs as urllib3 2.7.0's `parse_url` reads them: a `Url` value with urllib3's seven fields,
 * the parser that normalises scheme, host, path, query and fragment, and the helpers the
 * pools need (request targets, default ports, origins, redirect resolution).
 *
 * httpool is stricter than urllib3 in two places: a host holding a control character or a
 * space (raw or percent-encoded) does not parse, and `parseAbsolute` rejects a URL without
 * a scheme instead of assuming `http`.
 *
 * @since 0.1.0
 */
import type * as Either from "effect/Either"
import type * as Equal from "effect/Equal"
import type { Inspectable } from "effect/Inspectable"
import type { Pipeable } from "effect/Pipeable"
import type { LocationParseError, LocationValueError } from "./Errors.js"
import * as internal from "./internal/url.js"

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
 * A parsed URL: urllib3's `Url` namedtuple. Every field is `null` when the URL does not
 * have it, and `""` when it has it empty (`http://h?` has `query: ""`).
 *
 * - `scheme` is lower-case.
 * - `host` keeps IPv6 literals in brackets (`[::1]`); for http, https and scheme-less URLs
 *   it is lower-cased and IDNA-encoded (`xn--mller-kva.example`).
 * - `path` starts with `/` whenever it is not empty; it is `""` rather than `null` when the
 *   URL has a query or a fragment.
 *
 * `Equal.equals` compares the seven fields; `toString()` gives {@link format}; printing or
 * `JSON.stringify` shows `auth` as `<redacted>`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Url extends Equal.Equal, Pipeable, Inspectable {
  readonly [TypeId]: TypeId
  readonly scheme: string | null
  /** `user:password`, as written (percent-encoded where needed). */
  readonly auth: string | null
  readonly host: string | null
  readonly port: number | null
  readonly path: string | null
  readonly query: string | null
  readonly fragment: string | null
}

/**
 * The fields {@link make} takes; an absent field is `null`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Fields {
  readonly scheme?: string | null | undefined
  readonly auth?: string | null | undefined
  readonly host?: string | null | undefined
  readonly port?: number | null | undefined
  readonly path?: string | null | undefined
  readonly query?: string | null | undefined
  readonly fragment?: string | null | undefined
}

/**
 * What decides whether two URLs reach the same server: the scheme (`http` when absent),
 * the host as parsed, and the port with the scheme's default filled in. `Equal.equals`
 * compares the three.
 *
 * @since 0.1.0
 * @category models
 */
export interface Origin extends Equal.Equal {
  readonly scheme: string
  readonly host: string | null
  readonly port: number | null
}

/**
 * Whether a value is a {@link Url}.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isUrl: (u: unknown) => u is Url = internal.isUrl

/**
 * Builds a `Url` from its fields without parsing them, as urllib3's `Url(...)` does: the
 * scheme is lower-cased and a non-empty path gets a leading `/`; nothing is encoded or
 * checked.
 *
 * @example
 * import * as Url from "@httpool/core/Url"
 *
 * Url.format(Url.make({ scheme: "HTTPS", host: "example.com", path: "mail" })) // "https://example.com/mail"
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (fields: Fields) => Url = internal.make

/**
 * Parses a URL as urllib3's `parse_url` does. Anything may be missing: `"/path?q"` has no
 * scheme or host, `"example.com:8080"` has a host and a port but no scheme.
 *
 * - The scheme is lower-cased. For http, https and scheme-less URLs the host is lower-cased
 *   and every non-ASCII label is IDNA-encoded (IDNA 2008: `☃.net` does not parse); an IPv6
 *   zone id written `%25eth0` or `%eth0` becomes `%eth0`; dot segments are removed from the
 *   path; characters that may not appear in the auth, path, query or fragment are
 *   percent-encoded as UTF-8, existing `%xx` escapes are upper-cased and never encoded
 *   twice (unless a stray `%` forces every `%` to become `%25`), `[` and `]` become `%5B`
 *   and `%5D`. Other schemes keep everything as written.
 * - The port is digits only, leading zeros ignored, at most 65535; an empty port (`h:`) is
 *   no port.
 * - A host with `[`, `]`, a `%` not followed by two hex digits, a control character or a
 *   space (raw, or percent-encoded as `%00`-`%1F`, `%20`, `%7F`), an invalid IPv6 literal or
 *   an invalid IDNA label fails with `LocationParseError`.
 *
 * @example
 * import * as Either from "effect/Either"
 * import * as Url from "@httpool/core/Url"
 *
 * const url = Either.getOrThrow(Url.parse("HTTP://User@Müller.Example:0080/a/../b c?q=[1]#top"))
 * url.host // "xn--mller-kva.example"
 * url.port // 80
 * Url.format(url) // "http://User@xn--mller-kva.example:80/b%20c?q=%5B1%5D#top"
 * Url.requestUri(url) // "/b%20c?q=%5B1%5D"
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse: (input: string) => Either.Either<Url, LocationParseError> = internal.parse

/**
 * Parses a URL a request can be sent to: {@link parse}, then a host is required
 * (`LocationValueError("No host specified.")` for `""`, `"/path"`, `"http://"`, `"http://@"`)
 * and so is a scheme (`LocationValueError`; urllib3 assumes `http` with a warning).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseAbsolute: (input: string) => Either.Either<Url, LocationValueError | LocationParseError> =
  internal.parseAbsolute

/**
 * The URL as a string (urllib3's `Url.url`): each present field with its delimiter. It
 * parses back to the same `Url`. Credentials are included.
 *
 * @since 0.1.0
 * @category rendering
 */
export const format: (url: Url) => string = internal.format

/**
 * Path and query, as they go on the request line: an empty path is `/`, the fragment is
 * left out (`""` gives `/`, `"?"` gives `/?`). urllib3's `Url.request_uri`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const requestUri: (url: Url) => string = internal.requestUri

/**
 * {@link requestUri} under the name HTTP gives it (the origin-form request target).
 *
 * @since 0.1.0
 * @category rendering
 */
export const requestTarget: (url: Url) => string = internal.requestUri

/**
 * `host:port`, or the host alone when there is no port (or port 0); `null` without a host.
 *
 * @since 0.1.0
 * @category rendering
 */
export const netloc: (url: Url) => string | null = internal.netloc

/**
 * `auth@host:port` (RFC 3986 authority): {@link netloc} with the credentials in front.
 *
 * @since 0.1.0
 * @category rendering
 */
export const authority: (url: Url) => string | null = internal.authority

/**
 * The host to resolve and connect to: the host without the brackets of an IPv6 literal
 * (`[fe80::1%eth0]` gives `fe80::1%eth0`).
 *
 * @since 0.1.0
 * @category rendering
 */
export const hostname: (url: Url) => string | null = internal.hostname

/**
 * The absolute-form request target a forwarding proxy is sent: scheme, host, port, path and
 * query, without credentials or fragment (`http://example.com:8080/a?b`).
 *
 * @since 0.1.0
 * @category rendering
 */
export const absoluteTarget: (url: Url) => string = internal.absoluteTarget

/**
 * Makes a request target safe for the request line, as urllib3 does before sending: the
 * path and query are percent-encoded like {@link parse} does (dot segments are kept), the
 * fragment is dropped, and a target that does not start with `/` gets one (`*` stays `*`).
 * Returns its argument when nothing needs encoding.
 *
 * @example
 * import * as Url from "@httpool/core/Url"
 *
 * Url.encodeTarget("/a b/[x]?q=é#frag") // "/a%20b/%5Bx%5D?q=%C3%A9"
 *
 * @since 0.1.0
 * @category rendering
 */
export const encodeTarget: (target: string) => string = internal.encodeTarget

/**
 * `host:port` as an authority, the port always written and an IPv6 address in brackets: the
 * one formatter of httpool for a host and a port (CONNECT request lines, pool labels, errors).
 *
 * @example
 * import * as Url from "@httpool/core/Url"
 *
 * Url.hostPort("::1", 8080) // "[::1]:8080"
 *
 * @since 0.1.0
 * @category rendering
 */
export const hostPort: (host: string, port: number) => string = internal.hostPort

/**
 * The port a scheme uses when the URL names none: `http` 80 (and `http+unix`, whose host is
 * a socket path, see unix-sockets.md), `https` 443, otherwise `null`.
 *
 * @since 0.1.0
 * @category ports
 */
export const defaultPort: (scheme: string | null) => number | null = internal.defaultPort

/**
 * The URL's port, or its scheme's default (`http` when there is no scheme). Port 0 counts as
 * no port, as in urllib3's pool manager.
 *
 * @since 0.1.0
 * @category ports
 */
export const portOrDefault: (url: Url) => number | null = internal.portOrDefault

/**
 * The URL's {@link Origin}.
 *
 * @since 0.1.0
 * @category origins
 */
export const origin: (url: Url) => Origin = internal.origin

/**
 * Whether two URLs have the same {@link Origin} (urllib3's `is_same_host`): `http` and
 * `https` differ, `:80` on http is the same as no port, different IPv6 zones differ, and
 * `example.com.` is not `example.com`.
 *
 * @since 0.1.0
 * @category origins
 */
export const isSameOrigin: {
  (that: Url): (self: Url) => boolean
  (self: Url, that: Url): boolean
} = internal.isSameOrigin

/**
 * Resolves a redirect's `Location` against the URL that answered, as urllib3's PoolManager
 * does (Python's `urljoin`, then {@link parseAbsolute}): relative references are resolved
 * with dot segments removed, tabs and newlines in the location are dropped, a location with
 * another scheme is taken as it is, and the result must be absolute.
 *
 * @example
 * import * as Either from "effect/Either"
 * import * as Url from "@httpool/core/Url"
 *
 * Either.map(Url.resolve("http://example.com/a/b?x", "../c?y"), Url.format) // Either.right("http://example.com/c?y")
 *
 * @since 0.1.0
 * @category resolving
 */
export const resolve: (
  base: Url | string,
  location: string
) => Either.Either<Url, LocationValueError | LocationParseError> = internal.resolve
