import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as zlib from "node:zlib"
import * as NodeHttpClient from "../src/NodeHttpClient.js"
import * as NodePoolManager from "../src/NodePoolManager.js"
import * as NodeProxyManager from "../src/NodeProxyManager.js"
import * as Servers from "./utils/servers.js"

const getText = (url: string) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => Effect.flatMap(client.get(url), (response) => response.text))

describe("NodeHttpClient defaults", () => {
  it.scopedLive(
    "keeps 10 connections per origin: 64 requests at concurrency 16 open about 16 sockets, and 10 stay for reuse",
    () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.slowHeaders(20, "ok"))
        const texts = yield* Effect.forEach(Array.from({ length: 64 }), () => getText(server.url), { concurrency: 16 })
        expect(texts.every((text) => text === "ok")).toBe(true)
        // about one socket per request in flight (maxsize 1 kept one and reopened the rest)
        const opened = server.socketsOpened()
        expect(opened).toBeGreaterThanOrEqual(16)
        expect(opened).toBeLessThanOrEqual(20)
        // The next 10 concurrent requests find 10 idle connections: no new socket.
        yield* Effect.forEach(Array.from({ length: 10 }), () => getText(server.url), { concurrency: 10 })
        expect(server.socketsOpened()).toBe(opened)
      }).pipe(Effect.provide(NodeHttpClient.layer()))
  )

  it.scopedLive("asks for gzip, deflate and br and decodes what comes", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http((_req, res) => {
        res.writeHead(200, { "Content-Encoding": "gzip" })
        res.end(zlib.gzipSync("decoded"))
      })
      expect(yield* getText(server.url)).toBe("decoded")
      expect(server.requests[0]!.headers["accept-encoding"]).toBe("gzip, deflate, br")
      expect(NodeHttpClient.defaults).toEqual({ maxsize: 10, acceptEncoding: "gzip, deflate, br" })
    }).pipe(Effect.provide(NodeHttpClient.layer()))
  )

  it.scopedLive("a request's own Accept-Encoding, or the acceptEncoding option, wins", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.echo)
      yield* getText(server.url).pipe(Effect.provide(NodeHttpClient.layer({ acceptEncoding: null })))
      yield* Effect.flatMap(HttpClient.HttpClient, (client) =>
        Effect.flatMap(client.get(server.url, { headers: { "accept-encoding": "br" } }), (r) => r.text)
      ).pipe(Effect.provide(NodeHttpClient.layer()))
      expect(server.requests.map((r) => r.headers["accept-encoding"])).toEqual(["identity", "br"])
    })
  )
})

describe("connector options on the ready layers", () => {
  it.scopedLive("NodeHttpClient.layer passes maxHeaderSize to the sockets", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.fixed("ok", { headers: [["X-Big", "x".repeat(4096)]] }))
      expect(yield* getText(server.url).pipe(Effect.provide(NodeHttpClient.layer()))).toBe("ok")
      const small = yield* getText(server.url).pipe(
        Effect.provide(NodeHttpClient.layer({ retries: false, connector: { maxHeaderSize: 1024 } })),
        Effect.exit
      )
      expect(Exit.isFailure(small)).toBe(true)
    })
  )

  it.effect("options out of range fail the layers with ValueError", () =>
    Effect.gen(function* () {
      const layers = [
        NodePoolManager.layer({ connector: { keepAliveTimeout: -1 } }),
        NodeProxyManager.layer("http://127.0.0.1:3128", { connector: { maxHeaderSize: 0 } }),
        NodeHttpClient.layer({ connector: { keepAliveTimeout: 0 } })
      ]
      for (const layer of layers) {
        const error = yield* Effect.flip(Layer.build(layer as Layer.Layer<unknown, unknown>).pipe(Effect.scoped))
        expect((error as { _tag: string })._tag).toBe("ValueError")
      }
    })
  )
})
