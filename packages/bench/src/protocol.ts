/**
 * What the orchestrator (`main.ts`), the target server (`server.ts`) and the client
 * processes (`client.ts`, `python/urllib3_client.py`) say to each other. Every message is
 * plain JSON, so the python client reads and writes the same shapes.
 */

/** Every client the suite knows, by id. */
export type ClientId =
  | "httpool-pool"
  | "httpool-manager"
  | "httpool-manager-stream"
  | "httpool-proxy"
  | "httpool-httpclient"
  | "httpool-httpclient-untraced"
  | "undici-pool"
  | "undici-pool-headers"
  | "undici-agent"
  | "undici-proxy"
  | "node-http"
  | "axios"
  | "effect-undici"
  | "effect-undici-untraced"
  | "effect-node"
  | "urllib3"
  | "urllib3-proxy"
  | "httpool-socks"
  | "undici-socks"
  | "urllib3-socks"
  | "httpool-capped"
  | "node-http-capped"

/** How many requests and how long a load phase may take; it stops at whichever comes first. */
export interface Bounds {
  readonly requests: number
  readonly millis: number
}

/**
 * The warm-up: slices of `sliceMillis`, run until the throughput stops growing (the last
 * `window` slices together are within `settle` of the `window` before them) once `minMillis`
 * have passed and `minRequests` requests were made, and at most `maxMillis` or `requests`
 * requests. Effect programs need seconds of it before V8 has optimised them; plain Promise
 * clients settle in about a second.
 */
export interface WarmUp {
  readonly minMillis: number
  readonly maxMillis: number
  readonly sliceMillis: number
  readonly window: number
  /** Growth below which the throughput counts as settled, e.g. 0.05 for 5%. */
  readonly settle: number
  readonly requests: number
  /**
   * Requests before the throughput may count as settled (0 when absent). V8 optimises by how
   * often code ran, not by time: at concurrency 1 an Effect program's rate creeps up for
   * 20,000 requests, slowly enough to look settled slice by slice.
   */
  readonly minRequests?: number
}

/** The work one client process does: the same for every client of a scenario. */
export interface Job {
  readonly client: ClientId
  readonly scenario: string
  readonly method: "GET" | "POST"
  /** Origins (`http://127.0.0.1:port`), used round robin: request `i` goes to `origins[i % length]`. */
  readonly origins: ReadonlyArray<string>
  readonly path: string
  /** Bytes of the request body (POST), 0 for none. The body is `requestBodyByte` repeated. */
  readonly requestBodySize: number
  /** The status every response must have. */
  readonly expectedStatus: number
  /** The body length every response must have. */
  readonly expectedLength: number
  readonly concurrency: number
  /** The PoolManager's `numPools` (urllib3's `num_pools`) for clients that have one. */
  readonly numPools: number
  /** Read the body as a stream, counting bytes, instead of buffering it. */
  readonly stream: boolean
  /** The forward/CONNECT proxy (`http://127.0.0.1:port`) or SOCKS proxy (`socks5://`) for the proxy clients, else null. */
  readonly proxy: string | null
  /** PEM of the CA that signed the https target's certificate, for the proxy clients. */
  readonly caPem: string | null
  readonly warmup: WarmUp
  readonly measure: Bounds
  /** The target server's process id, whose CPU time the client reads around its measured phase; null when unknown. */
  readonly serverPid: number | null
  /**
   * Measured phases after the one warm-up (Node clients): after each but the last the client
   * sends a `Turn` and waits for a `NextTurn`, so that the orchestrator can give the other
   * clients of the scenario their turns in between. Default 1: one phase, then the reply.
   */
  readonly turns?: number
}

/** A measured phase of a job with turns, other than its last (which is the reply). */
export interface Turn {
  readonly type: "turn"
  readonly measurement: Measurement
}

/** The orchestrator's word to a waiting client: take the next turn. */
export interface NextTurn {
  readonly type: "next"
}

/** The byte a request body is made of. */
export const requestBodyByte = 0x71

/** What one client process measured, or why it failed. */
export interface Measurement {
  readonly ok: boolean
  /** How long the warm-up took until the throughput settled (or its limit), in milliseconds. */
  readonly warmupMs: number
  /** The first failure (an error, or the first wrong response), null when none. */
  readonly error: string | null
  /** Requests completed in the measured phase. */
  readonly requests: number
  /** Responses with the wrong status or length (any makes the run fail). */
  readonly wrong: number
  readonly elapsedMs: number
  readonly reqPerSec: number
  /** Response body bytes read per second. */
  readonly bytesPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** User plus system CPU time of the client process per measured request, in microseconds. */
  readonly cpuUsPerReq: number
  /**
   * CPU time of the target server process per measured request, in microseconds (from /proc, in
   * 10 ms ticks); null when /proc or the server's pid is not at hand. Beside the req/s it says
   * how busy the server was: a server near a whole core sets the pace, whatever the client.
   */
  readonly serverCpuUsPerReq: number | null
  /** Peak resident set size of the client process, in KiB. */
  readonly maxRssKiB: number
  /** CPU time of the whole client process (start-up and warm-up included), in milliseconds. */
  readonly processCpuMs: number
}

/** A measurement with what the orchestrator saw around it. */
export interface Run extends Measurement {
  /**
   * CPU time used by processes other than the server and the client while the client ran,
   * in percent of one core (the machine is shared: a high value flags a noisy run); null
   * when /proc is not readable.
   */
  readonly otherCpuPct: number | null
}

/** The ports the target server listens on. */
export interface ServerReady {
  readonly type: "ready"
  /** The main http port. */
  readonly port: number
  /** 200 http ports (the first is `port`), for the many-origins scenarios. */
  readonly originPorts: ReadonlyArray<number>
  /** An https port (certificate signed by the CA the orchestrator made). */
  readonly httpsPort: number
  /** A forward/CONNECT proxy (the `proxy` package). */
  readonly proxyPort: number
}

/** The orchestrator's first message to the server. */
export interface ServerStart {
  readonly type: "start"
  readonly origins: number
  readonly certPem: string
  readonly keyPem: string
  /** The server exits by itself after this many milliseconds. */
  readonly lifetimeMs: number
}

/** Paths the target server answers. */
export const paths = {
  /** 64 bytes. */
  small: "/64",
  /** 64 KiB. */
  large: "/64k",
  /** 10 MiB, written in 64 KiB chunks. */
  huge: "/10m",
  /** POST: 200 and 64 bytes when the body has exactly the size in the path and is all `requestBodyByte`, else 400. */
  upload: (size: number): string => `/upload/${size}`
} as const

export const sizes = {
  small: 64,
  large: 64 * 1024,
  huge: 10 * 1024 * 1024,
  upload: 16 * 1024
} as const
