// The floor of an @effect/platform HttpClient built with `HttpClient.make` on this machine:
// the same program as the bench's @effect/platform driver (`client.get`, then
// `response.arrayBuffer`) over a client whose request function is one undici `Pool.request`
// read in full, with no httpool at all. Start a keep-alive server answering 64 bytes on
// 127.0.0.1:18081 first; C sets the concurrency, N the number of requests.
//
//   C=16 N=20000 taskset -c 1 node packages/bench/prof/platform-floor.mjs
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import { Pool } from "undici"

const requests = Number(process.env.N ?? 20_000)
const concurrency = Number(process.env.C ?? 1)
const pool = new Pool("http://127.0.0.1:18081", { connections: concurrency })

const client = HttpClient.make((request, url) =>
  Effect.promise(async () => {
    const response = await pool.request({ path: url.pathname, method: "GET" })
    const bytes = new Uint8Array(await response.body.arrayBuffer())
    return HttpClientResponse.fromWeb(request, new Response(bytes, { status: response.statusCode }))
  })
)

let next = 0
const worker = Effect.gen(function* () {
  while (next++ < requests) {
    const response = yield* client.get("http://127.0.0.1:18081/x")
    const buffer = yield* response.arrayBuffer
    if (buffer.byteLength !== 64) throw new Error(`expected 64 bytes, got ${buffer.byteLength}`)
  }
})

const cpu = process.cpuUsage()
const started = performance.now()
await Effect.runPromise(
  Effect.all(
    Array.from({ length: concurrency }, () => worker),
    { concurrency: "unbounded" }
  )
)
const seconds = (performance.now() - started) / 1000
const used = process.cpuUsage(cpu)
console.log(
  `HttpClient.make over undici Pool, c=${concurrency}: ${(requests / seconds).toFixed(0)} req/s, ` +
    `${((used.user + used.system) / requests).toFixed(0)} us CPU per request`
)
await pool.close()
