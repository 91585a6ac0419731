// CPU per MiB of a 10 MiB body, httpool's PoolManager beside undici's Pool.request, against a
// node:http server in a child process: read as a stream (`for await` for undici), or with
// PRELOAD=1 preloaded (undici's `arrayBuffer()`). Run after `npm run build`:
//
//   node packages/bench/prof/stream.mjs              # W=both (default), httpool, undici
//   PRELOAD=1 W=httpool node --cpu-prof packages/bench/prof/stream.mjs
//   PRELOAD=1 C=4 node packages/bench/prof/stream.mjs   # four bodies at once
//   PIN=1 PRELOAD=1 C=4 node packages/bench/prof/stream.mjs   # client and server pinned as the bench pins them
import * as PoolManager from "@httpool/core/PoolManager"
import * as NodePoolManager from "@httpool/node/NodePoolManager"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { execFileSync, fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Pool } from "undici"

const size = 10 * 1024 * 1024
const rounds = Number(process.env.N ?? 40)
const preload = process.env.PRELOAD === "1"

if (process.argv[2] === "server") {
  const http = await import("node:http")
  const body = Buffer.alloc(size, 120)
  // As the bench's server: 64 KiB writes, waiting for `drain` when the socket is full.
  const chunk = body.subarray(0, 64 * 1024)
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-length": size })
    let written = 0
    const pump = () => {
      while (written < size) {
        written += chunk.length
        if (written >= size) return void res.end(chunk)
        if (!res.write(chunk)) return void res.once("drain", pump)
      }
    }
    pump()
  })
  server.listen(0, "127.0.0.1", () => process.send(server.address().port))
} else {
  const child = fork(fileURLToPath(import.meta.url), ["server"])
  const port = await new Promise((resolve) => child.once("message", resolve))
  if (process.env.PIN === "1") {
    // The client on core 1, the server on core 0, as `npm run bench` pins them.
    execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" })
    execFileSync("taskset", ["-a", "-p", "-c", "0", String(child.pid)], { stdio: "ignore" })
  }
  const url = `http://127.0.0.1:${port}/`
  /** Bodies read at once (`C`, default 1): the bench's 10 MiB scenarios read 4. */
  const concurrency = Number(process.env.C ?? 1)
  const measure = async (name, once) => {
    for (let i = 0; i < 5; i++) await once()
    const cpu = process.cpuUsage()
    const started = performance.now()
    const worker = async () => {
      for (let i = 0; i < rounds; i++) {
        const length = await once()
        if (length !== size) throw new Error(`${name}: ${length} bytes`)
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    const used = process.cpuUsage(cpu)
    const mib = (concurrency * rounds * size) / 1048576
    console.log(
      `${name}: ${((used.user + used.system) / mib).toFixed(0)} us CPU per MiB, ${(mib / ((performance.now() - started) / 1000)).toFixed(0)} MiB/s`
    )
  }
  const which = process.env.W ?? "both"
  if (which !== "undici") {
    const manager = await import("effect/ManagedRuntime").then((M) => M.make(NodePoolManager.layer()))
    const pm = await manager.runPromise(PoolManager.PoolManager)
    const read = preload
      ? Effect.map(pm.request("GET", url), (r) => r.data.length)
      : Effect.scoped(
          Effect.flatMap(pm.request("GET", url, { preloadContent: false }), (r) =>
            Stream.runFold(r.stream, 0, (n, chunk) => n + chunk.length)
          )
        )
    await measure(`httpool PoolManager ${preload ? "preloaded" : "stream"}`, () => manager.runPromise(read))
    await manager.dispose()
  }
  if (which !== "httpool") {
    const pool = new Pool(`http://127.0.0.1:${port}`)
    await measure(`undici Pool.request ${preload ? "arrayBuffer" : "for await"}`, async () => {
      const { body } = await pool.request({ path: "/", method: "GET" })
      if (preload) return (await body.arrayBuffer()).byteLength
      let n = 0
      for await (const chunk of body) n += chunk.length
      return n
    })
    await pool.close()
  }
  child.kill()
}
