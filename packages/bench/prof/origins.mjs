// CPU per request when every request makes a pool and evicts one: 200 origins round robin
// through a PoolManager of numPools 10 (the bench's origins200-np10), 64 B GETs at
// concurrency 16, against 200 node:http servers in a child process, client and server
// pinned to a core each. Run after `npm run build`:
//
//   node packages/bench/prof/origins.mjs           # W=httpool (default) or W=undici
//   ALLOC=1 node packages/bench/prof/origins.mjs    # also bytes allocated per request, by site
//   ALLOC=kept node packages/bench/prof/origins.mjs # only what outlived young collections
//   PROF=/tmp/o.cpuprofile node packages/bench/prof/origins.mjs   # a CPU profile of the measured requests
//
// W=undici is the floor of such a client over undici: an undici Client per origin, the ten
// most recently used kept, the oldest destroyed when an eleventh is made. Each new connection
// costs a connect and a close in the kernel (system time), and both grow with the sockets in
// TIME_WAIT that earlier runs left (`ss -s`): compare runs made one after the other.
import * as PoolManager from "@httpool/core/PoolManager"
import * as NodePoolManager from "@httpool/node/NodePoolManager"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { execFileSync, fork } from "node:child_process"
import { writeFileSync } from "node:fs"
import * as inspector from "node:inspector/promises"
import { fileURLToPath } from "node:url"
import { Client } from "undici"
import { sampleAllocations, watchCollections } from "./allocations.mjs"

const origins = 200
if (process.argv[2] === "server") {
  const http = await import("node:http")
  const body = Buffer.alloc(64, 120)
  const ports = []
  for (let i = 0; i < origins; i++) {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "content-length": 64 })
      res.end(body)
    })
    server.keepAliveTimeout = 65_000
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
    ports.push(server.address().port)
  }
  process.send(ports)
} else {
  const child = fork(fileURLToPath(import.meta.url), ["server"])
  const ports = await new Promise((resolve) => child.once("message", resolve))
  execFileSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)], { stdio: "ignore" })
  execFileSync("taskset", ["-a", "-p", "-c", "1", String(child.pid)], { stdio: "ignore" })
  const urls = ports.map((port) => `http://127.0.0.1:${port}/x`)
  const C = 16
  let next = 0
  let run
  let dispose = async () => {}
  if (process.env.W === "undici") {
    const recent = []
    const one = async () => {
      const client = new Client(new URL(urls[next++ % origins]).origin)
      const response = await client.request({ path: "/x", method: "GET" })
      await response.body.arrayBuffer()
      recent.push(client)
      if (recent.length > 10)
        recent
          .shift()
          .destroy()
          .catch(() => {})
    }
    const worker = async (n) => {
      for (let i = 0; i < n; i++) await one()
    }
    run = (n) => Promise.all(Array.from({ length: C }, () => worker(n)))
  } else {
    const rt = ManagedRuntime.make(NodePoolManager.layer({ numPools: 10, connectionPoolKw: { maxsize: C } }))
    const manager = await rt.runPromise(PoolManager.PoolManager)
    const one = Effect.suspend(() => manager.request("GET", urls[next++ % origins]))
    const fiber = (n) =>
      Effect.gen(function* () {
        for (let i = 0; i < n; i++) yield* one
      })
    run = (n) =>
      rt.runPromise(
        Effect.all(
          Array.from({ length: C }, () => fiber(n)),
          { concurrency: "unbounded", discard: true }
        )
      )
    dispose = () => rt.dispose()
  }
  await run(Number(process.env.WARM ?? 2000))
  const N = Number(process.env.N ?? 1500)
  const collections = watchCollections()
  const allocations = await sampleAllocations(process.env.ALLOC)
  const session = process.env.PROF ? new inspector.Session() : null
  if (session !== null) {
    session.connect()
    await session.post("Profiler.enable")
    await session.post("Profiler.setSamplingInterval", { interval: 100 })
    await session.post("Profiler.start")
  }
  const cpu = process.cpuUsage()
  const started = performance.now()
  await run(N)
  const used = process.cpuUsage(cpu)
  const elapsed = performance.now() - started
  const requests = N * C
  await allocations?.(requests)
  if (session !== null) {
    const { profile } = await session.post("Profiler.stop")
    writeFileSync(process.env.PROF, JSON.stringify(profile))
  }
  await new Promise((resolve) => setImmediate(resolve))
  const { millis: gcMillis, minors, majors } = collections.stop()
  const us = (micros) => (micros / requests).toFixed(1)
  console.log(
    `${process.env.W ?? "httpool"} ${us(used.user + used.system)} us CPU/req (user ${us(used.user)}, system ${us(used.system)}), ${(requests / (elapsed / 1000)).toFixed(0)} req/s, GC ${us(gcMillis * 1000)} us/req (${minors} young, ${majors} full collections), heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MiB`
  )
  await dispose()
  child.kill()
  process.exit(0)
}
