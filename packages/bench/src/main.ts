/**
 * `npm run bench`: httpool against undici, node:http, @effect/platform and urllib3, in one
 * run, on 127.0.0.1 only.
 *
 * The target server runs in its own process (pinned to core 0 when `taskset` exists); each
 * client runs in its own process (pinned to core 1), one at a time, the clients of a
 * scenario interleaved and the whole matrix repeated (3 runs by default); the clients of the
 * 64 B speed targets take turns instead (`runTurns`). Prints a table of
 * medians with min-max and the ratio httpool / each peer; a full run writes
 * `packages/bench/results/latest.json` and regenerates `docs/performance.md`.
 *
 * Options:
 *   --quick               a few scenarios, at most a few thousand requests per client, 1 run;
 *                         writes results/quick.json and leaves the docs alone
 *   --runs N              repetitions (default 3, quick 1)
 *   --scenarios a,b       only these scenario ids (writes results/partial.json)
 *   --clients x,y         only these client ids (writes results/partial.json)
 *   --no-docs             do not regenerate docs/performance.md
 *   --node V              run the Node clients (httpool and its Node peers alike, so ratios stay
 *                         comparable) on Node V (a major such as 24, or x.y.z), fetched from the
 *                         npm registry by scripts/node-runtime.mjs; the server stays on this Node.
 *                         Writes results/<mode>-node<V>.json and leaves the docs alone
 *
 * Exits non-zero only when a client fails or a response is wrong, never for slowness.
 */
import { type ChildProcess, fork, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { makeCerts } from "./certs.js"
import { type Nginx, startNginx } from "./nginx.js"
import { processTicks, ticksPerSecond } from "./procfs.js"
import type { ClientId, Job, Measurement, NextTurn, Run, ServerReady, ServerStart, Turn } from "./protocol.js"
import {
  type ClientSummary,
  consoleText,
  existingNotes,
  markdown,
  type Report,
  type ScenarioSummary,
  summarize,
  targets
} from "./report.js"
import { fullBoundsFor, labels, pythonClients, type Scenario, scenarios, streams } from "./scenarios.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const benchRoot = path.resolve(here, "..")
const repoRoot = path.resolve(benchRoot, "..", "..")
const clientScript = path.join(here, "client.js")
const serverScript = path.join(here, "server.js")
const pythonScript = path.join(benchRoot, "python", "urllib3_client.py")

/** Slack per client process over its phases' time bounds (start-up, imports, teardown). */
const clientSlackMs = 30_000
/** The whole suite stops scheduling clients after this long. */
const suiteBudgetMs = { full: 35 * 60_000, quick: 3 * 60_000 }

// options ----------------------------------------------------------------------------------

interface Options {
  readonly quick: boolean
  readonly runs: number
  /** `--runs` was given: every client runs that often, scenarios' `moreRuns` aside. */
  readonly runsGiven: boolean
  readonly scenarios: ReadonlySet<string> | null
  readonly clients: ReadonlySet<string> | null
  readonly docs: boolean
  /** The Node version the clients run on (`--node`), or null for this process's. */
  readonly node: string | null
}

const parseOptions = (argv: ReadonlyArray<string>): Options => {
  let quick = false
  let runs: number | null = null
  let only: ReadonlySet<string> | null = null
  let clients: ReadonlySet<string> | null = null
  let docs = true
  let node: string | null = null
  const list = (value: string | undefined, flag: string): ReadonlySet<string> => {
    if (value === undefined || value === "") {
      throw new Error(`${flag} needs a comma-separated list`)
    }
    return new Set(value.split(","))
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === "--quick") {
      quick = true
    } else if (arg === "--runs") {
      runs = Number(argv[++i])
      if (!Number.isInteger(runs) || runs < 1 || runs > 10) {
        throw new Error("--runs takes a whole number from 1 to 10")
      }
    } else if (arg === "--scenarios") {
      only = list(argv[++i], arg)
    } else if (arg === "--clients") {
      clients = list(argv[++i], arg)
    } else if (arg === "--no-docs") {
      docs = false
    } else if (arg === "--node") {
      node = argv[++i] ?? ""
      if (!/^\d+(\.\d+\.\d+)?$/.test(node)) {
        throw new Error("--node takes a Node.js major (24) or version (24.22.3)")
      }
    } else if (arg === "--help" || arg === "-h") {
      console.log(
        "npm run bench -- [--quick] [--runs N] [--scenarios id,...] [--clients id,...] [--no-docs] [--node V]\n" +
          `scenarios: ${scenarios.map((s) => s.id).join(", ")}\nclients: ${Object.keys(labels).join(", ")}`
      )
      process.exit(0)
    } else {
      throw new Error(`unknown option ${arg} (try --help)`)
    }
  }
  for (const id of only ?? []) {
    if (!scenarios.some((s) => s.id === id)) {
      throw new Error(`unknown scenario ${id}`)
    }
  }
  for (const id of clients ?? []) {
    if (!(id in labels)) {
      throw new Error(`unknown client ${id}`)
    }
  }
  return { quick, runs: runs ?? (quick ? 1 : 3), runsGiven: runs !== null, scenarios: only, clients, docs, node }
}

// environment ------------------------------------------------------------------------------

const tryRun = (command: string, args: ReadonlyArray<string>): string | null => {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 15_000 })
  return result.status === 0 ? result.stdout.trim() : null
}

const hasTaskset = tryRun("taskset", ["-p", String(process.pid)]) !== null && os.cpus().length >= 2
/** "<python version> <urllib3 version> <interpreter path>", or null without python3 or urllib3. */
const pythonProbe = tryRun("python3", [
  "-c",
  "import sys, urllib3; print(sys.version.split()[0], urllib3.__version__, sys.executable)"
])
const pythonVersions = pythonProbe === null ? null : pythonProbe.split(" ").slice(0, 2).join(" ")
/** The interpreter itself, not a wrapper such as pyenv's shim (which costs a third of a second per start). */
const pythonExecutable = pythonProbe?.split(" ").slice(2).join(" ") || "python3"
/** Debian's nginx, the server of the single-origin 64 B scenarios (node:http's without it). */
const nginxPath = tryRun("sh", ["-c", "command -v nginx || ls /usr/sbin/nginx"])
/** Debian's dante, the SOCKS5 server of the socks5 scenario (skipped without it). */
const dantedPath = tryRun("sh", ["-c", "command -v danted || ls /usr/sbin/danted"])
/** The SOCKS5 proxy's URL while dante runs. */
let socksUrl: string | null = null
/** Whether a client can run on this machine (the urllib3 ones need python3 with urllib3). */
const available = (client: ClientId): boolean => !pythonClients.has(client) || pythonVersions !== null

const packageVersion = (name: string): string => {
  try {
    const file = path.join(repoRoot, "node_modules", name, "package.json")
    const json: unknown = JSON.parse(fs.readFileSync(file, "utf8"))
    return typeof json === "object" && json !== null && "version" in json && typeof json.version === "string"
      ? json.version
      : "unknown"
  } catch {
    return "not installed"
  }
}

const loadAtStart = os.loadavg()

/**
 * The node binary the Node clients run on: this process's, or the one `--node` names, which
 * scripts/node-runtime.mjs fetches from the npm registry (once; it is cached outside the clone).
 */
const clientRuntime = (version: string | null): { readonly execPath: string; readonly version: string } => {
  if (version === null) {
    return { execPath: process.execPath, version: process.version }
  }
  const script = path.join(repoRoot, "scripts", "node-runtime.mjs")
  const found = spawnSync(process.execPath, [script, "path", version], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 10 * 60_000
  })
  const execPath = found.status === 0 ? found.stdout.trim() : ""
  const actual = execPath === "" ? null : tryRun(execPath, ["--version"])
  if (actual === null) {
    throw new Error(`could not get Node ${version} (scripts/node-runtime.mjs path ${version} failed)`)
  }
  return { execPath, version: actual }
}

const machine = (clientNode: string): Record<string, string> => {
  const cpus = os.cpus()
  return {
    cpu: `${cpus.length} x ${cpus[0]?.model ?? "unknown"} (${cpus[0]?.speed ?? 0} MHz)`,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: clientNode === process.version ? process.version : `${clientNode} (clients), ${process.version} (server)`,
    python: pythonVersions?.split(" ")[0] ?? "not used",
    pinning: hasTaskset ? "taskset: server core 0, clients core 1" : "none (no taskset or one core)",
    "load average at start": loadAtStart.map((n) => n.toFixed(2)).join(" / ")
  }
}

/** The commit measured, and whether the work tree had changes to tracked files (they are measured too). */
const commit = (): string => {
  const head = tryRun("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"])
  if (head === null) {
    return "unknown"
  }
  const changes = tryRun("git", ["-C", repoRoot, "status", "--porcelain", "--untracked-files=no"])
  return changes === null || changes === "" ? head : `${head} + uncommitted changes`
}

const versions = (nginx: Nginx | null): Record<string, string> => ({
  "httpool commit": commit(),
  "@httpool/core": packageVersion("@httpool/core"),
  effect: packageVersion("effect"),
  "@effect/platform": packageVersion("@effect/platform"),
  "@effect/platform-node": packageVersion("@effect/platform-node"),
  undici: packageVersion("undici"),
  proxy: packageVersion("proxy"),
  urllib3: pythonVersions?.split(" ")[1] ?? "not installed",
  nginx: nginx?.version ?? "not used"
})

const method = (quick: boolean, runs: number, moreRuns: number | null, nginx: Nginx | null): ReadonlyArray<string> => {
  const bounds = quick ? scenarios[0].quickBounds : fullBoundsFor(scenarios[0], clientNodeMajor)
  const answeredByNginx = scenarios.filter((s) => s.server === "nginx").map((s) => s.id)
  return [
    "The target server is node:http in its own process on 127.0.0.1: one port per origin (200 for the " +
      "many-origins scenarios), fixed 64 B and 64 KiB bodies with a Content-Length, keep-alive (65 s), " +
      "a 10 MiB body written in 64 KiB chunks, a POST endpoint that checks the 16 KiB body it gets, an " +
      "https port (a CA made at start with selfsigned) and a forward/CONNECT proxy (the proxy package).",
    nginx === null
      ? `nginx was not installed, so node:http's server also answered ${answeredByNginx.join(", ")}, where it ` +
        "sets the pace at concurrency 64 (it needs 35-60 us of CPU per request)."
      : `${answeredByNginx.join(", ")} are answered by nginx ${nginx.version} (Debian's nginx-light: one process, ` +
        "no master, pinned like the node:http server, the same 64 B body, keep-alive for any number of " +
        "requests). node:http's server needs 35-60 us of CPU per such request and ran at 80-99% of its core " +
        "at concurrency 64, so that it, not the client, set the pace; nginx needs 13-20 us, and each table's " +
        "server CPU column shows how much room it left.",
    hasTaskset
      ? "The server process is pinned to core 0 and each client process to core 1 with taskset."
      : "No pinning: taskset is missing or the machine has one core.",
    `Each client runs alone in a fresh process (Node clients: a forked compiled script; urllib3: python3 with ` +
      `threads); within a run the clients of a scenario take turns, in an order rotated every run; ` +
      `the whole matrix is repeated ${runs} time(s)` +
      (moreRuns === null
        ? "."
        : `. The clients whose medians decide a 64 B speed target (httpool's and their peers') take ${moreRuns} ` +
          "turns instead, in the scenario's first run: each warms up once in a process of its own, then " +
          "they measure one at a time, in an order rotated every turn, the others waiting idle, so that " +
          "a client's i-th turn and its peer's are seconds apart. The host's speed swings by up to 2x " +
          "within seconds, and runs minutes apart could land one client on its slow moments and its " +
          "peer on fast ones."),
    `A client process warms up in slices of ${bounds.warmup.sliceMillis} ms until its throughput settles ` +
      `(the mean of the last ${bounds.warmup.window} slices within ${bounds.warmup.settle * 100}% of the ${bounds.warmup.window} before), after at least ` +
      `${bounds.warmup.minMillis} ms and ${bounds.warmup.minRequests ?? 0} requests, and for at most ${bounds.warmup.maxMillis} ms (10 MiB bodies: a fixed ` +
      `short warm-up). Effect programs take seconds to reach their settled speed (V8 optimises them ` +
      `late), Promise clients about a second; on Node 22 and later, whose V8 runs hot code in Maglev ` +
      `for seconds before Turbofan, the time-bound warm-up is at least 4.5 s. Each run's warm-up ` +
      `time is in the JSON (warmupMs). ` +
      `Then it measures for at ` +
      `most ${bounds.measure.requests} requests or ${bounds.measure.millis} ms, with \`concurrency\` workers ` +
      `(Promise workers, Effect fibers in one runtime, or python threads) each sending a request as soon ` +
      `as its previous one is done.`,
    "req/s is completed requests over the measured phase's wall time; p50/p99 are nearest-rank " +
      "percentiles of per-request latency; CPU us/req is the client process's user+system time " +
      "(process.cpuUsage, python's process_time) over the measured phase divided by its requests; " +
      "server CPU us/req is the server process's, read by the client from /proc over the same phase " +
      "(10 ms ticks): near 1,000,000 / req/s, the server was the bottleneck; " +
      "peak RSS is the process's maxRSS (process.resourceUsage, getrusage) at the end.",
    "Every response is checked (status and body length; the server checks POST bodies). A wrong " +
      "response or an error fails the client and makes `npm run bench` exit non-zero.",
    "Each client is written as its documentation writes a request, with default options except: " +
      "httpool pools and urllib3 get maxsize = concurrency, node:http and axios get keep-alive agents, " +
      "undici gets its defaults (unlimited connections per origin). The @effect/platform clients run " +
      "one program (client.get / client.post, then response.arrayBuffer or response.stream) over " +
      "@effect/platform-node's NodeHttpClient.layerUndici, over its NodeHttpClient.layer with a " +
      "keepAlive: true agent, and over httpool's NodeHttpClient.layer (a PoolManager with the same " +
      "numPools and maxsize as the PoolManager client).",
    "httpool sends urllib3's default headers (Accept-Encoding: identity, User-Agent) that undici's " +
      'Pool.request does not; the row "undici Pool.request, httpool\'s headers" passes them to ' +
      "undici too, so that both put the same bytes on the wire. The targets keep plain Pool.request " +
      "as their peer.",
    '"Streamed" clients read the body as a stream and count bytes (httpool: preloadContent: false ' +
      "and Stream.runFold; undici: for await over the body; urllib3: preload_content=False and " +
      "stream(65536)); preloaded ones buffer it (httpool's data, undici's body.arrayBuffer(), " +
      "node:http's Buffer.concat, urllib3's data)."
  ]
}

const skippedNotes = (): ReadonlyArray<string> => [
  "wrk (a C load generator, the server's ceiling): not installed",
  ...(nginxPath === null
    ? [
        "nginx: not installed (scripts/setup-test-deps.sh installs Debian's nginx-light); node:http's server " +
          "answered the 64 B single-origin scenarios too"
      ]
    : []),
  ...(pythonVersions === null ? ["urllib3: python3 -c 'import urllib3' failed"] : [])
]

// other load -------------------------------------------------------------------------------

/** Busy CPU ticks of the whole machine (every core), from /proc/stat; null without /proc. */
const machineBusyTicks = (): number | null => {
  try {
    const fields = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal: everything but idle and iowait.
    return fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + (fields[7] ?? 0)
  } catch {
    return null
  }
}

interface LoadSample {
  readonly at: number
  readonly busy: number | null
  readonly server: number | null
  readonly self: number
}

const sampleLoad = (serverPid: number | null): LoadSample => {
  const usage = process.cpuUsage()
  return {
    at: performance.now(),
    busy: machineBusyTicks(),
    server: processTicks(serverPid),
    self: (usage.user + usage.system) / 1000
  }
}

/**
 * Percent of one core used by other processes between two samples: the machine's busy time
 * minus the server's, this process's and the client's (`clientCpuMs`, its whole life).
 */
const otherCpuPct = (before: LoadSample, after: LoadSample, clientCpuMs: number): number | null => {
  if (before.busy === null || after.busy === null || before.server === null || after.server === null) {
    return null
  }
  const wallMs = after.at - before.at
  const busyMs = ((after.busy - before.busy) * 1000) / ticksPerSecond
  const serverMs = ((after.server - before.server) * 1000) / ticksPerSecond
  const other = busyMs - serverMs - (after.self - before.self) - clientCpuMs
  return wallMs > 0 ? Math.max(0, (other / wallMs) * 100) : null
}

// processes --------------------------------------------------------------------------------

/** How to fork a script on `core` (when pinning is possible) with the node binary `execPath`. */
const pinned = (
  core: number,
  execPath: string = process.execPath
): { readonly execPath?: string; readonly execArgv?: Array<string> } =>
  hasTaskset ? { execPath: "taskset", execArgv: ["-c", String(core), execPath] } : { execPath }

const failure = (error: string): Measurement => ({
  ok: false,
  warmupMs: 0,
  error,
  requests: 0,
  wrong: 0,
  elapsedMs: 0,
  reqPerSec: 0,
  bytesPerSec: 0,
  p50Ms: 0,
  p99Ms: 0,
  cpuUsPerReq: 0,
  serverCpuUsPerReq: null,
  maxRssKiB: 0,
  processCpuMs: 0
})

const isMeasurement = (value: unknown): value is Measurement =>
  typeof value === "object" &&
  value !== null &&
  "ok" in value &&
  typeof value.ok === "boolean" &&
  "reqPerSec" in value &&
  typeof value.reqPerSec === "number"

/** Keeps the last few KiB a child wrote, for error messages. */
const tail = (child: ChildProcess): (() => string) => {
  let text = ""
  const keep = (data: Buffer): void => {
    text = (text + data.toString("utf8")).slice(-4096)
  }
  child.stdout?.on("data", keep)
  child.stderr?.on("data", keep)
  return () => text.trim()
}

/** Runs one job in its own process and resolves with its measurement (a failure on any trouble). */
const runJob = async (job: Job): Promise<Run> => {
  const before = sampleLoad(job.serverPid)
  const measurement = await runProcess(job, clientNodePath)
  const after = sampleLoad(job.serverPid)
  return { ...measurement, otherCpuPct: otherCpuPct(before, after, measurement.processCpuMs) }
}

/** A Node client process taking turns (`Job.turns`): the next measurement, and the word to go on. */
interface TurnTaker {
  /** The next measurement: the first comes after the warm-up, each later one after `next`. */
  readonly take: (timeoutMs: number) => Promise<Measurement>
  readonly next: () => void
  readonly kill: () => void
}

const isTurn = (value: unknown): value is Turn =>
  typeof value === "object" && value !== null && "type" in value && value.type === "turn" && "measurement" in value

/** Forks a Node client for a job with turns and sends it the job (it starts warming up). */
const startTurns = (job: Job): TurnTaker => {
  const child = fork(clientScript, [], { ...pinned(1, clientNodePath), stdio: ["ignore", "pipe", "pipe", "ipc"] })
  const output = tail(child)
  const arrived: Array<Measurement> = []
  let waiting: ((measurement: Measurement) => void) | null = null
  const deliver = (measurement: Measurement): void => {
    const resolve = waiting
    waiting = null
    if (resolve === null) arrived.push(measurement)
    else resolve(measurement)
  }
  child.on("message", (message: unknown) => {
    if (isTurn(message)) deliver(message.measurement)
    else if (isMeasurement(message)) deliver(message)
  })
  child.once("error", (error) => deliver(failure(`could not start: ${error.message}`)))
  child.once("close", (code) => deliver(failure(`exited with code ${code}: ${output().slice(-500)}`)))
  child.send(job)
  const kill = () => {
    child.kill("SIGKILL")
  }
  return {
    take: (timeoutMs) =>
      new Promise((resolve) => {
        const first = arrived.shift()
        if (first !== undefined) {
          resolve(first)
          return
        }
        const timer = setTimeout(() => {
          waiting = null
          kill()
          resolve(failure(`no result within ${timeoutMs} ms`))
        }, timeoutMs)
        waiting = (measurement) => {
          clearTimeout(timer)
          resolve(measurement)
        }
      }),
    next: () => {
      const word: NextTurn = { type: "next" }
      child.send(word)
    },
    kill
  }
}

/**
 * Runs `jobs` (one per client) as `turns` turns each: every client warms up once, in its own
 * process, one after the other; then they take turns measuring, one at a time, in an order
 * rotated every turn, each waiting idle while the others measure. A client's i-th turn and its
 * peer's are seconds apart, so a swing of the host's speed falls on both. `record` gets every
 * turn as it ends; a client that fails takes no more turns.
 */
const runTurns = async (
  jobs: ReadonlyArray<Job>,
  turns: number,
  record: (job: Job, turn: number, run: Run) => void
): Promise<void> => {
  /** A client's process, its CPU time at its last turn's end, and whether it may go on. */
  type Entry = { readonly job: Job; readonly taker: TurnTaker; cpuMs: number; ok: boolean }
  const takers: Array<Entry> = []
  const takeTurn = async (entry: Entry, turn: number, timeoutMs: number) => {
    const before = sampleLoad(entry.job.serverPid)
    if (turn > 1) entry.taker.next()
    const measurement = await entry.taker.take(timeoutMs)
    const after = sampleLoad(entry.job.serverPid)
    const clientMs = measurement.processCpuMs - entry.cpuMs
    entry.cpuMs = measurement.processCpuMs
    entry.ok = measurement.ok
    record(entry.job, turn, { ...measurement, otherCpuPct: otherCpuPct(before, after, Math.max(0, clientMs)) })
  }
  try {
    for (const job of jobs) {
      const withTurns: Job = { ...job, turns }
      const entry: Entry = { job: withTurns, taker: startTurns(withTurns), cpuMs: 0, ok: true }
      takers.push(entry)
      await takeTurn(entry, 1, job.warmup.maxMillis + job.measure.millis + clientSlackMs)
    }
    for (let turn = 2; turn <= turns; turn++) {
      for (let i = 0; i < takers.length; i++) {
        const entry = takers[(i + turn - 1) % takers.length]
        if (entry.ok) await takeTurn(entry, turn, entry.job.measure.millis + clientSlackMs)
      }
    }
  } finally {
    for (const { taker } of takers) taker.kill()
  }
}

/** The node binary Node clients are forked with (`--node`); set by `main`. */
let clientNodePath = process.execPath
/** The major version of `clientNodePath`; set by `main`. */
let clientNodeMajor = Number(process.versions.node.split(".")[0])

const runProcess = (job: Job, nodePath: string): Promise<Measurement> =>
  new Promise((resolve) => {
    const python = pythonClients.has(job.client)
    const command = python
      ? hasTaskset
        ? spawn("taskset", ["-c", "1", pythonExecutable, pythonScript, JSON.stringify(job)], { stdio: "pipe" })
        : spawn(pythonExecutable, [pythonScript, JSON.stringify(job)], { stdio: "pipe" })
      : fork(clientScript, [], { ...pinned(1, nodePath), stdio: ["ignore", "pipe", "pipe", "ipc"] })
    const output = tail(command)
    let stdout = ""
    if (python) {
      command.stdout?.on("data", (data: Buffer) => {
        stdout = (stdout + data.toString("utf8")).slice(-65536)
      })
    }
    let settled = false
    const finish = (measurement: Measurement): void => {
      if (!settled) {
        settled = true
        clearTimeout(timer)
        resolve(measurement)
      }
    }
    const timer = setTimeout(
      () => {
        command.kill("SIGKILL")
        finish(failure(`no result within ${job.warmup.maxMillis + job.measure.millis + clientSlackMs} ms`))
      },
      job.warmup.maxMillis + job.measure.millis + clientSlackMs
    )
    command.once("error", (error) => finish(failure(`could not start: ${error.message}`)))
    command.on("message", (message: unknown) => {
      if (isMeasurement(message)) {
        finish(message)
      }
    })
    command.once("close", (code) => {
      if (python) {
        const line = stdout.trim().split("\n").pop() ?? ""
        try {
          const parsed: unknown = JSON.parse(line)
          if (isMeasurement(parsed)) {
            finish(parsed)
            return
          }
        } catch {
          // falls through to the failure below
        }
      }
      finish(failure(`exited with code ${code} without a result: ${output().slice(-500)}`))
    })
    if (!python) {
      command.send(job)
    }
  })

interface Server {
  readonly ready: ServerReady
  readonly pid: number | undefined
  readonly stop: () => void
}

const startServer = (start: ServerStart): Promise<Server> =>
  new Promise((resolve, reject) => {
    const child = fork(serverScript, [], { ...pinned(0), stdio: ["ignore", "inherit", "inherit", "ipc"] })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error("the bench server did not start within 30 s"))
    }, 30_000)
    child.once("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`the bench server exited with code ${code}`))
    })
    child.once("message", (message: ServerReady) => {
      clearTimeout(timer)
      child.removeAllListeners("exit")
      resolve({
        ready: message,
        pid: child.pid,
        stop: () => {
          if (child.connected) {
            child.disconnect()
          }
          child.kill("SIGTERM")
        }
      })
    })
    child.send(start)
  })

/**
 * Formats a written JSON file with the repository's Biome, so that `npm run lint` stays clean
 * after a run (Biome puts short arrays on one line, JSON.stringify does not). Skipped quietly
 * when Biome is not installed.
 */
const formatJson = (file: string): void => {
  const biome = path.join(repoRoot, "node_modules", ".bin", "biome")
  if (fs.existsSync(biome)) {
    spawnSync(biome, ["format", "--write", file], { cwd: repoRoot, stdio: "ignore", timeout: 30_000 })
  }
}

// the suite --------------------------------------------------------------------------------

/** The servers of a run: the node:http server, and nginx when installed and a scenario wants it. */
interface Servers {
  readonly node: Server
  readonly nginx: Nginx | null
}

/** The nginx answering `scenario`, or null when the node:http server does. */
const nginxFor = (scenario: Scenario, servers: Servers): Nginx | null =>
  scenario.server === "nginx" && scenario.target === "one-origin" ? servers.nginx : null

/** Who answered a scenario's requests, as its table says. */
const serverOf = (scenario: Scenario, servers: Servers): string => {
  const nginx = nginxFor(scenario, servers)
  return nginx === null ? "the node:http server" : `nginx ${nginx.version}`
}

const jobFor = (scenario: Scenario, client: ClientId, servers: Servers, caPem: string, quick: boolean): Job => {
  const ready = servers.node.ready
  const nginx = nginxFor(scenario, servers)
  const bounds = quick ? scenario.quickBounds : fullBoundsFor(scenario, clientNodeMajor)
  const origins =
    scenario.target === "many-origins"
      ? ready.originPorts.slice(0, scenario.origins ?? 200).map((port) => `http://127.0.0.1:${port}`)
      : scenario.target === "https-via-proxy" || scenario.target === "https-via-socks"
        ? [`https://127.0.0.1:${ready.httpsPort}`]
        : [`http://127.0.0.1:${nginx?.port ?? ready.port}`]
  const proxied = scenario.target === "https-via-proxy" || scenario.target === "https-via-socks"
  return {
    client,
    scenario: scenario.id,
    method: scenario.method,
    origins,
    path: scenario.path,
    requestBodySize: scenario.requestBodySize,
    expectedStatus: 200,
    expectedLength: scenario.expectedLength,
    concurrency: scenario.concurrency,
    numPools: scenario.numPools,
    stream: streams(client, scenario),
    proxy: scenario.target === "https-via-socks" ? socksUrl : proxied ? `http://127.0.0.1:${ready.proxyPort}` : null,
    caPem: proxied ? caPem : null,
    warmup: bounds.warmup,
    measure: bounds.measure,
    serverPid: nginx?.pid ?? servers.node.pid ?? null
  }
}

/** Percent of a core used by other processes above which a run counts as disturbed in the report. */
const noisyPct = 25
/** Percent of a core used by other processes above which a run is taken again (once). */
const rerunPct = 50
/** At most this share of the runs is taken again. */
const noisyRerunShare = 0.1

/**
 * Warms the servers before anything is measured: an undici client (not reported) for a
 * moment against each kind of target (one origin, many origins, https through the proxy), and
 * against nginx when it answers some scenarios.
 */
const warmServer = async (
  selected: ReadonlyArray<{ readonly scenario: Scenario }>,
  servers: Servers,
  caPem: string
): Promise<void> => {
  const kinds = new Map<string, Scenario>()
  for (const { scenario } of selected) {
    const kind = `${scenario.target} ${serverOf(scenario, servers)}`
    if (!kinds.has(kind)) {
      kinds.set(kind, scenario)
    }
  }
  for (const scenario of kinds.values()) {
    const client: ClientId =
      scenario.target === "many-origins"
        ? "undici-agent"
        : scenario.target === "https-via-proxy"
          ? "undici-proxy"
          : scenario.target === "https-via-socks"
            ? "undici-socks"
            : "undici-pool"
    const job: Job = {
      ...jobFor(scenario, client, servers, caPem, false),
      warmup: { minMillis: 0, maxMillis: 0, sliceMillis: 0, window: 1, settle: 0, requests: 0 },
      measure: { requests: 50_000, millis: 600 }
    }
    const result = await runJob(job)
    console.log(`warming the server: ${scenario.id} ${result.ok ? "" : `(failed: ${result.error ?? "unknown"})`}`)
  }
}

const noiseNote = (summaries: ReadonlyArray<ScenarioSummary>): string => {
  const loads = summaries.flatMap((s) =>
    s.clients.flatMap((c) => c.runs.flatMap((r) => (r.otherCpuPct === null ? [] : [r.otherCpuPct])))
  )
  if (loads.length === 0) {
    return "The load of other processes could not be read (/proc is missing)."
  }
  const noisy = loads.filter((l) => l > noisyPct).length
  return (
    `Other processes used more than ${noisyPct}% of a core during ${noisy} of the ${loads.length} recorded runs ` +
    `(at most ${Math.max(...loads).toFixed(0)}%); runs above ${rerunPct}% were taken again once ` +
    "while the budget allowed, keeping the quieter of the two."
  )
}

const progressLine = (which: string, scenario: Scenario, client: ClientId, m: Run): string => {
  const head = `${which.padEnd(10)} ${scenario.id.padEnd(16)} ${labels[client].padEnd(36)}`
  if (!m.ok) {
    return `${head} FAILED: ${m.error ?? "unknown"}`
  }
  const rps = Math.round(m.reqPerSec).toLocaleString("en-US").padStart(8)
  return `${head}${rps} req/s  warm ${(m.warmupMs / 1000).toFixed(1)} s  p50 ${m.p50Ms.toFixed(2)} ms  p99 ${m.p99Ms.toFixed(2)} ms  CPU ${m.cpuUsPerReq.toFixed(0)} us/req  server ${m.serverCpuUsPerReq === null ? "?" : m.serverCpuUsPerReq.toFixed(0)} us/req  RSS ${(m.maxRssKiB / 1024).toFixed(0)} MiB  (${m.requests} req${m.otherCpuPct === null ? "" : `, other load ${m.otherCpuPct.toFixed(0)}%`})`
}

const main = async (): Promise<number> => {
  const options = parseOptions(process.argv.slice(2))
  const runtime = clientRuntime(options.node)
  clientNodePath = runtime.execPath
  clientNodeMajor = Number(runtime.version.replace(/^v/, "").split(".")[0])
  const began = performance.now()
  const budget = options.quick ? suiteBudgetMs.quick : suiteBudgetMs.full
  const selected = scenarios
    .filter((s) => (options.scenarios === null ? (options.quick ? s.quick : true) : options.scenarios.has(s.id)))
    .map((s) => {
      const clients = s.clients.filter((c) => (options.clients === null || options.clients.has(c)) && available(c))
      const more = options.quick || options.runsGiven ? undefined : s.moreRuns
      // The clients the scenario runs more often take turns in processes of their own (see
      // `runTurns`) in its first run; the matrix's runs take the others.
      const turnTakers = more === undefined ? [] : clients.filter((c) => more.clients.includes(c))
      const others = clients.filter((c) => !turnTakers.includes(c))
      const runsOf = (run: number): ReadonlyArray<ClientId> => (run <= options.runs ? others : [])
      return { scenario: s, clients, runsOf, turnTakers, turns: more?.runs ?? 0 }
    })
    .filter((s) => s.clients.length > 0 && (s.scenario.target !== "https-via-socks" || dantedPath !== null))
  const mode: Report["mode"] =
    options.scenarios !== null || options.clients !== null ? "partial" : options.quick ? "quick" : "full"
  console.log(
    `httpool bench (${mode}): ${selected.length} scenario(s), ${options.runs} run(s), ` +
      `${hasTaskset ? "server on core 0, clients on core 1" : "no pinning"}, ` +
      `Node clients on ${runtime.version}${options.node === null ? "" : ` (${runtime.execPath})`}, ` +
      `${pythonVersions === null ? "no urllib3" : `python ${pythonVersions.replace(" ", ", urllib3 ")}`}`
  )

  const certs = await makeCerts()
  const server = await startServer({
    type: "start",
    origins: Math.max(200, ...selected.map(({ scenario }) => scenario.origins ?? 200)),
    certPem: certs.certPem,
    keyPem: certs.keyPem,
    lifetimeMs: budget + 120_000
  })
  const wantsNginx = selected.some(({ scenario }) => scenario.server === "nginx")
  if (wantsNginx && nginxPath === null) {
    console.log("nginx is not installed (scripts/setup-test-deps.sh installs it): node:http answers every scenario")
  }
  let servers: Servers
  try {
    servers = {
      node: server,
      nginx: wantsNginx && nginxPath !== null ? await startNginx(nginxPath, hasTaskset ? { core: 0 } : null) : null
    }
  } catch (error) {
    server.stop()
    throw error
  }
  const results = new Map<string, Map<ClientId, Array<Run>>>()
  const maxRuns = options.runs
  const maxTurns = Math.max(0, ...selected.map((s) => s.turns))
  const jobCount = selected.reduce((n, s) => {
    let jobs = 0
    for (let run = 1; run <= maxRuns; run++) jobs += s.runsOf(run).length
    return n + jobs
  }, 0)
  const record = (scenario: Scenario, client: ClientId, measurement: Run): void => {
    const byClient = results.get(scenario.id) ?? new Map<ClientId, Array<Run>>()
    results.set(scenario.id, byClient)
    byClient.set(client, [...(byClient.get(client) ?? []), measurement])
  }
  let reruns = options.quick ? 0 : Math.ceil(jobCount * noisyRerunShare)
  let outOfTime = false
  const dante =
    dantedPath !== null && selected.some((s) => s.scenario.target === "https-via-socks")
      ? await (await import("./drivers/socks.js")).startDante(dantedPath, hasTaskset ? { core: 0 } : null)
      : null
  socksUrl = dante?.url ?? null
  try {
    if (!options.quick) {
      await warmServer(selected, servers, certs.caPem)
    }
    for (let run = 1; run <= maxRuns && !outOfTime; run++) {
      for (const { scenario, runsOf, turnTakers, turns } of selected) {
        if (run === 1 && turnTakers.length > 0 && !outOfTime) {
          await runTurns(
            turnTakers.map((client) => jobFor(scenario, client, servers, certs.caPem, options.quick)),
            turns,
            (job, turn, measurement) => {
              console.log(progressLine(`turn ${turn}/${turns}`, scenario, job.client, measurement))
              record(scenario, job.client, measurement)
            }
          )
        }
        const clients = runsOf(run)
        const order = clients.map((_, i) => clients[(i + run - 1) % clients.length])
        for (const client of order) {
          if (performance.now() - began > budget) {
            outOfTime = true
            break
          }
          const job = jobFor(scenario, client, servers, certs.caPem, options.quick)
          let measurement = await runJob(job)
          console.log(progressLine(`run ${run}/${maxRuns}`, scenario, client, measurement))
          // A run disturbed by other processes is taken again once, while the budget allows.
          if (
            measurement.ok &&
            (measurement.otherCpuPct ?? 0) > rerunPct &&
            reruns > 0 &&
            performance.now() - began < budget / 2
          ) {
            reruns--
            const again = await runJob(job)
            console.log(`${progressLine(`run ${run}/${maxRuns}`, scenario, client, again)}  [re-run: other load]`)
            if (!again.ok || (again.otherCpuPct ?? 0) < (measurement.otherCpuPct ?? 0)) {
              measurement = again
            }
          }
          record(scenario, client, measurement)
        }
      }
    }
  } finally {
    server.stop()
    servers.nginx?.stop()
    dante?.stop()
  }

  const summaries: Array<ScenarioSummary> = selected.map(({ scenario }) =>
    summarize(scenario, results.get(scenario.id) ?? new Map(), serverOf(scenario, servers))
  )
  const failures = summaries.flatMap((s) =>
    s.clients.filter((c: ClientSummary) => !c.ok).map((c) => `${s.id} / ${c.label}: ${c.errors.join("; ")}`)
  )
  if (outOfTime) {
    failures.push(`the suite ran out of its ${budget / 60_000} minute budget; later clients did not run`)
  }
  const report: Report = {
    mode,
    date: new Date().toISOString(),
    durationSeconds: (performance.now() - began) / 1000,
    runs: options.runs,
    machine: machine(runtime.version),
    versions: versions(servers.nginx),
    method: method(options.quick, options.runs, maxTurns > 0 ? maxTurns : null, servers.nginx),
    skipped: skippedNotes(),
    noise: noiseNote(summaries),
    targets: targets(summaries),
    scenarios: summaries,
    failures
  }
  console.log(consoleText(report))

  const resultsDir = path.join(benchRoot, "results")
  fs.mkdirSync(resultsDir, { recursive: true })
  // Another runtime's results sit beside this Node's, never over them.
  const runtimeSuffix = options.node === null ? "" : `-node${options.node}`
  const jsonFile = path.join(resultsDir, `${mode === "full" ? "latest" : mode}${runtimeSuffix}.json`)
  fs.writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`)
  formatJson(jsonFile)
  console.log(`\nwrote ${path.relative(process.cwd(), jsonFile)}`)
  if (mode === "full" && options.docs && !outOfTime && options.node === null) {
    const docFile = path.join(repoRoot, "docs", "performance.md")
    const previous = fs.existsSync(docFile) ? fs.readFileSync(docFile, "utf8") : null
    fs.writeFileSync(docFile, markdown(report, existingNotes(previous)))
    console.log(`wrote ${path.relative(process.cwd(), docFile)}`)
  }
  console.log(`done in ${report.durationSeconds.toFixed(1)} s`)
  if (failures.length > 0) {
    console.error(`\n${failures.length} failure(s):\n${failures.map((f) => `  ${f}`).join("\n")}`)
    return 1
  }
  return 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error)
    process.exitCode = 1
  }
)
