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
//                                                             #   (JavaScript named from V8's perf map)
//   SIM=1 node packages/bench/prof/instructions.mjs           # also simulated cache misses and mispredicted
//                                                             #   branches per request (callgrind's models)
//   SIM=1 BY=1 EVENT=I1mr node packages/bench/prof/instructions.mjs   # where the instruction-cache misses are
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
const breakdown = process.env.BY === "1"
const simulate = process.env.SIM === "1"
/** The event BY=1 breaks down: Ir (instructions), or with SIM=1 one of `events`. */
const event = process.env.EVENT ?? "Ir"
/** callgrind's events with SIM=1, and what each counts. */
const events = {
  Ir: "instructions",
  I1mr: "first-level instruction cache misses",
  D1mr: "first-level data cache read misses",
  D1mw: "first-level data cache write misses",
  DLmr: "last-level data cache read misses",
  DLmw: "last-level data cache write misses",
  Bcm: "mispredicted conditional branches",
  Bim: "mispredicted indirect branches"
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "httpool-instructions-"))

/** One run under callgrind: its totals by event, its full collections, its output file and JIT names. */
const run = (client, concurrency, requests) =>
  new Promise((resolve, reject) => {
    const out = path.join(dir, `${client}.${concurrency}.${requests}.out`)
    const child = spawn(
      "valgrind",
      [
        "--tool=callgrind",
        "--smc-check=all-non-file",
        ...(simulate ? ["--cache-sim=yes", "--branch-sim=yes"] : []),
        `--callgrind-out-file=${out}`,
        process.execPath,
        ...(breakdown ? ["--perf-basic-prof"] : []),
        sockets
      ],
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
        stdio: ["ignore", "pipe", "pipe"],
        // V8 writes an isolate log beside the perf map with --perf-basic-prof: into the scratch directory.
        cwd: dir
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
      const perfMap = `/tmp/perf-${child.pid}.map`
      const jit = breakdown ? jitNames(perfMap) : null
      fs.rmSync(perfMap, { force: true })
      resolve({ totals: totalsOf(out), majors: majors === null ? "?" : majors[1], out, jit })
    })
  })

/** callgrind_annotate's text for one event of a run: totals, then functions by self count. */
const annotate = (file, show) =>
  execFileSync("callgrind_annotate", ["--threshold=100", "--inclusive=no", `--show=${show}`, `--sort=${show}`, file], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024
  })

/** A run's totals by event, from the header line of callgrind's output file. */
const totalsOf = (file) => {
  const text = fs.readFileSync(file, "utf8")
  const names = /^events: (.*)$/m.exec(text)[1].trim().split(/\s+/)
  const values = /^totals: (.*)$/m.exec(text)[1].trim().split(/\s+/).map(Number)
  return Object.fromEntries(names.map((name, i) => [name, values[i] ?? 0]))
}

/**
 * JIT code by address, from V8's perf map (`--perf-basic-prof`): callgrind sees compiled
 * JavaScript only as addresses. Entries in the order V8 wrote them: where code was freed and
 * its memory reused, the later entry is the one that ran last.
 */
const jitNames = (file) => {
  if (!fs.existsSync(file)) return null
  const entries = []
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line)
    if (m === null) continue
    const name = m[3].replace(/file:\/\/\S*\/([^/\s]+\/[^/\s]+)/, "$1").replace(/node:internal\//, "node:")
    entries.push({ start: Number.parseInt(m[1], 16), size: Number.parseInt(m[2], 16), name })
  }
  return (address) => {
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i]
      if (address >= entry.start && address < entry.start + entry.size) return entry.name
    }
    return null
  }
}

/** Self counts of `show` by function, JIT code named where the perf map knows it. */
const byFunction = (run, show) => {
  const counts = new Map()
  for (const line of annotate(run.out, show).split("\n")) {
    const m = /^\s*([\d,]+) \([ \d.]+%\)\s+(.*)$/.exec(line)
    if (m === null || m[2].includes("PROGRAM TOTALS")) continue
    let name = m[2]
    const address = /^\?\?\?:0x([0-9a-f]+) /.exec(name)
    if (address !== null && run.jit !== null) {
      const js = run.jit(Number.parseInt(address[1], 16))
      if (js !== null) name = `${js} [JIT]`
    }
    counts.set(name, (counts.get(name) ?? 0) + Number(m[1].replaceAll(",", "")))
  }
  return counts
}

/** The kind of code a function is: JIT-compiled JavaScript has no symbol. */
const kindOf = (name) => {
  if (/\?\?\?:0x|\[JIT\]$/.test(name)) return "JavaScript (JIT code)"
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
    const per = (name) => ((b.totals[name] ?? 0) - (a.totals[name] ?? 0)) / (r2 - r1)
    const perRequest = per("Ir")
    rows.push({ client, concurrency, perRequest })
    console.log(
      `${client} C=${concurrency}: ${Math.round(perRequest).toLocaleString("en")} instructions per request (full collections ${a.majors} / ${b.majors})`
    )
    if (simulate) {
      for (const [name, what] of Object.entries(events)) {
        if (name !== "Ir") console.log(`  ${Math.round(per(name)).toLocaleString("en").padStart(8)}  ${what} (${name})`)
      }
    }
    if (breakdown) {
      const before = byFunction(a, event)
      const after = byFunction(b, event)
      const kinds = new Map()
      const functions = []
      for (const name of new Set([...before.keys(), ...after.keys()])) {
        const d = ((after.get(name) ?? 0) - (before.get(name) ?? 0)) / (r2 - r1)
        kinds.set(kindOf(name), (kinds.get(kindOf(name)) ?? 0) + d)
        functions.push([name, d])
      }
      console.log(`  ${events[event] ?? event} per request, by kind of code:`)
      for (const [kind, d] of [...kinds].sort((x, y) => y[1] - x[1])) {
        console.log(`  ${Math.round(d).toLocaleString("en").padStart(8)}  ${kind}`)
      }
      console.log("  by function:")
      for (const [name, d] of functions.sort((x, y) => y[1] - x[1]).slice(0, Number(process.env.TOP ?? 25))) {
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
