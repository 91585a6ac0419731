// The CPU httpool's own code spends per request, without sockets: a Connector that answers
// every request at once with a 64-byte body. Run after `npm run build`:
//
//   node packages/bench/prof/core.mjs            # W=manager (default), pool, stream, streamread, httpclient,
//                                                #   httpclient-untraced, churn,
//                                                #   big (a 10 MiB body in 160 chunks of 64 KiB, read as a stream)
//   W=httpclient N=50000 node packages/bench/prof/core.mjs
//   W=pool node --cpu-prof packages/bench/prof/core.mjs   # then open the .cpuprofile
//   COUNT=1 node packages/bench/prof/core.mjs      # also Effect instructions and bytes allocated per request
//   COUNT=1 HIST=1 node packages/bench/prof/core.mjs   # and which instructions, most frequent first
//   COUNT=1 ALLOC=1 node packages/bench/prof/core.mjs  # and where the bytes are allocated, most first
//
// It prints microseconds per request (wall time, one fiber, so also CPU time). Only the
// real suite (`npm run bench`) measures httpool against its peers; this isolates the part
// that is httpool's.
import * as ConnectionPool from "@httpool/core/ConnectionPool"
import * as Connector from "@httpool/core/Connector"
import * as ContentDecoder from "@httpool/core/ContentDecoder"
import * as inspector from "node:inspector/promises"
import * as HttpClient from "@httpool/core/HttpClient"
import * as PoolManager from "@httpool/core/PoolManager"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as RuntimeFlags from "effect/RuntimeFlags"
import * as RuntimeFlagsPatch from "effect/RuntimeFlagsPatch"
import * as Stream from "effect/Stream"
import * as Supervisor from "effect/Supervisor"

const requests = Number(process.env.N ?? 200_000)
const mode = process.env.W ?? "manager"
const body = new Uint8Array(64)
const rawHeaders = ["content-type", "text/plain", "content-length", "64", "connection", "keep-alive"]

/**
 * A response as NodeConnector hands over a small one: its whole body with its head (a
 * streamed request too, since the body came in the head's packet).
 */
const chunk64k = new Uint8Array(64 * 1024)
const bigChunks = 160

/**
 * A 10 MiB body as NodeConnector hands over a large one: its head first, then each 64 KiB
 * chunk read in turn, the last few queued at once.
 */
const bigAnswer = () => {
  let left = bigChunks
  const read = Effect.sync(() => (left-- > 0 ? chunk64k : null))
  // As NodeConnector's `readMany` when the reader falls behind: up to 4 chunks at a time.
  const readMany = Effect.sync(() => {
    if (left <= 0) return null
    const n = Math.min(left, 4)
    left -= n
    return Array.from({ length: n }, () => chunk64k)
  })
  return { status: 200, reason: "OK", headers: rawHeaders, body: null, read, readMany, abort: Effect.void }
}

const answer = (request) =>
  mode === "big" && !request.preload
    ? bigAnswer()
    : {
        status: 200,
        reason: "OK",
        headers: rawHeaders,
        body,
        read: Effect.succeed(null),
        abort: Effect.void
      }

let connections = 0
const connector = Layer.merge(
  Layer.succeed(Connector.Connector, {
    open: () => ({
      id: ++connections,
      send: (request) => Effect.sync(() => answer(request)),
      begin: (request, resume) => {
        resume(Effect.succeed(answer(request)))
        return undefined
      },
      isConnected: () => true,
      close: Effect.void
    })
  }),
  Layer.succeed(ContentDecoder.ContentDecoder, ContentDecoder.identity)
)

const check = (length) => {
  if (length !== 64) throw new Error(`expected 64 bytes, got ${length}`)
}

/** The request of each mode, as an Effect to run `requests` times. */
const setup = Effect.gen(function* () {
  const url = "http://127.0.0.1:18081/x"
  switch (mode) {
    case "pool": {
      const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: 18081 })
      return () => Effect.map(pool.request("GET", "/x"), (r) => check(r.data.length))
    }
    case "stream": {
      const manager = yield* PoolManager.make()
      return () =>
        Effect.scoped(
          Effect.flatMap(manager.request("GET", url, { preloadContent: false }), (r) =>
            Effect.map(r.data, (data) => check(data.length))
          )
        )
    }
    case "streamread": {
      const manager = yield* PoolManager.make()
      return () =>
        Effect.scoped(
          Effect.flatMap(manager.request("GET", url, { preloadContent: false }), (r) =>
            Effect.map(
              Stream.runFold(r.stream, 0, (n, chunk) => n + chunk.length),
              check
            )
          )
        )
    }
    case "big": {
      const manager = yield* PoolManager.make()
      return () =>
        Effect.scoped(
          Effect.flatMap(manager.request("GET", url, { preloadContent: false }), (r) =>
            Effect.map(
              Stream.runFold(r.stream, 0, (n, chunk) => n + chunk.length),
              (length) => {
                if (length !== bigChunks * chunk64k.length) throw new Error(`expected 10 MiB, got ${length}`)
              }
            )
          )
        )
    }
    case "httpclient": {
      const client = HttpClient.make(yield* PoolManager.make())
      return () => Effect.flatMap(client.get(url), (r) => Effect.map(r.arrayBuffer, (b) => check(b.byteLength)))
    }
    case "httpclient-untraced": {
      const client = HttpClient.make(yield* PoolManager.make())
      return () =>
        Effect.withTracerEnabled(
          Effect.flatMap(client.get(url), (r) => Effect.map(r.arrayBuffer, (b) => check(b.byteLength))),
          false
        )
    }
    case "churn": {
      // 200 origins round robin through 10 pools: every request makes a pool and evicts one.
      const manager = yield* PoolManager.make({ numPools: 10 })
      const urls = Array.from({ length: 200 }, (_, i) => `http://127.0.0.1:${20000 + i}/x`)
      return (i) => Effect.map(manager.request("GET", urls[i % 200]), (r) => check(r.data.length))
    }
    default: {
      const manager = yield* PoolManager.make()
      return () => Effect.map(manager.request("GET", url), (r) => check(r.data.length))
    }
  }
})

/** Counts the instructions the fiber runtime executes (every op goes through `onEffect`). */
class OpCounter extends Supervisor.AbstractSupervisor {
  ops = 0
  value = Effect.void
  /** With HIST=1: how often each instruction ran, by its op code and the source of its function. */
  hist = process.env.HIST === "1" ? new Map() : null
  onEffect(_fiber, effect) {
    this.ops++
    if (this.hist === null) return
    const fn =
      typeof effect.effect_instruction_i0 === "function" ? effect.effect_instruction_i0 : effect.effect_instruction_i1
    const what = `${effect._op} ${typeof fn === "function" ? fn.toString().replace(/\s+/g, " ").slice(0, 100) : ""}`
    this.hist.set(what, (this.hist.get(what) ?? 0) + 1)
  }
}

/** Effect instructions and bytes allocated per request, over `count` requests. */
const counted = (request, count) =>
  Effect.gen(function* () {
    const counter = new OpCounter()
    const loop = Effect.gen(function* () {
      for (let i = 0; i < count; i++) yield* request(i)
    })
    yield* loop.pipe(
      Effect.supervised(counter),
      Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
    )
    // V8's sampling heap profiler, keeping what the young and old collections freed, sums
    // (a sample of) every allocation.
    const session = new inspector.Session()
    session.connect()
    yield* Effect.promise(() => session.post("HeapProfiler.enable"))
    yield* Effect.promise(() =>
      session.post("HeapProfiler.startSampling", {
        samplingInterval: 256,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true
      })
    )
    yield* loop
    const { profile } = yield* Effect.promise(() => session.post("HeapProfiler.stopSampling"))
    session.disconnect()
    let bytes = 0
    const sites = new Map()
    const walk = (node) => {
      bytes += node.selfSize
      if (node.selfSize > 0) {
        const { functionName, url, lineNumber } = node.callFrame
        const site = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`
        sites.set(site, (sites.get(site) ?? 0) + node.selfSize)
      }
      for (const child of node.children ?? []) walk(child)
    }
    walk(profile.head)
    if (process.env.ALLOC === "1") {
      for (const [site, n] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
        console.log(`${(n / count).toFixed(0).padStart(6)} B ${site}`)
      }
    }
    if (counter.hist !== null) {
      for (const [what, n] of [...counter.hist].sort((a, b) => b[1] - a[1])) {
        console.log(`${(n / count).toFixed(2).padStart(6)} ${what}`)
      }
    }
    console.log(
      `${mode}: ${(counter.ops / count).toFixed(1)} Effect instructions and ${(bytes / count / 1024).toFixed(1)} KiB allocated per request`
    )
  })

const program = Effect.gen(function* () {
  const request = yield* setup
  const count =
    mode === "big"
      ? Math.min(requests, 500)
      : mode === "churn" || mode.startsWith("httpclient") || mode === "streamread"
        ? Math.min(requests, 50_000)
        : requests
  const loop = Effect.gen(function* () {
    for (let i = 0; i < count; i++) yield* request(i)
  })
  yield* loop // warm-up
  const started = performance.now()
  yield* loop
  const micros = ((performance.now() - started) / count) * 1000
  console.log(`${mode}: ${micros.toFixed(2)} us per request (${count} requests)`)
  if (process.env.COUNT === "1") yield* counted(request, Math.min(count, 20_000))
})

await Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(connector)))
