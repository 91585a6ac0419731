/**
 * The scenarios of the suite, the clients that run each, and the bounds of their phases in
 * the full and `--quick` modes.
 */
import { type Bounds, type ClientId, paths, sizes, type WarmUp } from "./protocol.js"

/** Where a scenario's requests go. */
export type Target = "one-origin" | "many-origins" | "https-via-proxy" | "https-via-socks"

export interface Scenario {
  readonly id: string
  readonly title: string
  readonly method: "GET" | "POST"
  readonly path: string
  readonly requestBodySize: number
  readonly expectedLength: number
  readonly concurrency: number
  /** numPools of the clients that have one (PoolManager, urllib3). */
  readonly numPools: number
  readonly target: Target
  /** Origins of a many-origins target. Default 200. */
  readonly origins?: number
  /** Peers read bodies as streams (httpool's own clients are fixed: preloaded or streamed by id). */
  readonly streamed: boolean
  /** The httpool client whose throughput the ratios divide. */
  readonly reference: ClientId
  readonly clients: ReadonlyArray<ClientId>
  /**
   * Clients that take `runs` turns in the full mode (without `--runs`) instead of the matrix's
   * runs: those whose medians decide httpool's 64 B speed targets. They warm up once each and
   * then measure one after the other, turn by turn (`runTurns` in `main.ts`), so that a swing
   * of the host's speed (up to 2x within seconds) falls on a client and its peer alike.
   */
  readonly moreRuns?: { readonly runs: number; readonly clients: ReadonlyArray<ClientId> }
  /**
   * "nginx": a one-origin scenario answered by nginx when it is installed (`nginx.ts`), by the
   * node:http server otherwise. Default: the node:http server.
   */
  readonly server?: "nginx"
  /** Part of `--quick`. */
  readonly quick: boolean
  /** Show body throughput (MiB/s) in the tables. */
  readonly showBytes: boolean
  readonly full: { readonly warmup: WarmUp; readonly measure: Bounds }
  readonly quickBounds: { readonly warmup: WarmUp; readonly measure: Bounds }
}

/** Human names of the clients, as the tables print them. */
export const labels: Readonly<Record<ClientId, string>> = {
  "httpool-pool": "httpool ConnectionPool",
  "httpool-manager": "httpool PoolManager",
  "httpool-manager-stream": "httpool PoolManager (streamed)",
  "httpool-proxy": "httpool ProxyManager",
  "httpool-httpclient": "httpool NodeHttpClient.layer",
  "httpool-httpclient-untraced": "httpool NodeHttpClient.layer, tracing off",
  "undici-pool": "undici Pool.request",
  "undici-pool-headers": "undici Pool.request, httpool's headers",
  "undici-agent": "undici Agent (request)",
  "undici-proxy": "undici ProxyAgent",
  "node-http": "node:http keep-alive Agent",
  axios: "axios (keep-alive Agent)",
  "effect-undici": "@effect/platform layerUndici",
  "effect-undici-untraced": "@effect/platform layerUndici, tracing off",
  "effect-node": "@effect/platform layer (node:http)",
  urllib3: "urllib3 PoolManager (threads)",
  "urllib3-proxy": "urllib3 ProxyManager (threads)",
  "httpool-socks": "httpool ProxyManager (socks5)",
  "undici-socks": "undici Socks5ProxyAgent",
  "urllib3-socks": "urllib3 SOCKSProxyManager (threads)",
  "httpool-capped": "httpool PoolManager (maxTotalConnections 32)",
  "node-http-capped": "node:http Agent (maxTotalSockets 32)"
}

/** Clients that run in python3 with urllib3. */
export const pythonClients: ReadonlySet<ClientId> = new Set<ClientId>(["urllib3", "urllib3-proxy", "urllib3-socks"])

/** Whether a client reads bodies as streams in a scenario. */
export const streams = (client: ClientId, scenario: Scenario): boolean =>
  client === "httpool-manager-stream"
    ? true
    : client === "httpool-manager" || client === "httpool-pool" || client === "httpool-proxy"
      ? false
      : scenario.streamed

const peers: ReadonlyArray<ClientId> = [
  "undici-pool",
  "undici-agent",
  "node-http",
  "axios",
  "effect-undici",
  "effect-node",
  "urllib3"
]

const tableAndAdapter: ReadonlyArray<ClientId> = [
  "httpool-manager",
  "httpool-httpclient",
  "undici-pool",
  "undici-agent",
  "node-http",
  "axios",
  "effect-undici",
  "urllib3"
]

/**
 * Every single-origin client: the above, the ConnectionPool (to see what the manager costs),
 * the streamed PoolManager (what streaming costs) and @effect/platform over node:http.
 */
const singleOriginAll: ReadonlyArray<ClientId> = [
  "httpool-pool",
  "httpool-manager",
  "httpool-manager-stream",
  "httpool-httpclient",
  ...peers
]

// The other scenarios keep one client of each kind, so that the suite fits in ~8 minutes.

const large: ReadonlyArray<ClientId> = [
  "httpool-pool",
  "httpool-manager",
  "undici-pool",
  "node-http",
  "axios",
  "effect-undici",
  "urllib3"
]

const manyOrigins: ReadonlyArray<ClientId> = [
  "httpool-manager",
  "httpool-httpclient",
  "undici-agent",
  "node-http",
  "axios",
  "effect-undici",
  "urllib3"
]

const upload: ReadonlyArray<ClientId> = [
  "httpool-manager",
  "undici-pool",
  "node-http",
  "axios",
  "effect-undici",
  "urllib3"
]

const download: ReadonlyArray<ClientId> = [
  "httpool-manager-stream",
  "httpool-manager",
  "undici-pool",
  "node-http",
  "axios",
  "effect-undici",
  "urllib3"
]

const tunnel: ReadonlyArray<ClientId> = ["httpool-proxy", "undici-proxy", "urllib3-proxy"]

/**
 * The time-bound scenarios' bounds. The warm-up counts as settled only after 20,000 requests:
 * at concurrency 1 an @effect/platform program (over httpool or undici) ran at a third of its
 * steady speed after the 1.8 s a time-only rule gave it, and reached it after about 6 s.
 */
const fullBounds = {
  warmup: {
    minMillis: 1_000,
    maxMillis: 6_000,
    sliceMillis: 200,
    window: 3,
    settle: 0.08,
    requests: 200_000,
    minRequests: 20_000
  },
  measure: { requests: 100_000, millis: 500 }
} as const
/**
 * The warm-up of the time-bound scenarios when the clients run on Node 22 or later. Their V8
 * compiles hot code with Maglev first and with Turbofan only seconds later; until then every
 * function literal code stores into a property is allocated in the old generation (Effect's
 * `Effect.async` and masks make one per call), and each keeps what its context reaches past
 * young collections until a full one, so GC costs an Effect client several times what it costs
 * in steady state (docs/performance.md, "Fifth pass"). From about 4 s on, both httpool and
 * undici run at their steady speed.
 */
const lateTierUpWarmup = { minMillis: 4_500, maxMillis: 7_000 } as const

/**
 * A scenario's full bounds for clients on Node `major`: the default warm-up is lengthened on
 * Node 22 and later (see `lateTierUpWarmup`); scenarios with a warm-up of their own keep it.
 */
export const fullBoundsFor = (scenario: Scenario, major: number): Scenario["full"] =>
  major >= 22 && scenario.full === fullBounds
    ? { warmup: { ...fullBounds.warmup, ...lateTierUpWarmup }, measure: fullBounds.measure }
    : scenario.full

const quickBounds = {
  warmup: { minMillis: 150, maxMillis: 150, sliceMillis: 150, window: 1, settle: 0.05, requests: 300 },
  measure: { requests: 2_000, millis: 400 }
} as const

const base = {
  method: "GET",
  path: paths.small,
  requestBodySize: 0,
  expectedLength: sizes.small,
  numPools: 10,
  target: "one-origin",
  streamed: false,
  reference: "httpool-manager",
  clients: tableAndAdapter,
  quick: false,
  showBytes: false,
  full: fullBounds,
  quickBounds
} as const

export const scenarios: ReadonlyArray<Scenario> = [
  {
    ...base,
    id: "get64-c1",
    server: "nginx",
    title: "1 origin, GET 64 B, concurrency 1",
    concurrency: 1,
    clients: ["httpool-pool", ...tableAndAdapter, "undici-pool-headers"],
    moreRuns: {
      runs: 8,
      clients: ["httpool-pool", "httpool-manager", "httpool-httpclient", "undici-pool", "effect-undici"]
    }
  },
  {
    ...base,
    id: "get64-c16",
    server: "nginx",
    title: "1 origin, GET 64 B, concurrency 16",
    concurrency: 16,
    clients: [...singleOriginAll, "httpool-httpclient-untraced", "effect-undici-untraced", "undici-pool-headers"],
    moreRuns: {
      runs: 8,
      clients: [
        "httpool-pool",
        "httpool-manager",
        "httpool-httpclient",
        "undici-pool",
        "effect-undici",
        "httpool-httpclient-untraced",
        "effect-undici-untraced"
      ]
    },
    quick: true
  },
  {
    ...base,
    id: "get64-c64",
    server: "nginx",
    title: "1 origin, GET 64 B, concurrency 64",
    concurrency: 64,
    clients: [...tableAndAdapter, "undici-pool-headers"],
    moreRuns: { runs: 8, clients: ["httpool-manager", "httpool-httpclient", "undici-pool", "effect-undici"] }
  },
  {
    ...base,
    id: "get64k-c16",
    title: "1 origin, GET 64 KiB, concurrency 16",
    path: paths.large,
    expectedLength: sizes.large,
    concurrency: 16,
    clients: large,
    showBytes: true
  },
  {
    ...base,
    id: "origins200-np200",
    title: "200 origins round robin, GET 64 B, concurrency 16, numPools 200",
    target: "many-origins",
    concurrency: 16,
    numPools: 200,
    clients: manyOrigins
  },
  {
    ...base,
    id: "origins200-np10",
    title: "200 origins round robin, GET 64 B, concurrency 16, numPools 10",
    target: "many-origins",
    concurrency: 16,
    numPools: 10,
    clients: ["httpool-manager", "urllib3"],
    quick: true,
    // V8 optimises pool churn late: warmed by request count (30,000), 15 s at most.
    full: {
      warmup: { minMillis: 15_000, maxMillis: 15_000, sliceMillis: 500, window: 1, settle: 0.05, requests: 30_000 },
      measure: fullBounds.measure
    },
    quickBounds: {
      warmup: { minMillis: 150, maxMillis: 150, sliceMillis: 150, window: 1, settle: 0.05, requests: 100 },
      measure: { requests: 1_000, millis: 400 }
    }
  },
  {
    ...base,
    id: "post16k-c16",
    title: "1 origin, POST 16 KiB (64 B answer), concurrency 16",
    method: "POST",
    path: paths.upload(sizes.upload),
    requestBodySize: sizes.upload,
    concurrency: 16,
    clients: upload,
    quick: true
  },
  {
    ...base,
    id: "stream10m-c4",
    title: "1 origin, GET 10 MiB read as a stream, concurrency 4",
    path: paths.huge,
    expectedLength: sizes.huge,
    concurrency: 4,
    streamed: true,
    reference: "httpool-manager-stream",
    clients: download,
    showBytes: true,
    // Warmed for seconds, not 8 requests: after 400 ms every client still ran at half its
    // steady speed (both httpool's and undici's doubled with a longer warm-up, 2026-12-06).
    full: {
      warmup: { minMillis: 2_000, maxMillis: 3_000, sliceMillis: 500, window: 1, settle: 0.05, requests: 60 },
      measure: { requests: 400, millis: 2_000 }
    },
    quickBounds: {
      warmup: { minMillis: 150, maxMillis: 150, sliceMillis: 150, window: 1, settle: 0.05, requests: 4 },
      measure: { requests: 12, millis: 400 }
    }
  },
  {
    ...base,
    id: "get10m-c4",
    title: "1 origin, GET 10 MiB preloaded, concurrency 4",
    path: paths.huge,
    expectedLength: sizes.huge,
    concurrency: 4,
    clients: ["httpool-manager", "undici-pool", "node-http", "urllib3"],
    showBytes: true,
    // Warmed for seconds, not 8 requests: after 400 ms every client still ran at half its
    // steady speed (both httpool's and undici's doubled with a longer warm-up, 2026-12-06).
    full: {
      warmup: { minMillis: 2_000, maxMillis: 3_000, sliceMillis: 500, window: 1, settle: 0.05, requests: 60 },
      measure: { requests: 400, millis: 2_000 }
    },
    quickBounds: {
      warmup: { minMillis: 150, maxMillis: 150, sliceMillis: 150, window: 1, settle: 0.05, requests: 4 },
      measure: { requests: 12, millis: 400 }
    }
  },
  {
    ...base,
    id: "connect-c16",
    title: "https 64 B through a local CONNECT proxy (the proxy package), concurrency 16",
    target: "https-via-proxy",
    concurrency: 16,
    reference: "httpool-proxy",
    clients: tunnel,
    quick: true
  },
  {
    ...base,
    id: "socks5-c16",
    title: "https 64 B through a local SOCKS5 proxy (Debian's dante), concurrency 16",
    target: "https-via-socks",
    concurrency: 16,
    reference: "httpool-socks",
    clients: ["httpool-socks", "undici-socks", "urllib3-socks"]
  },
  {
    ...base,
    id: "origins2000-cap32",
    title: "2,000 origins round robin, GET 64 B, concurrency 64, at most 32 connections",
    target: "many-origins",
    origins: 2000,
    concurrency: 64,
    numPools: 2000,
    reference: "httpool-capped",
    clients: ["httpool-capped", "node-http-capped"],
    full: {
      warmup: { minMillis: 2_000, maxMillis: 5_000, sliceMillis: 500, window: 2, settle: 0.1, requests: 20_000 },
      measure: { requests: 20_000, millis: 2_000 }
    }
  }
]
