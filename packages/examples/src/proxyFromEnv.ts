/**
 * Proxies from the environment (`HTTP_PROXY=http://proxy:3128 NO_PROXY=localhost node
 * packages/examples/dist/proxyFromEnv.js URL...` after `npm run build`): a program written
 * against @effect/platform's `HttpClient`, given `NodeHttpClient.layerFromEnv()`, so it goes
 * through the proxies `HTTP_PROXY`, `HTTPS_PROXY` and `ALL_PROXY` name and straight to the
 * hosts `NO_PROXY` lists, as curl does. For each URL it prints the route `ProxyEnv` picks (the
 * proxy, credentials hidden, or direct) and the status. Without URLs it plays every part on
 * 127.0.0.1: an origin, a forward proxy, and an environment naming them.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as HttpClient from "@effect/platform/HttpClient"
import { HttpClient as HttpoolHttpClient, ProxyEnv, ProxyManager } from "@httpool/core"
import { NodeConnector, NodeHttpClient } from "@httpool/node"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { createProxy } from "proxy"

/** A proxy URL with its credentials hidden, for printing. */
const redact = (proxyUrl: string): string => {
  const url = new URL(proxyUrl)
  if (url.username !== "" || url.password !== "") {
    url.username = "***"
    url.password = ""
  }
  return url.href.replace(/\/$/, "")
}

/** The route a URL takes under an environment: `via <proxy>` or `direct`. */
export const route = (env: ProxyEnv.ProxyEnv, url: string): string =>
  Option.match(ProxyEnv.proxyFor(env, url), { onNone: () => "direct", onSome: (proxy) => `via ${redact(proxy)}` })

/** GETs every URL with the HttpClient in context, reading each body; gives the statuses. */
export const fetchAll = (urls: ReadonlyArray<string>) =>
  Effect.forEach(urls, (url) =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get(url)
      yield* response.text
      return { url, status: response.status }
    })
  )

/**
 * The HttpClient for any environment record (a test's, a configuration file's):
 * `NodeHttpClient.layerFromEnv()` is this with `process.env`, read when the layer is built.
 */
export const layerFor = (env: ProxyEnv.Env) =>
  HttpoolHttpClient.layer().pipe(Layer.provide(ProxyManager.layerFromEnv(env)), Layer.provide(NodeConnector.layer))

/** The program: routes and statuses for `urls` under this process's environment. */
export const main = (urls: ReadonlyArray<string>, log: (line: string) => void) =>
  Effect.gen(function* () {
    const env = yield* ProxyEnv.fromEnv(process.env)
    log(`environment: ${JSON.stringify(env)}`)
    const results = yield* fetchAll(urls).pipe(Effect.provide(NodeHttpClient.layerFromEnv()))
    for (const { url, status } of results) log(`${url}: ${route(env, url)} -> ${status}`)
    return results
  })

/** A node:http server on 127.0.0.1 closed with the Scope; `seen` lists the requests it got. */
const listen = (server: http.Server, seen: Array<string>) =>
  Effect.acquireRelease(
    Effect.async<string>((resume) => {
      server.on("request", (req: http.IncomingMessage) => seen.push(`${req.method} ${req.url}`))
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(String((server.address() as AddressInfo).port))))
    }),
    () =>
      Effect.sync(() => {
        server.closeAllConnections()
        server.close()
      })
  )

/** An origin answering 200 "ok" and a forward proxy (the `proxy` package), on 127.0.0.1. */
export const localParts = Effect.gen(function* () {
  const originSeen: Array<string> = []
  const proxySeen: Array<string> = []
  const origin = http.createServer((req, res) => {
    req.resume()
    req.on("end", () => res.writeHead(200, { "Content-Length": 2 }).end("ok"))
  })
  const originPort = yield* listen(origin, originSeen)
  const proxyPort = yield* listen(createProxy(http.createServer()), proxySeen)
  return { originPort, proxyUrl: `http://127.0.0.1:${proxyPort}`, originSeen, proxySeen }
})

if (import.meta.url === `file://${process.argv[1]}`) {
  const program = Effect.gen(function* () {
    let urls = process.argv.slice(2)
    if (urls.length === 0) {
      const parts = yield* localParts
      process.env.HTTP_PROXY = parts.proxyUrl
      process.env.NO_PROXY = "localhost"
      urls = [`http://127.0.0.1:${parts.originPort}/through-the-proxy`, `http://localhost:${parts.originPort}/direct`]
    }
    yield* main(urls, console.log)
  })
  Effect.runPromise(Effect.scoped(program)).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
