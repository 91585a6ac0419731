// httpool's PoolManager and undici's Pool in one process, taking turns in short stretches
// against the same server: each pair of stretches is a second or so apart, so a swing of the
// host's speed (2x within seconds on these machines) falls on both. 64 B keep-alive GETs,
// the client pinned to core 1 and the server to core 0. Run after `npm run build`:
//
//   node packages/bench/prof/duel.mjs                 # C=16, 20 pairs of stretches of 16,000 requests (N per worker)
//   C=64 PAIRS=30 N=300 node packages/bench/prof/duel.mjs
//   SERVER=node node packages/bench/prof/duel.mjs     # node:http's server instead of nginx
//
// It prints each stretch's CPU per request and req/s, and the medians of the pair ratios
// (httpool / undici: below 1 for CPU, above 1 for req/s, httpool is ahead). Both clients'
// code shares one V8 isolate here: Node's own socket code sees both, unlike in `npm run bench`.
import * as PoolManager from "@httpool/core/PoolManager"
import * as NodePoolManager from "@httpool/node/NodePoolManager"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { execFileSync, fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Pool } from "undici"
import { startNginx } from "../dist/nginx.js"

const C = Number(process.env.C ?? 16)
const N = Number(process.env.N ?? Math.ceil(16_000 / C))
const pairs = Number(process.env.PAIRS ?? 20)
const taskset = (core, pid) => {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", String(core), String(pid)], { stdio: "ignore" })
  } catch {
    // no taskset: unpinned
  }
}

let port
let stopServer
if (process.env.SERVER === "node") {
  const child = fork(fileURLToPath(new URL("./sockets.mjs", import.meta.url)), ["server"])
  port = await new Promise((resolve) => child.once("message", resolve))
  taskset(0, child.pid)
  stopServer = () => child.kill()
} else {
  const nginx = await startNginx("/usr/sbin/nginx", { core: 0 })
  port = nginx.port
  stopServer = nginx.stop
}
taskset(1, process.pid)
const path = process.env.SERVER === "node" ? "/x" : "/64"
const url = `http://127.0.0.1:${port}${path}`

const rt = ManagedRuntime.make(NodePoolManager.layer({ connectionPoolKw: { maxsize: C } }))
const pm = await rt.runPromise(PoolManager.PoolManager)
const one = pm.request("GET", url)
const httpool = (n) =>
  rt.runPromise(
    Effect.all(
      Array.from({ length: C }, () =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) yield* one
        })
      ),
      { concurrency: "unbounded", discard: true }
    )
  )
const pool = new Pool(`http://127.0.0.1:${port}`, { connections: C })
const undici = (n) =>
  Promise.all(
    Array.from({ length: C }, async () => {
      for (let i = 0; i < n; i++) {
        const r = await pool.request({ path, method: "GET" })
        await r.body.arrayBuffer()
      }
    })
  )

/** One stretch: CPU per request (us) and req/s. */
const stretch = async (run) => {
  const cpu = process.cpuUsage()
  const t = performance.now()
  await run(N)
  const used = process.cpuUsage(cpu)
  return { cpu: (used.user + used.system) / (N * C), rps: (N * C) / ((performance.now() - t) / 1000) }
}

const warm = Number(process.env.WARM ?? 30_000)
for (let done = 0; done < warm; done += N * C) {
  await httpool(N)
  await undici(N)
}
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const m = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2
}
const cpuRatios = []
const rpsRatios = []
const all = { httpool: [], undici: [] }
for (let i = 0; i < pairs; i++) {
  // Alternate which goes first, so that neither always follows the other.
  const h = i % 2 === 0 ? await stretch(httpool) : null
  const u = await stretch(undici)
  const hh = h ?? (await stretch(httpool))
  all.httpool.push(hh)
  all.undici.push(u)
  cpuRatios.push(hh.cpu / u.cpu)
  rpsRatios.push(hh.rps / u.rps)
  console.log(
    `pair ${String(i + 1).padStart(2)}: httpool ${hh.cpu.toFixed(1)} us ${hh.rps.toFixed(0)} req/s, undici ${u.cpu.toFixed(1)} us ${u.rps.toFixed(0)} req/s, CPU ratio ${(hh.cpu / u.cpu).toFixed(2)}`
  )
}
console.log(
  `C=${C}, ${pairs} pairs of ${N * C} requests: CPU per request httpool ${median(all.httpool.map((s) => s.cpu)).toFixed(1)} us, undici ${median(all.undici.map((s) => s.cpu)).toFixed(1)} us; median pair ratio CPU ${median(cpuRatios).toFixed(2)}x, req/s ${median(rpsRatios).toFixed(2)}x; pairs where httpool used less CPU: ${cpuRatios.filter((r) => r < 1).length}/${pairs}`
)
await pool.close()
await rt.dispose()
stopServer()
process.exit(0)
