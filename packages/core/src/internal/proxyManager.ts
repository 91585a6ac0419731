import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as ConnectionPool from "../ConnectionPool.js"
import { ProxySchemeUnknown, ValueError } from "../Errors.js"
import * as Headers from "../Headers.js"
import type * as PoolKey from "../PoolKey.js"
import * as ProxyEnv from "../ProxyEnv.js"
import type * as ProxyManager from "../ProxyManager.js"
import * as Url from "../Url.js"
import * as poolManager from "./poolManager.js"

const socksSchemes: ReadonlyMap<string, readonly [version: 4 | 5, rdns: boolean]> = new Map([
  ["socks4", [4, false]],
  ["socks4a", [4, true]],
  ["socks5", [5, false]],
  ["socks5h", [5, true]]
] as const)

/** A SOCKS scheme's version and whether the proxy resolves names; null for other schemes. @internal */
export const socksScheme = (scheme: string | null): readonly [version: 4 | 5, rdns: boolean] | null =>
  scheme === null ? null : (socksSchemes.get(scheme.toLowerCase()) ?? null)

/** The port of a SOCKS proxy URL that names none. @internal */
export const defaultSocksPort = 1080

/** User name and password for a SOCKS proxy given beside its URL (urllib3's SOCKSProxyManager arguments). @internal */
export interface SocksCredentials {
  readonly username?: string | null | undefined
  readonly password?: string | null | undefined
}

/** The proxy as the pools see it: its URL without credentials, headers and TLS config. @internal */
export interface Proxy {
  readonly scheme: "http" | "https"
  readonly host: string
  readonly port: number
  /** `scheme://host:port`, never with credentials (it is part of pool keys). */
  readonly url: string
  readonly headers: Headers.Headers
  readonly config: ConnectionPool.ProxyConfig
  /** A SOCKS proxy (`scheme` is then `http`, unused): every target gets a pool dialled through it. */
  readonly socks: ConnectionPool.SocksOptions | null
}

const decode = (text: string) => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * The `user:password` of Basic auth from a URL's userinfo: each part percent-decoded on its
 * own, and a missing password an empty one (`user@` is `user:`, as curl and undici send it).
 */
const basicCredentials = (auth: string) => {
  const colon = auth.indexOf(":")
  return colon === -1 ? `${decode(auth)}:` : `${decode(auth.slice(0, colon))}:${decode(auth.slice(colon + 1))}`
}

/** Validates a proxy URL and gathers what the pools need. @internal */
export const resolveProxy = (proxyUrl: string, options: ProxyManager.Options, credentials: SocksCredentials = {}) =>
  Effect.gen(function* () {
    const trimmed = proxyUrl.trim()
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
      return yield* Effect.fail(new ProxySchemeUnknown({ scheme: null }))
    }
    const url = yield* Url.parseAbsolute(trimmed)
    const scheme = url.scheme
    const socks = socksScheme(scheme)
    if (socks !== null) return socksProxy(url, socks, credentials)
    if (scheme !== "http" && scheme !== "https") return yield* Effect.fail(new ProxySchemeUnknown({ scheme }))
    const host = Url.hostname(url) ?? ""
    const port = url.port ?? Url.defaultPort(scheme)!
    let headers = yield* Headers.fromInput(options.proxyHeaders)
    if (url.auth !== null && !Headers.has(headers, "proxy-authorization")) {
      const credentials = Headers.makeHeaders({ proxyBasicAuth: basicCredentials(url.auth) })
      headers = Headers.merge(headers, credentials)
    }
    const config: ConnectionPool.ProxyConfig = {
      useForwardingForHttps: options.useForwardingForHttps ?? false,
      caCerts: options.proxyCaCerts ?? null,
      caCertDir: options.proxyCaCertDir ?? null,
      caCertData: options.proxyCaCertData ?? null,
      certReqs: options.proxyCertReqs ?? null,
      assertHostname: options.proxyAssertHostname ?? null,
      assertFingerprint: options.proxyAssertFingerprint ?? null,
      serverHostname: options.proxyServerHostname ?? null
    }
    const proxy: Proxy = {
      scheme,
      host,
      port,
      url: `${scheme}://${Url.hostPort(host, port)}`,
      headers,
      config,
      socks: null
    }
    return proxy
  })

const noConfig: ConnectionPool.ProxyConfig = {}

/**
 * A SOCKS proxy from its URL: credentials from the arguments when either is given (as
 * urllib3's SOCKSProxyManager), else from the URL's userinfo, percent-decoded.
 */
const socksProxy = (url: Url.Url, [version, rdns]: readonly [4 | 5, boolean], credentials: SocksCredentials): Proxy => {
  const host = Url.hostname(url) ?? ""
  const port = url.port ?? defaultSocksPort
  let username = credentials.username ?? null
  let password = credentials.password ?? null
  if (username === null && password === null && url.auth !== null) {
    const colon = url.auth.indexOf(":")
    username = decode(colon === -1 ? url.auth : url.auth.slice(0, colon))
    password = colon === -1 ? null : decode(url.auth.slice(colon + 1))
  }
  return {
    scheme: "http",
    host,
    port,
    url: `${url.scheme}://${Url.hostPort(host, port)}`,
    headers: Headers.empty,
    config: noConfig,
    socks: { socksVersion: version, proxyHost: host, proxyPort: port, username, password, rdns }
  }
}

/**
 * urllib3's ProxyManager routing: http:// (and, with `useForwardingForHttps` to an https
 * proxy, https://) targets go to one pool on the proxy in absolute form with `Host` set to
 * the target and `Accept: *\/*` added; https:// targets get one tunnel pool per host:port.
 *
 * @internal
 */
export const routing = (proxy: Proxy): poolManager.Routing => {
  if (proxy.socks !== null) return socksRouting(proxy.socks)
  const forwarded = (scheme: string) =>
    scheme === "http" || (scheme === "https" && proxy.scheme === "https" && proxy.config.useForwardingForHttps === true)
  const proxyFields = { proxy: proxy.url, proxyHeaders: proxy.headers, proxyConfig: proxy.config }
  return {
    context: (origin, kw) =>
      forwarded(origin.scheme.toLowerCase())
        ? ({
            ...kw,
            ...proxyFields,
            scheme: proxy.scheme,
            host: proxy.host,
            port: proxy.port
          } as PoolKey.RequestContext)
        : poolManager.contextFor(origin, { ...kw, ...proxyFields }),
    prepare: (attempt) => {
      if (!forwarded(attempt.parsed.scheme ?? "http")) return attempt
      let sent = Headers.setIfAbsent(attempt.headers, "Accept", "*/*")
      sent = Headers.setIfAbsent(sent, "Host", Url.netloc(attempt.parsed) ?? "")
      return { target: Url.absoluteTarget(attempt.parsed), headers: sent }
    }
  }
}

/**
 * urllib3's SOCKSProxyManager routing: every target gets a pool of its own (the key holds
 * the SOCKS options), each connection dialled through the proxy, requests in origin form.
 *
 * @internal
 */
export const socksRouting = (socks: ConnectionPool.SocksOptions): poolManager.Routing => ({
  context: (origin, kw) => poolManager.contextFor(origin, { ...kw, socksOptions: socks }),
  prepare: (attempt) => attempt
})

/** @internal */
export const make = (proxyUrl: string, options: ProxyManager.Options = {}, credentials?: SocksCredentials) =>
  Effect.flatMap(resolveProxy(proxyUrl, options, credentials), (proxy) => poolManager.make(options, routing(proxy)))

/** @internal */
export const makeSocks = (proxyUrl: string, options: ProxyManager.Options & SocksCredentials = {}) =>
  Effect.gen(function* () {
    const { username, password, ...rest } = options
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(proxyUrl.trim())?.[1]?.toLowerCase() ?? null
    if (socksScheme(scheme) === null) {
      return yield* Effect.fail(
        new ValueError({
          message: `Unable to determine SOCKS version from the scheme ${scheme ?? "(none)"}: use socks4://, socks4a://, socks5:// or socks5h://`
        })
      )
    }
    return yield* make(proxyUrl, rest, { username, password })
  })

/**
 * Routing from proxy environment variables: each target goes through the proxy its scheme
 * names (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY), or directly when NO_PROXY covers it or no
 * proxy is set for its scheme.
 *
 * @internal
 */
export const fromEnv = (env: ProxyEnv.Env, options: ProxyManager.Options = {}) =>
  Effect.gen(function* () {
    const config = yield* ProxyEnv.fromEnv(env)
    const routes = new Map<string, poolManager.Routing>()
    for (const url of [config.http, config.https]) {
      if (url !== null && !routes.has(url)) routes.set(url, routing(yield* resolveProxy(url, options)))
    }
    const pick = (origin: poolManager.Origin): poolManager.Routing => {
      const target = Url.make({ scheme: origin.scheme.toLowerCase(), host: origin.host, port: origin.port })
      const proxy = Option.getOrNull(ProxyEnv.proxyFor(config, target))
      return proxy === null ? poolManager.directRouting : (routes.get(proxy) ?? poolManager.directRouting)
    }
    return yield* poolManager.make(options, {
      context: (origin, kw) => pick(origin).context(origin, kw),
      prepare: (attempt) =>
        pick({
          scheme: attempt.parsed.scheme ?? "http",
          host: attempt.parsed.host ?? "",
          port: attempt.parsed.port
        }).prepare(attempt)
    })
  })
