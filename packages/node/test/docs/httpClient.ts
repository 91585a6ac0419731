/**
 * The examples of docs/http-client.md, each an Effect taking the URLs of test servers.
 * The page quotes this file; packages/node/test/HttpClient.test.ts runs every example
 * against loopback servers and checks that the quotes are still identical to the code.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Errors, HttpClient as HttpoolHttpClient, PoolManager } from "@httpool/core"
import { NodeHttpClient, NodePoolManager } from "@httpool/node"
import { Effect, Layer } from "effect"

// --- the smallest example ---------------------------------------------------------------

// An @effect/platform program: it needs an HttpClient and nothing else.
export const getTodo = (url: string) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(url)
    return yield* response.json
  })

// Before: getTodo(url).pipe(Effect.provide(NodeHttpClient.layerUndici)), from @effect/platform-node.
export const main = (url: string) => getTodo(url).pipe(Effect.provide(NodeHttpClient.layer()))

// --- options ----------------------------------------------------------------------------

export const configured = NodeHttpClient.layer({
  // the adapter's options
  followRedirects: true,
  retries: { total: 5, redirect: 3, backoffFactor: 0.1 },
  timeout: 10,
  // the PoolManager's options
  numPools: 20,
  headers: { "User-Agent": "my-app/1.0" },
  connectionPoolKw: { maxsize: 8 },
  // the sockets' options (NodeConnector.Options)
  connector: { keepAliveTimeout: 30, maxHeaderSize: 16 * 1024 }
})

// --- one manager, two APIs --------------------------------------------------------------

const ManagerLive = NodePoolManager.layer({ connectionPoolKw: { maxsize: 4 } })
// HttpClient and PoolManager from one set of pools.
export const BothLive = HttpoolHttpClient.layer().pipe(Layer.provideMerge(ManagerLive))

export const bothApis = (url: string) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const manager = yield* PoolManager.PoolManager
    yield* Effect.flatMap(client.get(url), (response) => response.text)
    yield* manager.request("GET", url)
    return (yield* manager.pools).size // 1: both requests went through the same pool
  }).pipe(Effect.provide(BothLive))

// --- redirects --------------------------------------------------------------------------

export const noRedirects = (url: string) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(url)
    return { status: response.status, location: response.headers.location }
  }).pipe(Effect.provide(NodeHttpClient.layer({ followRedirects: false })))

// --- errors -----------------------------------------------------------------------------

export const whyItFailed = (url: string) =>
  Effect.gen(function* () {
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.filterStatusOk,
      HttpClient.retryTransient({ times: 2 })
    )
    return yield* client.get(url).pipe(
      Effect.as("answered"),
      Effect.catchTag("RequestError", (error) =>
        // error.cause is httpool's own error: here a MaxRetryError over a NewConnectionError.
        Effect.succeed(Errors.isHttpoolError(error.cause) ? `${error.reason}: ${error.cause._tag}` : error.reason)
      )
    )
  }).pipe(Effect.provide(NodeHttpClient.layer({ retries: 1 })))

// --- proxies ----------------------------------------------------------------------------

export const throughProxy = (proxyUrl: string, url: string) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(HttpClientRequest.get(url))
    return response.status
  }).pipe(Effect.provide(NodeHttpClient.layerProxy(proxyUrl)))
