/**
 * Summaries of the runs (medians with min-max), the ratios httpool / each peer, httpool's speed
 * targets, and the text of the tables and of `docs/performance.md`.
 */
import type { ClientId, Measurement, Run } from "./protocol.js"
import { labels, type Scenario } from "./scenarios.js"

/** Median, min and max of one metric over the runs. */
export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
}

export interface ClientSummary {
  readonly client: ClientId
  readonly label: string
  /** Every run passed. */
  readonly ok: boolean
  readonly errors: ReadonlyArray<string>
  readonly runs: ReadonlyArray<Run>
  /** The most CPU other processes used during one of the runs, in percent of a core; null when unknown. */
  readonly otherCpuPctMax: number | null
  readonly reqPerSec: Spread
  readonly bytesPerSec: Spread
  readonly p50Ms: Spread
  readonly p99Ms: Spread
  readonly cpuUsPerReq: Spread
  /** The server's CPU per request over the measured runs; null when no run could read it. */
  readonly serverCpuUsPerReq: Spread | null
  readonly maxRssKiB: Spread
  /** The reference httpool client's median req/s divided by this client's; null for httpool's own rows. */
  readonly ratio: number | null
}

export interface ScenarioSummary {
  readonly id: string
  readonly title: string
  /** Who answered its requests (absent in results written before nginx answered some). */
  readonly server?: string
  readonly reference: ClientId
  readonly showBytes: boolean
  readonly clients: ReadonlyArray<ClientSummary>
}

export interface Target {
  readonly goal: string
  readonly measured: string
  /**
   * The median of the run-by-run ratios (each client's i-th run against its peer's, taken
   * minutes apart in the same turn of the matrix), with how many pairs; null when not measured.
   * The host's speed drifts between turns, and a pair shares its turn's speed.
   */
  readonly runByRun: string | null
  /** Whether the goal is met, null when it could not be measured. */
  readonly met: boolean | null
}

export interface Report {
  readonly mode: "full" | "quick" | "partial"
  readonly date: string
  readonly durationSeconds: number
  readonly runs: number
  readonly machine: Readonly<Record<string, string>>
  readonly versions: Readonly<Record<string, string>>
  readonly method: ReadonlyArray<string>
  readonly skipped: ReadonlyArray<string>
  /** How much other processes disturbed the run. */
  readonly noise: string
  readonly targets: ReadonlyArray<Target>
  readonly scenarios: ReadonlyArray<ScenarioSummary>
  readonly failures: ReadonlyArray<string>
}

const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) {
    return 0
  }
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const spread = (values: ReadonlyArray<number>): Spread => ({
  median: median(values),
  min: values.length === 0 ? 0 : Math.min(...values),
  max: values.length === 0 ? 0 : Math.max(...values)
})

/** Summarises the runs of every client of a scenario, in the scenario's client order. */
export const summarize = (
  scenario: Scenario,
  runs: ReadonlyMap<ClientId, ReadonlyArray<Run>>,
  server: string
): ScenarioSummary => {
  const partial = scenario.clients.flatMap((client) => {
    const measurements = runs.get(client)
    if (measurements === undefined || measurements.length === 0) {
      return []
    }
    const passed = measurements.filter((m) => m.ok)
    const pick = (f: (m: Measurement) => number): Spread => spread(passed.map(f))
    const others = measurements.flatMap((m) => (m.otherCpuPct === null ? [] : [m.otherCpuPct]))
    // Results written before the server's CPU was measured have no such field.
    const server = passed.flatMap((m) => (typeof m.serverCpuUsPerReq === "number" ? [m.serverCpuUsPerReq] : []))
    return [
      {
        client,
        label: labels[client],
        ok: passed.length === measurements.length,
        errors: measurements.flatMap((m) => (m.error === null ? [] : [m.error])),
        runs: measurements,
        otherCpuPctMax: others.length === 0 ? null : Math.max(...others),
        reqPerSec: pick((m) => m.reqPerSec),
        bytesPerSec: pick((m) => m.bytesPerSec),
        p50Ms: pick((m) => m.p50Ms),
        p99Ms: pick((m) => m.p99Ms),
        cpuUsPerReq: pick((m) => m.cpuUsPerReq),
        serverCpuUsPerReq: server.length === 0 ? null : spread(server),
        maxRssKiB: pick((m) => m.maxRssKiB)
      }
    ]
  })
  const reference = partial.find((c) => c.client === scenario.reference)
  return {
    id: scenario.id,
    title: scenario.title,
    server,
    reference: scenario.reference,
    showBytes: scenario.showBytes,
    clients: partial.map((c) => ({
      ...c,
      ratio:
        c.client.startsWith("httpool") || reference === undefined || c.reqPerSec.median === 0
          ? null
          : reference.reqPerSec.median / c.reqPerSec.median
    }))
  }
}

// targets ----------------------------------------------------------------------------------

const find = (scenarios: ReadonlyArray<ScenarioSummary>, id: string, client: ClientId): ClientSummary | undefined => {
  const found = scenarios.find((s) => s.id === id)?.clients.find((c) => c.client === client)
  return found?.ok ? found : undefined
}

const fixed = (value: number, digits = 2): string => value.toFixed(digits)

/** A measured quantity in one run; a target compares its medians over the runs, and run by run. */
type Metric = (r: Run) => number

const ratioTarget = (
  scenarios: ReadonlyArray<ScenarioSummary>,
  goal: string,
  id: string,
  mine: ClientId,
  peer: ClientId,
  metric: Metric,
  unit: string,
  accept: (ratio: number) => boolean
): Target => {
  const a = find(scenarios, id, mine)
  const b = find(scenarios, id, peer)
  if (a === undefined || b === undefined) {
    return { goal, measured: `not measured (${id})`, runByRun: null, met: null }
  }
  // Both found are ok: every run passed, as the summaries' medians have it.
  const mineMedian = median(a.runs.map(metric))
  const peerMedian = median(b.runs.map(metric))
  const ratio = mineMedian / peerMedian
  const pairs = Math.min(a.runs.length, b.runs.length)
  const ratios = Array.from({ length: pairs }, (_, i) => metric(a.runs[i]) / metric(b.runs[i]))
  return {
    goal,
    measured: `${fixed(ratio)}x (${fixed(mineMedian, unit === "req/s" ? 0 : 2)} vs ${fixed(peerMedian, unit === "req/s" ? 0 : 2)} ${unit})`,
    runByRun: pairs === 0 ? null : `${fixed(median(ratios))}x (${pairs} pairs)`,
    met: accept(ratio)
  }
}

/** httpool's speed targets, each measured from this run's medians. */
export const targets = (scenarios: ReadonlyArray<ScenarioSummary>): ReadonlyArray<Target> => {
  const rps: Metric = (r) => r.reqPerSec
  const rss: Metric = (r) => r.maxRssKiB / 1024
  const bytes: Metric = (r) => r.bytesPerSec
  const p50: Metric = (r) => r.p50Ms
  const atLeast =
    (n: number) =>
    (ratio: number): boolean =>
      ratio >= n
  const atMost =
    (n: number) =>
    (ratio: number): boolean =>
      ratio <= n
  const cpu: Metric = (r) => r.cpuUsPerReq
  const t = (
    label: string,
    scenario: string,
    client: ClientId,
    peer: ClientId,
    metric: Metric,
    unit: string,
    accept: (ratio: number) => boolean
  ) => ratioTarget(scenarios, label, scenario, client, peer, metric, unit, accept)
  return [
    t(
      "PoolManager >= 1.1x undici Pool.request, 64 B, c=16",
      "get64-c16",
      "httpool-manager",
      "undici-pool",
      rps,
      "req/s",
      atLeast(1.1)
    ),
    t(
      "PoolManager >= 1.1x undici Pool.request, 64 B, c=64",
      "get64-c64",
      "httpool-manager",
      "undici-pool",
      rps,
      "req/s",
      atLeast(1.1)
    ),
    t(
      "PoolManager CPU per request <= undici Pool's, 64 B, c=16",
      "get64-c16",
      "httpool-manager",
      "undici-pool",
      cpu,
      "us",
      atMost(1)
    ),
    t(
      "PoolManager p50 latency at c=1 <= undici Pool's",
      "get64-c1",
      "httpool-manager",
      "undici-pool",
      p50,
      "ms",
      atMost(1)
    ),
    t(
      "ConnectionPool >= PoolManager, 64 B, c=16",
      "get64-c16",
      "httpool-pool",
      "httpool-manager",
      rps,
      "req/s",
      atLeast(1)
    ),
    t(
      "HttpClient layer >= 1.7x @effect/platform layerUndici (same program), c=16",
      "get64-c16",
      "httpool-httpclient",
      "effect-undici",
      rps,
      "req/s",
      atLeast(1.7)
    ),
    t(
      "HttpClient layer >= 1.7x @effect/platform layerUndici (same program), c=64",
      "get64-c64",
      "httpool-httpclient",
      "effect-undici",
      rps,
      "req/s",
      atLeast(1.7)
    ),
    t(
      "HttpClient layer >= 2.5x @effect/platform layerUndici, tracing disabled in both, c=16",
      "get64-c16",
      "httpool-httpclient-untraced",
      "effect-undici-untraced",
      rps,
      "req/s",
      atLeast(2.5)
    ),
    t(
      "ConnectionPool >= PoolManager, 64 B, c=1",
      "get64-c1",
      "httpool-pool",
      "httpool-manager",
      rps,
      "req/s",
      atLeast(1)
    ),
    t(
      "HttpClient layer >= 1.7x @effect/platform layerUndici (same program), c=1",
      "get64-c1",
      "httpool-httpclient",
      "effect-undici",
      rps,
      "req/s",
      atLeast(1.7)
    ),
    t(
      "10 MiB preloaded >= undici Pool.request (arrayBuffer)",
      "get10m-c4",
      "httpool-manager",
      "undici-pool",
      bytes,
      "B/s",
      atLeast(1)
    ),
    t(
      "200 origins, numPools 10: PoolManager >= urllib3 (numPools 10)",
      "origins200-np10",
      "httpool-manager",
      "urllib3",
      rps,
      "req/s",
      atLeast(1)
    ),
    t(
      "10 MiB streamed >= undici Pool.request (for await)",
      "stream10m-c4",
      "httpool-manager-stream",
      "undici-pool",
      bytes,
      "B/s",
      atLeast(1)
    ),
    t(
      "peak RSS <= 1.2x undici Pool's, 64 B, c=16",
      "get64-c16",
      "httpool-manager",
      "undici-pool",
      rss,
      "MiB",
      atMost(1.2)
    ),
    t(
      "peak RSS <= 1.2x undici Pool's, 64 B, c=64",
      "get64-c64",
      "httpool-manager",
      "undici-pool",
      rss,
      "MiB",
      atMost(1.2)
    )
  ]
}

// text -------------------------------------------------------------------------------------

const thousands = (value: number): string => Math.round(value).toLocaleString("en-US")

const range = (s: Spread, format: (n: number) => string): string =>
  `${format(s.median)} (${format(s.min)}-${format(s.max)})`

const ms = (n: number): string => n.toFixed(n < 10 ? 2 : 1)
const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0)

/** A markdown table whose columns are padded, so it also reads well in a terminal. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: ReadonlyArray<string>): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n")
}

/** A failure short enough for a table cell; the full text is in the failure list. */
const shorten = (text: string): string => (text.length > 40 ? `${text.slice(0, 39)}…` : text)

const other = (c: ClientSummary): string => (c.otherCpuPctMax === null ? "?" : `${c.otherCpuPctMax.toFixed(0)}%`)

/** The table of one scenario. */
export const scenarioTable = (scenario: ScenarioSummary): string => {
  const header = [
    "client",
    "runs",
    "req/s median (min-max)",
    ...(scenario.showBytes ? ["MiB/s"] : []),
    "p50 ms",
    "p99 ms",
    "CPU us/req",
    "server CPU us/req",
    "peak RSS MiB",
    `${labels[scenario.reference]} / client`,
    "other load"
  ]
  const rows = scenario.clients.map((c) =>
    c.ok
      ? [
          c.label,
          String(c.runs.length),
          range(c.reqPerSec, thousands),
          ...(scenario.showBytes ? [mib(c.bytesPerSec.median)] : []),
          ms(c.p50Ms.median),
          ms(c.p99Ms.median),
          c.cpuUsPerReq.median.toFixed(0),
          c.serverCpuUsPerReq === null ? "?" : c.serverCpuUsPerReq.median.toFixed(0),
          (c.maxRssKiB.median / 1024).toFixed(0),
          c.client === scenario.reference ? "(reference)" : c.ratio === null ? "-" : `${c.ratio.toFixed(2)}x`,
          other(c)
        ]
      : [
          c.label,
          String(c.runs.length),
          `FAILED (${shorten(c.errors[0] ?? "unknown")})`,
          ...(scenario.showBytes ? [""] : []),
          "",
          "",
          "",
          "",
          "",
          "",
          ""
        ]
  )
  return table(header, rows)
}

export const targetsTable = (list: ReadonlyArray<Target>): string =>
  table(
    ["target", "measured (httpool / peer), medians", "run by run", "met"],
    list.map((t) => [t.goal, t.measured, t.runByRun ?? "", t.met === null ? "n/a" : t.met ? "yes" : "no"])
  )

/** How many runs a scenario's clients had: "3", or "3 or 5" when some ran more often. */
const runCounts = (scenario: ScenarioSummary): string =>
  [...new Set(scenario.clients.map((c) => c.runs.length))].sort((a, b) => a - b).join(" or ")

/** The whole report as the terminal shows it. */
export const consoleText = (report: Report): string =>
  [
    ...report.scenarios.map(
      (s) =>
        `\n${s.title} [${s.id}], medians of ${runCounts(s)} run(s)${s.server === undefined ? "" : `, answered by ${s.server}`}\n${scenarioTable(s)}`
    ),
    `\nhttpool's speed targets\n${targetsTable(report.targets)}`,
    ...(report.skipped.length > 0 ? [`\nNot measured: ${report.skipped.join("; ")}`] : [])
  ].join("\n")

export const notesStart = "<!-- notes:start -->"
export const notesEnd = "<!-- notes:end -->"

/** The hand-written notes of an existing `docs/performance.md`, kept across runs. */
export const existingNotes = (document: string | null): string | null => {
  if (document === null) {
    return null
  }
  const start = document.indexOf(notesStart)
  const end = document.indexOf(notesEnd)
  return start >= 0 && end > start ? document.slice(start + notesStart.length, end).trim() : null
}

/** `docs/performance.md`: generated, except the notes between the markers. */
export const markdown = (report: Report, notes: string | null): string =>
  [
    "# Performance",
    "",
    "<!-- Generated by `npm run bench` (packages/bench/src/report.ts). A full run rewrites",
    "     everything except the notes between the notes markers, which are kept. -->",
    "",
    `Measured on ${report.date.slice(0, 10)} by \`npm run bench\` in one run of ${report.durationSeconds.toFixed(0)} s: ` +
      `every client against the same server, ${report.runs} interleaved runs each${
        report.scenarios.some((s) => s.clients.some((c) => c.runs.length > report.runs))
          ? " (the clients of the 64 B targets take more turns, seconds apart, in warm processes: each table's runs column)"
          : ""
      }, medians with min-max. ` +
      "Only ratios taken in one run mean much: two runs on these shared machines differ by up to 20%.",
    "",
    report.noise,
    "",
    "## Where httpool stands",
    "",
    "httpool's speed targets, from this run's medians (whether a target is met), and, beside them, the " +
      "median of the run-by-run ratios: each client's i-th run against its peer's, taken in the same " +
      "round of turns (or turn of the matrix), so that a drift of the host's speed falls on both.",
    "",
    targetsTable(report.targets),
    "",
    "## Notes",
    "",
    notesStart,
    notes ?? "No notes yet.",
    notesEnd,
    "",
    "## Results",
    "",
    "req/s with min-max over the runs; latency, CPU and RSS are medians over the runs. The ratio",
    "column is the reference httpool client's req/s divided by the row's (above 1: httpool is faster).",
    '"other load" is the most CPU that processes other than the bench\'s own used during one of the',
    "row's runs, in percent of one core: these machines are shared, and a high value marks a row",
    "whose numbers are suspect.",
    "",
    ...report.scenarios.flatMap((s) => [
      `### ${s.title}`,
      "",
      ...(s.server === undefined ? [] : [`Answered by ${s.server}.`, ""]),
      scenarioTable(s),
      ""
    ]),
    ...(report.failures.length > 0
      ? ["### Failures in this run", "", ...report.failures.map((f) => `- ${f}`), ""]
      : []),
    "## How to run",
    "",
    "```sh",
    "npm run bench                                 # build, then the full suite (about 18 minutes): rewrites this page",
    "npm run bench -- --quick                      # a few thousand requests per client, ~25 s; checks, does not time",
    "npm run bench -- --scenarios get64-c16 --clients httpool-manager,undici-pool --runs 1",
    "npm run bench -- --node 24                    # the Node clients on Node 24 (fetched once from the npm registry)",
    "```",
    "",
    "Every run prints the tables and writes `packages/bench/results/<latest|quick|partial>.json`; only a",
    "full run (no `--quick`, `--scenarios` or `--clients`) rewrites this page and `latest.json`. The suite",
    "exits non-zero when a client fails or a response is wrong, never because something is slow.",
    "Without `--runs`, the clients of the 64 B speed targets take eight turns, seconds apart, in warm",
    "processes of their own, and the others run three times (partial runs included); `--runs N` runs every",
    "client N times, each in a fresh process.",
    "`--node 24` runs every Node client (httpool and its Node peers, so the ratios compare like with like)",
    "on Node 24 while the server stays on the machine's Node, and writes `results/<mode>-node24.json`",
    "beside this Node's results without touching this page: compare its ratios with the tables here to see",
    "whether an upgrade changes them.",
    'Close other work first: the "other load" column shows how much it disturbed the run.',
    "",
    "## Method",
    "",
    ...report.method.map((m) => `- ${m}`),
    "",
    "Not measured in this run:",
    "",
    ...(report.skipped.length > 0 ? report.skipped.map((s) => `- ${s}`) : ["- nothing"]),
    "",
    "## Machine and versions",
    "",
    table(
      ["", "value"],
      [...Object.entries(report.machine), ...Object.entries(report.versions)].map(([k, v]) => [k, v])
    ),
    ""
  ].join("\n")
