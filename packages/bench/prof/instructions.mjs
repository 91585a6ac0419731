// Machine instructions per request in the client's user space, counted by valgrind's
// callgrind, for the clients of `prof/sockets.mjs` (64 B keep-alive GETs against its
// node:http server, which runs natively in its own process). An instruction count is the
// same for the same build, inputs and interleaving whatever else the host is doing, where
// CPU time on these machines swings by 2x within seconds; it leaves out the kernel's share
// (the socket calls, about a third of a request's CPU here) and what an instruction costs
// (cache misses, mispredicted branches). Run after `npm run build`, with valgrind installed:
//
//   node packages/bench/prof/instructions.mjs                 # W=httpool,undici,raw C=16
//   W=httpool,pool,undici C=16,64 node packages/bench/prof/instructions.mjs
//   BY=1 node packages/bench/prof/instructions.mjs            # also where they go, by kind and by function
//
// Each (client, concurrency) runs twice under callgrind after the same warm-up (WARM
// requests in all, 32,000), measuring R1 and then R2 requests (6,400 and 32,000); the
// difference of the two totals over R2 - R1 is one request's cost, start-up, warm-up and
// the compilations they trigger left out. A full collection that falls in one run and not
// the other moves the figure by a few percent: each run's count of them is printed. Under
// valgrind a client runs about 50 times slower, so the server is always ahead of it and
// every read finds its answer whole: the regime of a client that sets the pace. About five
// minutes per pair.
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const sockets = fileURLToPath(new URL("./sockets.mjs", import.meta.url))
const clients = (process.env.W ?? "httpool,undici,raw").split(",")
const concurrencies = (process.env.C ?? "16").split(",").map(Number)
const warm = Number(process.env.WARM ?? 32_000)
const r1 = Number(process.env.R1 ?? 6_400)
const r2 = Number(process.env.R2 ?? 32_000)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "httpool-instructions-"))

/** One run under callgrind: its instruction total, its full collections and its output file. */
const run = (client, concurrency, requests) =>
  new Promise((resolve, reject) => {
    const out = path.join(dir, `${client}.${concurrency}.${requests}.out`)
    const child = spawn(
      "valgrind",
      ["--tool=callgrind", "--smc-check=all-non-file", `--callgrind-out-file=${out}`, process.execPath, sockets],
      {
        env: {
          ...process.env,
          W: client,
          C: String(concurrency),
          WARM: String(Math.ceil(warm / concurrency)),
          N: String(Math.ceil(requests / concurrency)),
          SLICES: "1",
          ALLOC: ""
        },
        stdio: ["ignore", "pipe", "pipe"]
      }
    )
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (data) => (stdout += data))
    child.stderr.on("data", (data) => (stderr += data))
    child.on("error", reject)
    child.on("close", (code) => {
      const total = /Collected : (\d+)/.exec(stderr)
      if (code !== 0 || total === null) {
        reject(new Error(`valgrind ${client} C=${concurrency} exited ${code}:\n${stderr.slice(-2000)}`))
        return
      }
      const majors = /(\d+) full collections/.exec(stdout)
      resolve({ total: Number(total[1]), majors: majors === null ? "?" : majors[1], out })
    })
  })

/** Self instructions by function, from callgrind_annotate. */
const byFunction = (file) => {
  const text = execFileSync("callgrind_annotate", ["--threshold=100", "--inclusive=no", file], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024
  })
  const counts = new Map()
  for (const line of text.split("\n")) {
    const m = /^\s*([\d,]+) \([ \d.]+%\)\s+(.*)$/.exec(line)
    if (m === null || m[2].includes("PROGRAM TOTALS")) continue
    counts.set(m[2], (counts.get(m[2]) ?? 0) + Number(m[1].replaceAll(",", "")))
  }
  return counts
}

/** The kind of code a function is: JIT-compiled JavaScript has no symbol. */
const kindOf = (name) => {
  if (/\?\?\?:0x/.test(name)) return "JavaScript (JIT code)"
  if (name.includes("Builtins_")) return /IC|Megamorphic/.test(name) ? "V8 inline-cache misses" : "V8 builtins"
  if (/Scaveng|Marking|Sweep|Heap::|heap::|Evacuat|Compactor|MemoryAllocator|Worklist|RememberedSet/.test(name)) {
    return "garbage collection"
  }
  if (/compiler::|maglev|Maglev|Baseline|Scanner|Parser::Parse|AstValue|interpreter::/.test(name)) return "compilers"
  if (/llhttp|node::\(anonymous namespace\)::Parser/.test(name)) return "node's llhttp parser"
  if (/malloc|free/.test(name)) return "malloc"
  if (/uv_|libuv|epoll/.test(name)) return "libuv"
  if (name.includes("node::")) return "node C++"
  if (name.includes("v8::")) return "V8 runtime and API"
  return "other"
}

const rows = []
for (const concurrency of concurrencies) {
  for (const client of clients) {
    const a = await run(client, concurrency, r1)
    const b = await run(client, concurrency, r2)
    const perRequest = (b.total - a.total) / (r2 - r1)
    rows.push({ client, concurrency, perRequest })
    console.log(
      `${client} C=${concurrency}: ${Math.round(perRequest).toLocaleString("en")} instructions per request (full collections ${a.majors} / ${b.majors})`
    )
    if (process.env.BY === "1") {
      const before = byFunction(a.out)
      const after = byFunction(b.out)
      const kinds = new Map()
      const functions = []
      for (const name of new Set([...before.keys(), ...after.keys()])) {
        const d = ((after.get(name) ?? 0) - (before.get(name) ?? 0)) / (r2 - r1)
        kinds.set(kindOf(name), (kinds.get(kindOf(name)) ?? 0) + d)
        functions.push([name, d])
      }
      for (const [kind, d] of [...kinds].sort((x, y) => y[1] - x[1])) {
        console.log(`  ${Math.round(d).toLocaleString("en").padStart(8)}  ${kind}`)
      }
      console.log("  most instructions, by function:")
      for (const [name, d] of functions.sort((x, y) => y[1] - x[1]).slice(0, 20)) {
        console.log(`  ${Math.round(d).toLocaleString("en").padStart(8)}  ${name.slice(0, 140)}`)
      }
    }
    fs.rmSync(a.out, { force: true })
    fs.rmSync(b.out, { force: true })
  }
}
for (const concurrency of concurrencies) {
  const here = rows.filter((row) => row.concurrency === concurrency)
  const undici = here.find((row) => row.client === "undici")
  if (undici === undefined) continue
  for (const row of here) {
    if (row !== undici)
      console.log(`C=${concurrency}: ${row.client} / undici ${(row.perRequest / undici.perRequest).toFixed(2)}x`)
  }
}
fs.rmSync(dir, { recursive: true, force: true })
