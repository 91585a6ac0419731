import * as Cache from "effect/Cache"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { NameResolutionError, ValueError } from "../Errors.js"
import type * as Resolver from "../Resolver.js"

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/
const IPV6 = /^[0-9a-f:]*:[0-9a-f:.]*$/i

/** The family of an IP address literal, or null when it is none. @internal */
export const familyOf = (address: string): 4 | 6 | null => {
  if (IPV4.test(address)) return 4
  if (IPV6.test(address) && address.includes(":")) {
    const tail = address.slice(address.lastIndexOf(":") + 1)
    return tail.includes(".") && !IPV4.test(tail) ? null : 6
  }
  return null
}

/** @internal */
export const make = (lookup: Resolver.Service["lookup"]): Resolver.Service => ({ lookup })

/** Keeps the addresses of the family asked for (all of them for 0). @internal */
export const ofFamily = (
  host: string,
  addresses: ReadonlyArray<Resolver.Address>,
  family: Resolver.Family
): Effect.Effect<ReadonlyArray<Resolver.Address>, NameResolutionError> => {
  const kept = family === 0 ? addresses : addresses.filter((address) => address.family === family)
  return kept.length > 0
    ? Effect.succeed(kept)
    : Effect.fail(
        new NameResolutionError({
          host,
          reason: family === 0 ? "no address" : `no IPv${family} address`
        })
      )
}

interface Override {
  /** Lower-cased, without a trailing dot; `*` for any host. */
  readonly host: string
  /** null for any port. */
  readonly port: number | null
  readonly addresses: ReadonlyArray<Resolver.Address>
}

const stripDot = (host: string) => (host.endsWith(".") ? host.slice(0, -1) : host)

const parseOverride = (entry: string): Override | ValueError => {
  const bad = (why: string) =>
    new ValueError({
      message: `Invalid resolve entry ${JSON.stringify(entry)}: ${why} (expected host:port:address[,address])`
    })
  const first = entry.indexOf(":")
  const second = first === -1 ? -1 : entry.indexOf(":", first + 1)
  if (second === -1) return bad("missing parts")
  const host = stripDot(entry.slice(0, first).trim().toLowerCase())
  const portText = entry.slice(first + 1, second).trim()
  if (host.length === 0) return bad("no host")
  let port: number | null = null
  if (portText !== "*") {
    port = Number(portText)
    if (!/^\d+$/.test(portText) || port > 65535) return bad(`bad port ${JSON.stringify(portText)}`)
  }
  const addresses: Array<Resolver.Address> = []
  for (const raw of entry.slice(second + 1).split(",")) {
    let address = raw.trim()
    if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1)
    const family = familyOf(address)
    if (family === null) return bad(`${JSON.stringify(raw.trim())} is not an IP address`)
    addresses.push({ address, family })
  }
  return { host, port, addresses }
}

/** @internal */
export const withOverrides = (
  self: Resolver.Service,
  entries: Iterable<string>
): Effect.Effect<Resolver.Service, ValueError> =>
  Effect.suspend(() => {
    const overrides: Array<Override> = []
    for (const entry of entries) {
      const parsed = parseOverride(entry)
      if (parsed instanceof ValueError) return Effect.fail(parsed)
      overrides.push(parsed)
    }
    if (overrides.length === 0) return Effect.succeed(self)
    // The first entry that matches wins, as with curl's --resolve.
    const find = (host: string, port: number): Override | undefined => {
      const name = stripDot(host.toLowerCase())
      return overrides.find(
        (entry) => (entry.host === "*" || entry.host === name) && (entry.port === null || entry.port === port)
      )
    }
    return Effect.succeed(
      make((host, options) => {
        const found = find(host, options.port)
        return found === undefined ? self.lookup(host, options) : ofFamily(host, found.addresses, options.family)
      })
    )
  })

/** @internal */
export const fromOverrides = (entries: Iterable<string>): Effect.Effect<Resolver.Service, ValueError> =>
  withOverrides(
    make((host) => Effect.fail(new NameResolutionError({ host, reason: "no resolve entry for this name" }))),
    entries
  )

/** @internal */
export const cached = (
  self: Resolver.Service,
  options: Resolver.CacheOptions
): Effect.Effect<Resolver.Service, ValueError> =>
  Effect.suspend(() => {
    const ttl = Duration.decodeUnknown(
      typeof options.timeToLive === "number" ? Duration.seconds(options.timeToLive) : options.timeToLive
    )
    if (ttl._tag === "None" || !Duration.greaterThan(ttl.value, Duration.zero)) {
      return Effect.fail(
        new ValueError({ message: `A resolver cache's timeToLive must be positive, got ${String(options.timeToLive)}` })
      )
    }
    const capacity = options.capacity ?? 1000
    if (!Number.isInteger(capacity) || capacity < 1) {
      return Effect.fail(
        new ValueError({ message: `A resolver cache's capacity must be a positive integer, got ${capacity}` })
      )
    }
    const timeToLive = ttl.value
    // The key is the family and the host: "4\nexample.com". Failures are not kept.
    return Effect.map(
      Cache.makeWith({
        capacity,
        lookup: (key: string) => {
          const newline = key.indexOf("\n")
          const family = Number(key.slice(0, newline)) as Resolver.Family
          return self.lookup(key.slice(newline + 1), { family, port: 0 })
        },
        timeToLive: (exit) => (Exit.isSuccess(exit) ? timeToLive : Duration.zero)
      }),
      (cache) =>
        make((host, options) => {
          const key = `${options.family}\n${host.toLowerCase()}`
          // A failure leaves the cache at once (a zero time to live still lasts this instant).
          return Effect.tapError(cache.get(key), () => cache.invalidate(key))
        })
    )
  })
