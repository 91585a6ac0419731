/**
 * A consumer of the published @httpool/core and @httpool/node, as an ES module: the
 * PoolManager API and @effect/platform's HttpClient over httpool, against a loopback server.
 * Exits with 1 when anything differs from what the packages promise.
 */
import * as assert from "node:assert/strict"
import { HttpClient } from "@effect/platform"
import { Errors, Headers, PoolManager, Retry } from "@httpool/core"
import * as Timeout from "@httpool/core/Timeout"
import { NodeHttpClient, NodePoolManager } from "@httpool/node"
import { Effect, Option } from "effect"
import { type Echo, start } from "./server.js"

const withManager = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const get = yield* manager.request("GET", `${url}/search`, { fields: { q: "pools" } })
    const post = yield* manager.request("POST", `${url}/items`, { json: { name: "pool" } })
    const refused = yield* manager
      .request("GET", "http://127.0.0.1:1/", { retries: false, timeout: Timeout.unsafeMake(2) })
      .pipe(
        Effect.as("answered"),
        Effect.catchTag("NewConnectionError", (error) =>
          Effect.succeed(Errors.isHttpoolError(error) ? error._tag : "?")
        )
      )
    return {
      get: (JSON.parse(get.text) as Echo).url,
      contentType: Option.getOrNull(Headers.get(get.headers, "content-type")),
      post: (JSON.parse(post.text) as Echo).body,
      refused,
      pools: (yield* manager.pools).size
    }
  }).pipe(Effect.provide(NodePoolManager.layer({ numPools: 2, connectionPoolKw: { retries: Retry.make(1) } })))

const withHttpClient = (url: string) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(`${url}/todos/1`)
    const echo = (yield* response.json) as Echo
    return [response.status, echo.method, echo.url]
  }).pipe(Effect.provide(NodeHttpClient.layer()))

const server = await start()
try {
  const manager = await Effect.runPromise(withManager(server.url))
  assert.deepEqual(manager, {
    get: "/search?q=pools",
    contentType: "application/json",
    post: '{"name":"pool"}',
    refused: "NewConnectionError",
    pools: 2 // the loopback server's pool, and 127.0.0.1:1's
  })
  assert.deepEqual(await Effect.runPromise(withHttpClient(server.url)), [200, "GET", "/todos/1"])
  console.log("consumer (ESM): ok")
} finally {
  await server.close()
}
