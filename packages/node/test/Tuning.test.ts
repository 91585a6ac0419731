import * as net from "node:net"
import * as tls from "node:tls"
import { HttpClient } from "@effect/platform"
import { ConnectionPool, PoolManager } from "@httpool/core"
import type * as Errors from "@httpool/core/Errors"
import { describe, expect, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as NodeConnector from "../src/NodeConnector.js"
import * as NodeHttpClient from "../src/NodeHttpClient.js"
import * as NodePoolManager from "../src/NodePoolManager.js"
import * as NodeProxyManager from "../src/NodeProxyManager.js"
import * as Certs from "./utils/certs.js"
import * as Proxy from "./utils/proxy.js"
import * as Servers from "./utils/servers.js"

const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.either(effect), (result) =>
    Either.isLeft(result) ? Effect.succeed(result.left) : Effect.dieMessage("expected a failure, got a success")
  )

const managerWith = <E>(layer: Layer.Layer<PoolManager.PoolManager, E>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, PoolManager.PoolManager))

const poolWith = (options: ConnectionPool.Options, connector: NodeConnector.Options = {}) =>
  ConnectionPool.make(options).pipe(Effect.provide(NodeConnector.layerWith(connector)))

/**
 * Records what sockets are told by `setNoDelay` and `setKeepAlive` while the Scope is open
 * (the calls go on to Node's own methods; there is no getsockopt in Node to read them back).
 */
const socketSetup = Effect.acquireRelease(
  Effect.sync(() => {
    const proto = net.Socket.prototype
    const setNoDelay = proto.setNoDelay
    const setKeepAlive = proto.setKeepAlive
    const calls: Array<readonly [string, ...Array<unknown>]> = []
    proto.setNoDelay = function (this: net.Socket, ...args: Parameters<net.Socket["setNoDelay"]>) {
      calls.push(["setNoDelay", ...args])
      return setNoDelay.apply(this, args)
    }
    proto.setKeepAlive = function (this: net.Socket, ...args: Parameters<net.Socket["setKeepAlive"]>) {
      calls.push(["setKeepAlive", ...args])
      return setKeepAlive.apply(this, args)
    }
    return { calls, restore: () => Object.assign(proto, { setNoDelay, setKeepAlive }) }
  }),
  ({ restore }) => Effect.sync(restore)
)

describe("connection tuning", () => {
  describe("maxRequestsPerConnection", () => {
    it.scopedLive("a socket carries at most that many requests, then the connection dials a new one", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const pool = yield* poolWith({ host: "127.0.0.1", port: server.port }, { maxRequestsPerConnection: 2 })
        for (let i = 0; i < 5; i++) expect((yield* pool.request("GET", `/${i}`)).status).toBe(200)
        expect(server.requests.map((request) => request.socketId)).toEqual([1, 1, 2, 2, 3])
        expect((yield* pool.stats).numConnections).toBe(3)
      })
    )

    it.scopedLive("1 sends every request on a socket of its own", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const pool = yield* poolWith({ host: "127.0.0.1", port: server.port }, { maxRequestsPerConnection: 1 })
        for (let i = 0; i < 3; i++) expect((yield* pool.request("GET", "/")).status).toBe(200)
        expect(server.requests.map((request) => request.socketId)).toEqual([1, 2, 3])
      })
    )

    it.scopedLive("NodePoolManager.layer, NodeHttpClient.layer and NodeProxyManager.layer pass it on", () =>
      Effect.gen(function* () {
        const certs = yield* Certs.certs
        const server = yield* Servers.http(Servers.echo)
        const manager = yield* managerWith(NodePoolManager.layer({ connector: { maxRequestsPerConnection: 1 } }))
        for (let i = 0; i < 2; i++) yield* manager.request("GET", `${server.url}/m`)
        expect(server.socketsOpened()).toBe(2)

        yield* Effect.gen(function* () {
          const client = yield* HttpClient.HttpClient
          for (let i = 0; i < 2; i++) yield* client.get(`${server.url}/c`)
        }).pipe(Effect.provide(NodeHttpClient.layer({ connector: { maxRequestsPerConnection: 1 } })))
        expect(server.socketsOpened()).toBe(4)

        const secure = yield* Servers.https(Servers.echo)
        const proxy = yield* Proxy.start()
        const proxied = yield* managerWith(
          NodeProxyManager.layer(proxy.url, {
            connectionPoolKw: { caCerts: certs.ca.certPath },
            connector: { maxRequestsPerConnection: 1 }
          })
        )
        for (let i = 0; i < 2; i++) yield* proxied.request("GET", `https://localhost:${secure.port}/p`)
        expect(proxy.connects()).toBe(2)
        expect(secure.requests.map((request) => request.socketId)).toEqual([1, 2])
      })
    )

    it.effect("a value that is not a positive integer fails the layer with ValueError", () =>
      Effect.gen(function* () {
        const error = yield* failure(Layer.build(NodeConnector.layerWith({ maxRequestsPerConnection: 0 })))
        expect(error._tag).toBe("ValueError")
      }).pipe(Effect.scoped)
    )
  })

  describe("maxConnectionAge", () => {
    it.scopedLive("through connectionPoolKw of NodePoolManager.layer: an older connection is not reused", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const manager = yield* managerWith(NodePoolManager.layer({ connectionPoolKw: { maxConnectionAge: 0.05 } }))
        yield* manager.request("GET", `${server.url}/a`)
        yield* Effect.sleep("100 millis")
        yield* manager.request("GET", `${server.url}/b`)
        expect(server.requests.map((request) => request.socketId)).toEqual([1, 2])
      })
    )
  })

  describe("socketOptions", () => {
    it.scopedLive("by default each TCP socket gets no-delay and keep-alive after 60 s", () =>
      Effect.gen(function* () {
        const setup = yield* socketSetup
        const server = yield* Servers.http(Servers.echo)
        const pool = yield* poolWith({ host: "127.0.0.1", port: server.port })
        yield* pool.request("GET", "/")
        expect(setup.calls).toContainEqual(["setNoDelay", true])
        expect(setup.calls).toContainEqual(["setKeepAlive", true, 60_000])
      })
    )

    it.scopedLive("a list replaces the defaults: [] turns both off, names set what they say", () =>
      Effect.gen(function* () {
        const setup = yield* socketSetup
        const server = yield* Servers.http(Servers.echo)
        const none = yield* poolWith({ host: "127.0.0.1", port: server.port, socketOptions: [] })
        yield* none.request("GET", "/")
        expect(setup.calls.slice(0, 2)).toEqual([
          ["setNoDelay", false],
          ["setKeepAlive", false, 0]
        ])
        setup.calls.length = 0
        const probing = yield* poolWith({
          host: "127.0.0.1",
          port: server.port,
          socketOptions: [
            ["TCP_NODELAY", 1],
            ["SO_KEEPALIVE", true],
            ["TCP_KEEPIDLE", 15]
          ]
        })
        yield* probing.request("GET", "/")
        expect(setup.calls.slice(0, 2)).toEqual([
          ["setNoDelay", true],
          ["setKeepAlive", true, 15_000]
        ])
      })
    )

    it.scopedLive("an option Node cannot set is refused with ValueError, by the pool and through a manager", () =>
      Effect.gen(function* () {
        const unknown = yield* failure(
          poolWith({ host: "127.0.0.1", socketOptions: [["SO_RCVBUF", 1] as unknown as ConnectionPool.SocketOption] })
        )
        expect(unknown._tag).toBe("ValueError")
        expect(unknown.message).toContain("SO_RCVBUF")
        const badValue = yield* failure(poolWith({ host: "127.0.0.1", socketOptions: [["TCP_NODELAY", 2 as 1]] }))
        expect(badValue._tag).toBe("ValueError")
        const server = yield* Servers.http(Servers.echo)
        const manager = yield* managerWith(
          NodePoolManager.layer({ connectionPoolKw: { socketOptions: [["TCP_KEEPIDLE", -1]] } })
        )
        const viaManager = yield* failure(manager.request("GET", server.url))
        expect(viaManager._tag).toBe("ValueError")
        expect(server.socketsOpened()).toBe(0)
      })
    )
  })

  describe("blocksize", () => {
    it.scopedLive(
      "only urllib3's default is accepted; another value fails with ValueError instead of splitting pools",
      () =>
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.echo)
          const pool = yield* poolWith({ host: "127.0.0.1", port: server.port, blocksize: 16384 })
          expect((yield* pool.request("GET", "/")).status).toBe(200)
          const refused = yield* failure(poolWith({ host: "127.0.0.1", port: server.port, blocksize: 8192 }))
          expect(refused._tag).toBe("ValueError")
          expect(refused.message).toContain("blocksize")
          const manager = yield* managerWith(NodePoolManager.layer({ connectionPoolKw: { blocksize: 65536 } }))
          expect((yield* failure(manager.request("GET", server.url)))._tag).toBe("ValueError")
        })
    )
  })

  describe("TLS ciphers and raw options", () => {
    /** A TLS 1.2 server that accepts one cipher and reports the one used. */
    const oneCipherServer = (cipher: string) =>
      Effect.gen(function* () {
        const ciphers: Array<string> = []
        const server = yield* Servers.https(
          (req, res, received) => {
            ciphers.push((req.socket as tls.TLSSocket).getCipher().name)
            Servers.echo(req, res, received)
          },
          { tls: { ciphers: cipher, maxVersion: "TLSv1.2" } }
        )
        return { server, ciphers }
      })

    it.scopedLive("connector tls.ciphers is what the client offers: a match connects, a mismatch is an SSLError", () =>
      Effect.gen(function* () {
        const certs = yield* Certs.certs
        const { server, ciphers } = yield* oneCipherServer("ECDHE-ECDSA-AES256-GCM-SHA384")
        const options = {
          scheme: "https",
          host: "localhost",
          port: server.port,
          caCerts: certs.ca.certPath,
          retries: false
        } as const
        const matching = yield* poolWith(options, { tls: { ciphers: "ECDHE-ECDSA-AES256-GCM-SHA384" } })
        expect((yield* matching.request("GET", "/")).status).toBe(200)
        expect(ciphers).toEqual(["ECDHE-ECDSA-AES256-GCM-SHA384"])
        const other = yield* poolWith(options, { tls: { ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" } })
        expect((yield* failure(other.request("GET", "/")))._tag).toBe("SSLError")
      })
    )

    it.scopedLive("raw options never loosen verification: rejectUnauthorized false stays the pool's to say", () =>
      Effect.gen(function* () {
        const certs = yield* Certs.certs
        const server = yield* Servers.https(Servers.echo, {
          tls: { key: certs.selfSigned.key, cert: certs.selfSigned.cert }
        })
        const pool = yield* poolWith(
          { scheme: "https", host: "localhost", port: server.port, retries: false },
          { tls: { rejectUnauthorized: false } }
        )
        expect((yield* failure(pool.request("GET", "/")))._tag).toBe("SSLError")
      })
    )

    it.scopedLive("sslContext (a tls.SecureContext) is used as given: its CA and ciphers", () =>
      Effect.gen(function* () {
        const certs = yield* Certs.certs
        const { server, ciphers } = yield* oneCipherServer("ECDHE-ECDSA-AES128-GCM-SHA256")
        const sslContext = tls.createSecureContext({ ca: certs.ca.cert, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" })
        const pool = yield* poolWith({
          scheme: "https",
          host: "localhost",
          port: server.port,
          sslContext,
          retries: false
        })
        expect((yield* pool.request("GET", "/")).status).toBe(200)
        expect(ciphers).toEqual(["ECDHE-ECDSA-AES128-GCM-SHA256"])
        // without the context the test CA is not trusted
        const plain = yield* poolWith({ scheme: "https", host: "localhost", port: server.port, retries: false })
        expect((yield* failure(plain.request("GET", "/")))._tag).toBe("SSLError")
      })
    )

    it.scopedLive("sslContext with options it replaces, or not a SecureContext, is a ValueError", () =>
      Effect.gen(function* () {
        const certs = yield* Certs.certs
        const server = yield* Servers.https(Servers.echo)
        const both = yield* poolWith({
          scheme: "https",
          host: "localhost",
          port: server.port,
          sslContext: tls.createSecureContext({ ca: certs.ca.cert }),
          caCerts: certs.ca.certPath,
          retries: false
        })
        const clash = yield* failure(both.request("GET", "/"))
        expect(clash._tag).toBe("ValueError")
        expect(clash.message).toContain("caCerts")
        const notContext = yield* poolWith({
          scheme: "https",
          host: "localhost",
          port: server.port,
          sslContext: { ciphers: "HIGH" },
          retries: false
        })
        expect(((yield* failure(notContext.request("GET", "/"))) as Errors.HttpoolError)._tag).toBe("ValueError")
      })
    )
  })
})
