import type * as tls from "node:tls"
import { ConnectionPool, PoolManager, Resolver } from "@httpool/core"
import type * as Errors from "@httpool/core/Errors"
import { describe, expect, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as NodeConnector from "../src/NodeConnector.js"
import * as NodePoolManager from "../src/NodePoolManager.js"
import * as NodeResolver from "../src/NodeResolver.js"
import * as Certs from "./utils/certs.js"
import * as Servers from "./utils/servers.js"

// Nothing here asks a real DNS server: names are pinned by overrides or answered by a
// resolver of the test's own, and every address is a loopback one.

const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.either(effect), (result) =>
    Either.isLeft(result) ? Effect.succeed(result.left) : Effect.dieMessage("expected a failure, got a success")
  )

/** The manager of a layer, built in the test's Scope. */
const managerWith = (layer: Layer.Layer<PoolManager.PoolManager, Errors.ValueError>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, PoolManager.PoolManager))

/** A resolver answering every name with `addresses`, counting the questions. */
const counting = (addresses: ReadonlyArray<Resolver.Address>) => {
  const asked: Array<{ readonly host: string; readonly family: Resolver.Family }> = []
  const service = Resolver.make((host, options) =>
    Effect.sync(() => {
      asked.push({ host, family: options.family })
      return addresses
    })
  )
  return { asked, service }
}

const v4: Resolver.Address = { address: "127.0.0.1", family: 4 }
const v6: Resolver.Address = { address: "::1", family: 6 }

describe("NodeResolver", () => {
  it.scopedLive("a resolve override sends example.test to 127.0.0.1 and Host still names example.test", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.echo)
      const manager = yield* managerWith(
        NodePoolManager.layer({ connector: { resolve: [`example.test:${server.port}:127.0.0.1`] } })
      )
      const response = yield* manager.request("GET", `http://example.test:${server.port}/pinned`, { retries: false })
      expect(response.status).toBe(200)
      expect(server.requests[0]?.url).toBe("/pinned")
      expect(server.requests[0]?.headers.host).toBe(`example.test:${server.port}`)
    })
  )

  it.scopedLive("TLS to a pinned name verifies the certificate of the name and sends it as SNI", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const servernames: Array<string | false | null> = []
      const server = yield* Servers.https(
        (req, res, received) => {
          servernames.push((req.socket as tls.TLSSocket).servername)
          Servers.echo(req, res, received)
        },
        { tls: { key: certs.exampleTest.key, cert: certs.exampleTest.cert } }
      )
      const manager = yield* managerWith(
        NodePoolManager.layer({
          connectionPoolKw: { caCerts: certs.ca.certPath },
          connector: { resolve: [`example.test:${server.port}:127.0.0.1`] }
        })
      )
      const response = yield* manager.request("GET", `https://example.test:${server.port}/`, { retries: false })
      expect(response.status).toBe(200)
      expect(servernames).toEqual(["example.test"])
      expect(server.requests[0]?.headers.host).toBe(`example.test:${server.port}`)
    })
  )

  it.scopedLive("the same certificate reached by its address fails verification (the name is what is checked)", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const server = yield* Servers.https(Servers.echo, {
        tls: { key: certs.exampleTest.key, cert: certs.exampleTest.cert }
      })
      const pool = yield* ConnectionPool.make({
        scheme: "https",
        host: "127.0.0.1",
        port: server.port,
        caCerts: certs.ca.certPath,
        retries: false
      }).pipe(Effect.provide(NodeConnector.layer))
      const error = yield* failure(pool.request("GET", "/"))
      expect(error._tag).toBe("SSLError")
    })
  )

  it.scopedLive("a Resolver in the context replaces Node's lookup for every connection", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.connectionClose())
      const resolver = counting([v4])
      const manager = yield* managerWith(NodePoolManager.layer().pipe(Layer.provide(Resolver.layer(resolver.service))))
      for (let i = 0; i < 3; i++) {
        expect((yield* manager.request("GET", `http://service.test:${server.port}/`)).status).toBe(200)
      }
      expect(server.socketsOpened()).toBe(3)
      expect(resolver.asked.map((entry) => entry.host)).toEqual(["service.test", "service.test", "service.test"])
    })
  )

  it.scopedLive("dnsCache asks the resolver once while the answer lives", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.connectionClose())
      const resolver = counting([v4])
      const manager = yield* managerWith(
        NodePoolManager.layer({ connector: { dnsCache: { timeToLive: 600 } } }).pipe(
          Layer.provide(Resolver.layer(resolver.service))
        )
      )
      for (let i = 0; i < 3; i++) {
        expect((yield* manager.request("GET", `http://cached.test:${server.port}/`)).status).toBe(200)
      }
      expect(server.socketsOpened()).toBe(3)
      expect(resolver.asked.length).toBe(1)
    })
  )

  it.scopedLive("a name the resolver does not know fails with NameResolutionError", () =>
    Effect.gen(function* () {
      const resolver = yield* Resolver.fromOverrides(["known.test:*:127.0.0.1"])
      const manager = yield* managerWith(NodePoolManager.layer().pipe(Layer.provide(Resolver.layer(resolver))))
      const error = yield* failure(manager.request("GET", "http://unknown.test:1/", { retries: false }))
      expect(error._tag).toBe("NameResolutionError")
      expect((error as Errors.NameResolutionError).host).toBe("unknown.test")
    })
  )

  it.scopedLive("a resolve entry that does not parse fails the layer with ValueError", () =>
    Effect.gen(function* () {
      const error = yield* failure(managerWith(NodePoolManager.layer({ connector: { resolve: ["example.test:80"] } })))
      expect(error._tag).toBe("ValueError")
      const layerError = yield* failure(Layer.build(NodeResolver.layerWith({ resolve: ["h:x:127.0.0.1"] })))
      expect(layerError._tag).toBe("ValueError")
    })
  )

  it.scopedLive("NodeResolver.layerWith pins a name for a NodePoolManager built over it", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.echo)
      const manager = yield* managerWith(
        NodePoolManager.layer().pipe(
          Layer.provide(NodeResolver.layerWith({ resolve: ["*:*:127.0.0.1"], dnsCache: { timeToLive: 30 } }))
        )
      )
      const response = yield* manager.request("GET", `http://anything.test:${server.port}/x`)
      expect(response.status).toBe(200)
    })
  )

  it.effect("NodeResolver.dnsLookup resolves localhost to loopback addresses", () =>
    Effect.gen(function* () {
      const addresses = yield* NodeResolver.dnsLookup.lookup("localhost", { family: 0, port: 80 })
      expect(addresses.length).toBeGreaterThan(0)
      for (const entry of addresses) expect(["127.0.0.1", "::1"]).toContain(entry.address)
      const v4only = yield* NodeResolver.dnsLookup.lookup("localhost", { family: 4, port: 80 })
      expect(v4only.every((entry) => entry.family === 4)).toBe(true)
    })
  )

  describe("Happy Eyeballs (a name with ::1 and 127.0.0.1)", () => {
    it.scopedLive("autoSelectFamily on: ::1 is refused, 127.0.0.1 answers, the request succeeds", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo, { host: "127.0.0.1" })
        const resolver = counting([v6, v4])
        const manager = yield* managerWith(
          NodePoolManager.layer({ connector: { autoSelectFamily: true, autoSelectFamilyAttemptTimeout: 0.05 } }).pipe(
            Layer.provide(Resolver.layer(resolver.service))
          )
        )
        const response = yield* manager.request("GET", `http://dual.test:${server.port}/`, { retries: false })
        expect(response.status).toBe(200)
        expect(server.requests[0]?.remoteAddress).toBe("127.0.0.1")
      })
    )

    it.scopedLive("autoSelectFamily on, the server on ::1 only: the IPv6 address answers", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo, { host: "::1" })
        const resolver = counting([v4, v6])
        const manager = yield* managerWith(
          NodePoolManager.layer({ connector: { autoSelectFamily: true } }).pipe(
            Layer.provide(Resolver.layer(resolver.service))
          )
        )
        const response = yield* manager.request("GET", `http://dual.test:${server.port}/`, { retries: false })
        expect(response.status).toBe(200)
        expect(server.requests[0]?.remoteAddress).toBe("::1")
      })
    )

    it.scopedLive("autoSelectFamily off: only the first address (::1) is tried, and refused", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo, { host: "127.0.0.1" })
        const resolver = counting([v6, v4])
        const manager = yield* managerWith(
          NodePoolManager.layer({ connector: { autoSelectFamily: false } }).pipe(
            Layer.provide(Resolver.layer(resolver.service))
          )
        )
        const error = yield* failure(manager.request("GET", `http://dual.test:${server.port}/`, { retries: false }))
        expect(error._tag).toBe("NewConnectionError")
        expect(server.socketsOpened()).toBe(0)
      })
    )
  })
})
