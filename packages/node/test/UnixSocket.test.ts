import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import type * as tls from "node:tls"
import { HttpClient } from "@effect/platform"
import { ConnectionPool, PoolKey, PoolManager, ProxyManager } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Scope from "effect/Scope"
import * as NodeConnector from "../src/NodeConnector.js"
import * as NodeHttpClient from "../src/NodeHttpClient.js"
import * as Certs from "./utils/certs.js"
import * as Servers from "./utils/servers.js"
import * as Watch from "./utils/watch.js"

const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.either(effect), (result) =>
    Either.isLeft(result) ? Effect.succeed(result.left) : Effect.dieMessage("expected a failure, got a success")
  )

interface UnixServer {
  readonly path: string
  /** `http+unix://` with the path percent-encoded. */
  readonly origin: string
  readonly requests: Array<{ readonly url: string; readonly host: string | undefined; readonly servername: unknown }>
  readonly socketsOpened: () => number
  readonly openSockets: () => number
  /** Waits (on the sockets' close events, up to 5 s) until `openSockets()` is `n`. */
  readonly waitForOpenSockets: (n: number) => Effect.Effect<void>
}

/** A node:http(s) server listening on a Unix domain socket in a temp dir of its own; removed with its Scope. */
const unixServer = (
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (req, res) => {
    const body = JSON.stringify({ url: req.url, host: req.headers.host })
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) })
    res.end(body)
  },
  tlsOptions: tls.TlsOptions | null = null
): Effect.Effect<UnixServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly unix: UnixServer; readonly server: http.Server; readonly sockets: Set<net.Socket> }>(
      (resume) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "httpool-unix-"))
        const socketPath = path.join(dir, "api.sock")
        const server = tlsOptions === null ? http.createServer() : https.createServer(tlsOptions)
        const sockets = new Set<net.Socket>()
        const watch = Watch.make(() => `${sockets.size} open sockets`)
        let opened = 0
        const requests: UnixServer["requests"] = []
        server.on(tlsOptions === null ? "connection" : "secureConnection", (socket: net.Socket) => {
          opened++
          sockets.add(socket)
          socket.on("close", () => {
            sockets.delete(socket)
            watch.changed()
          })
        })
        server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
          requests.push({
            url: req.url ?? "",
            host: req.headers.host,
            servername: (req.socket as tls.TLSSocket).servername
          })
          handler(req, res)
        })
        server.listen(socketPath, () =>
          resume(
            Effect.succeed({
              server,
              sockets,
              unix: {
                path: socketPath,
                origin: `http+unix://${encodeURIComponent(socketPath)}`,
                requests,
                socketsOpened: () => opened,
                openSockets: () => sockets.size,
                waitForOpenSockets: (n) => watch.until(() => sockets.size === n, `the server has ${n} open sockets`)
              }
            })
          )
        )
      }
    ),
    ({ server, sockets, unix }) =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => {
          fs.rmSync(path.dirname(unix.path), { recursive: true, force: true })
          resume(Effect.void)
        })
      })
  ).pipe(Effect.map(({ unix }) => unix))

const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, NodeConnector.layer)

describe("Unix domain sockets", () => {
  describe("ConnectionPool socketPath", () => {
    it.scopedLive("sends requests over the socket with Host from the pool's host, reusing one connection", () =>
      Effect.gen(function* () {
        const server = yield* unixServer()
        const pool = yield* provide(ConnectionPool.make({ host: "localhost", socketPath: server.path }))
        const first = yield* pool.request("GET", "/v1.43/info?all=1")
        const second = yield* pool.request("GET", "/_ping")
        expect(yield* first.json).toEqual({ url: "/v1.43/info?all=1", host: "localhost" })
        expect(second.status).toBe(200)
        expect(server.socketsOpened()).toBe(1)
        expect((yield* pool.stats).numConnections).toBe(1)
      })
    )

    it.scopedLive("https over a socket: TLS with SNI and verification for the pool's host", () =>
      Effect.gen(function* () {
        const certs = yield* Certs.certs
        const server = yield* unixServer(undefined, { key: certs.server.key, cert: certs.server.cert })
        const pool = yield* provide(
          ConnectionPool.make({
            scheme: "https",
            host: "localhost",
            socketPath: server.path,
            caCerts: certs.ca.certPath
          })
        )
        const response = yield* pool.request("GET", "/secure")
        expect(yield* response.json).toEqual({ url: "/secure", host: "localhost" })
        expect(server.requests[0]?.servername).toBe("localhost")
      })
    )

    it.scopedLive("a socket nobody listens on is a NewConnectionError naming the path", () =>
      Effect.gen(function* () {
        const missing = path.join(os.tmpdir(), `httpool-missing-${process.pid}.sock`)
        const pool = yield* provide(ConnectionPool.make({ host: "localhost", socketPath: missing, retries: false }))
        const error = yield* failure(pool.request("GET", "/"))
        expect(error._tag).toBe("NewConnectionError")
        expect(error.message).toContain(missing)
      })
    )

    it.scopedLive("a socketPath with a proxy, or not a path, is refused with ValueError", () =>
      Effect.gen(function* () {
        const withProxy = yield* failure(
          provide(ConnectionPool.make({ host: "localhost", socketPath: "/tmp/x.sock", proxy: "http://127.0.0.1:3128" }))
        )
        expect(withProxy._tag).toBe("ValueError")
        const empty = yield* failure(provide(ConnectionPool.make({ host: "localhost", socketPath: "" })))
        expect(empty._tag).toBe("ValueError")
      })
    )

    it.scopedLive("closing the pool's Scope closes its socket on the server's side", () =>
      Effect.gen(function* () {
        const server = yield* unixServer()
        yield* Effect.scoped(
          Effect.gen(function* () {
            const pool = yield* provide(ConnectionPool.make({ host: "localhost", socketPath: server.path }))
            yield* pool.request("GET", "/")
            expect(server.openSockets()).toBe(1)
          })
        )
        yield* server.waitForOpenSockets(0)
      })
    )
  })

  describe("PoolManager http+unix:// URLs", () => {
    it.scopedLive("requests-unixsocket's form: the host is the percent-encoded path, one pool per socket", () =>
      Effect.gen(function* () {
        const a = yield* unixServer()
        const b = yield* unixServer()
        const manager = yield* provide(PoolManager.make())
        const response = yield* manager.request("GET", `${a.origin}/containers/json?all=1`)
        expect(response.status).toBe(200)
        expect(yield* response.json).toEqual({ url: "/containers/json?all=1", host: encodeURIComponent(a.path) })
        yield* manager.request("GET", `${a.origin}/again`)
        yield* manager.request("GET", `${b.origin}/other`)
        expect(a.socketsOpened()).toBe(1)
        expect(b.requests.map((request) => request.url)).toEqual(["/other"])
        const pools = yield* manager.pools
        expect(pools.size).toBe(2)
        expect(pools.keys.map((key) => key.socketPath).sort()).toEqual([a.path, b.path].sort())
        expect(pools.keys.every((key: PoolKey.PoolKey) => key.scheme === "http+unix")).toBe(true)
      })
    )

    it.scopedLive("a relative redirect stays on the socket", () =>
      Effect.gen(function* () {
        const server = yield* unixServer((req, res) => {
          if (req.url === "/old") {
            res.writeHead(302, { Location: "/new", "Content-Length": 0 })
            res.end()
          } else {
            res.writeHead(200, { "Content-Length": 2 })
            res.end("ok")
          }
        })
        const manager = yield* provide(PoolManager.make())
        const response = yield* manager.request("GET", `${server.origin}/old`)
        expect(response.text).toBe("ok")
        expect(server.requests.map((request) => request.url)).toEqual(["/old", "/new"])
      })
    )

    it.scopedLive("a ProxyManager sends http+unix requests to the socket, never to its proxy", () =>
      Effect.gen(function* () {
        const server = yield* unixServer()
        const closed = yield* Servers.closedPort
        const manager = yield* provide(ProxyManager.make(`http://127.0.0.1:${closed}`))
        const response = yield* manager.request("GET", `${server.origin}/direct`, { retries: false })
        expect(yield* response.json).toEqual({ url: "/direct", host: encodeURIComponent(server.path) })
      })
    )
  })

  describe("NodeHttpClient", () => {
    it.scopedLive("an http+unix URL through @effect/platform's HttpClient", () =>
      Effect.gen(function* () {
        const server = yield* unixServer()
        const body = yield* Effect.gen(function* () {
          const client = yield* HttpClient.HttpClient
          const response = yield* client.get(`${server.origin}/version`)
          return yield* response.json
        }).pipe(Effect.provide(NodeHttpClient.layer()))
        expect(body).toEqual({ url: "/version", host: encodeURIComponent(server.path) })
        expect(server.requests.map((request) => request.url)).toEqual(["/version"])
      })
    )

    it.scopedLive("connectionPoolKw.socketPath sends every request of the layer to the socket", () =>
      Effect.gen(function* () {
        const server = yield* unixServer()
        const body = yield* Effect.gen(function* () {
          const client = yield* HttpClient.HttpClient
          const response = yield* client.get("http://docker/v1.43/info")
          return yield* response.json
        }).pipe(Effect.provide(NodeHttpClient.layer({ connectionPoolKw: { socketPath: server.path } })))
        expect(body).toEqual({ url: "/v1.43/info", host: "docker" })
      })
    )
  })
})
