import * as Errors from "@httpool/core/Errors"
import type * as Resolver from "@httpool/core/Resolver"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as dns from "node:dns"
import type * as net from "node:net"
import { mapConnectError } from "./errors.js"

/**
 * Node's resolver: `dns.lookup` (getaddrinfo, with `/etc/hosts`), every address, in the
 * order Node's `dns.setDefaultResultOrder` says.
 *
 * @internal
 */
export const dnsLookup: Resolver.Service = {
  lookup: (host, options) =>
    Effect.async<ReadonlyArray<Resolver.Address>, Errors.NameResolutionError>((resume) => {
      dns.lookup(host, { all: true, family: options.family }, (error, addresses) => {
        if (error !== null) {
          const mapped = mapConnectError(error, host, options.port, false)
          resume(
            Effect.fail(
              mapped instanceof Errors.NameResolutionError
                ? mapped
                : new Errors.NameResolutionError({ host, reason: mapped.message, cause: error })
            )
          )
          return
        }
        const out: Array<Resolver.Address> = []
        for (const entry of addresses) {
          if (entry.family === 4 || entry.family === 6) out.push({ address: entry.address, family: entry.family })
        }
        resume(
          out.length > 0
            ? Effect.succeed(out)
            : Effect.fail(new Errors.NameResolutionError({ host, reason: "no address" }))
        )
      })
    })
}

/**
 * A `lookup` function for `net.connect` over a Resolver service: what Node's connect (and
 * its Happy Eyeballs, which asks for every address) calls instead of `dns.lookup`.
 *
 * @internal
 */
export const lookupFunction =
  (resolver: Resolver.Service, port: number): net.LookupFunction =>
  (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : 0
    Effect.runCallback(resolver.lookup(hostname, { family, port }), {
      onExit: (exit) => {
        if (Exit.isSuccess(exit)) {
          const addresses = exit.value
          if (options.all === true) {
            callback(
              null,
              addresses.map((entry) => ({ address: entry.address, family: entry.family }))
            )
          } else {
            callback(null, addresses[0]!.address, addresses[0]!.family)
          }
        } else {
          callback(Cause.squash(exit.cause) as NodeJS.ErrnoException, "", 0)
        }
      }
    })
  }
