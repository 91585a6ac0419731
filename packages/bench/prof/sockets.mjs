// CPU per request with sockets, httpool's PoolManager beside undici's Pool, 64 B GETs at
// concurrency 16 against a node:http server in a child process, in one process each (not
// pinned: for profiles, not for ratios; `npm run bench` measures those). Run after
// `npm run build`:
//
//   node packages/bench/prof/sockets.mjs              # W=httpool (default) or undici
//   N=4000 node --cpu-prof packages/bench/prof/sockets.mjs
import * as PoolManager from "@httpool/core/PoolManager"
import * as NodePoolManager from "@httpool/node/NodePoolManager"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Pool } from "undici"
if (process.argv[2] === "server") {
  const http = await import("node:http")
  const body = Buffer.alloc(64, 120)
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-length": 64 })
    res.end(body)
  })
  server.listen(0, "127.0.0.1", () => process.send(server.address().port))
} else {
  const child = fork(fileURLToPath(import.meta.url), ["server"])
  const port = await new Promise((resolve) => child.once("message", resolve))
  const url = `http://127.0.0.1:${port}/x`
  const N = Number(process.env.N ?? 3000)
  let run
  if (process.env.W === "undici") {
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 16 })
    const worker = async (n) => {
      for (let i = 0; i < n; i++) {
        const r = await pool.request({ path: "/x", method: "GET" })
        await r.body.arrayBuffer()
      }
    }
    run = (n) => Promise.all(Array.from({ length: 16 }, () => worker(n)))
  } else {
    const rt = ManagedRuntime.make(NodePoolManager.layer({ connectionPoolKw: { maxsize: 16 } }))
    const pm = await rt.runPromise(PoolManager.PoolManager)
    const one = pm.request("GET", url)
    const worker = (n) =>
      Effect.gen(function* () {
        for (let i = 0; i < n; i++) yield* one
      })
    run = (n) =>
      rt.runPromise(
        Effect.all(
          Array.from({ length: 16 }, () => worker(n)),
          { concurrency: "unbounded", discard: true }
        )
      )
  }
  await run(2000)
  const cpu = process.cpuUsage()
  const t = performance.now()
  await run(N)
  const used = process.cpuUsage(cpu)
  console.log(
    `${process.env.W ?? "httpool"} ${((used.user + used.system) / (N * 16)).toFixed(1)} us CPU/req, ${((N * 16) / ((performance.now() - t) / 1000)).toFixed(0)} req/s`
  )
  child.kill()
  process.exit(0)
}
