/**
 * The soak: mixed load for a fixed time through one PoolManager over 8 chaos origins with
 * `numPools` 4 (so pools are evicted all the time), the origins' faults at their default
 * rates and some requests interrupted. It samples the process every `every` seconds and
 * judges at the end whether memory or sockets grew without bound.
 *
 * `npm run soak` runs it for five minutes (`main.ts`); a 20-second smoke runs in `npm run test:stress`.
 */
import { PoolManager } from "@httpool/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import * as NodeConnector from "../../src/NodeConnector.js"
import * as Chaos from "../utils/chaos.js"
import { chaosOptions, drawRequest, heapAfterGc, send } from "../utils/chaosClient.js"

/** Options of {@link run}. */
export interface SoakOptions {
  /** How long the load runs. Default 300. */
  readonly seconds?: number
  /** Seconds between samples. Default 10. */
  readonly every?: number
  /** Concurrent fibers sending requests. Default 32. */
  readonly fibers?: number
  /** Where each sample line goes. Default `console.log`. */
  readonly print?: (line: string) => void
  /** The faults' seed. Default `CHAOS_SEED` or a random one. */
  readonly seed?: number
}

/** The state of the process at one moment of the soak. */
export interface Sample {
  readonly seconds: number
  readonly requests: number
  /** Heap in use after a full collection, in bytes. */
  readonly heap: number
  readonly rss: number
  /** Sockets open on the origins' side (each is one of the client's). */
  readonly sockets: number
  readonly pools: number
}

/** What a soak did and whether it held. */
export interface SoakReport {
  readonly seed: number
  readonly samples: ReadonlyArray<Sample>
  readonly requests: number
  /** Endings by kind: `ok`, `interrupted`, or an error's tag. */
  readonly endings: Readonly<Record<string, number>>
  /** Sockets still open on the origins once the manager's Scope closed (must be 0). */
  readonly socketsAfterClose: number
  /** Why the soak failed; empty when it held. */
  readonly failures: ReadonlyArray<string>
}

const MiB = 2 ** 20
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`

/**
 * Upper bounds of a healthy soak. While requests run, at most `fibers` connections are busy,
 * and a pool keeps at most `maxsize` (4) idle ones. An evicted pool keeps its connections
 * until its last lease ends (eviction never breaks a request in flight), so besides the
 * `numPools` (4) live pools, up to one evicted pool per running request holds idle ones too:
 * at most `fibers + (fibers + numPools) * maxsize` sockets. Once the load has stopped, only the
 * live pools' idle connections remain: `numPools * maxsize`. Memory may grow past its first
 * sample by warm-up and fragmentation, not by an amount that keeps rising with the requests
 * sent.
 */
const limits = (fibers: number) => ({
  sockets: fibers + (fibers + 4) * 4,
  socketsAtRest: 4 * 4,
  heapGrowth: (first: number) => Math.max(32 * MiB, first * 0.5),
  rssGrowth: (first: number) => Math.max(128 * MiB, first * 0.5)
})

/** Runs the soak and reports; never fails (the report says what went wrong). */
export const run = (options: SoakOptions = {}): Effect.Effect<SoakReport> =>
  Effect.gen(function* () {
    const seconds = options.seconds ?? 300
    const every = options.every ?? 10
    const fibers = options.fibers ?? 32
    const print = options.print ?? ((line: string) => console.log(line))
    const seed = options.seed ?? Chaos.seedFromEnv()
    const ledger = Chaos.makeLedger(seed, Chaos.defaultWeights, false)
    const random = Chaos.prng(seed ^ 0x9e3779b9)
    print(`soak: ${seconds} s, ${fibers} fibers, 8 origins, numPools 4, chaos seed ${seed}`)

    const servers = yield* Scope.make()
    const origins = yield* Effect.forEach(Array.from({ length: 8 }), () => Chaos.origin(ledger)).pipe(
      Scope.extend(servers)
    )
    const clientScope = yield* Scope.make()
    const manager = yield* PoolManager.make(chaosOptions(4)).pipe(
      Effect.provide(NodeConnector.layer),
      Scope.extend(clientScope)
    )
    const endings: Record<string, number> = {}
    const failures: Array<string> = []
    let requests = 0
    const start = Date.now()
    const deadline = start + seconds * 1000
    const openSockets = () => origins.reduce((sum, origin) => sum + origin.openSockets(), 0)

    const worker = Effect.gen(function* () {
      while (Date.now() < deadline) {
        const n = requests++
        if (n % 5000 === 4999) yield* manager.clear
        const { origin, kind, interruptAfter } = drawRequest(random, origins)
        const outcome = yield* send(manager, origin.url, `s${n}`, kind, interruptAfter)
        const tag = outcome._tag === "error" ? outcome.error : outcome._tag
        endings[tag] = (endings[tag] ?? 0) + 1
        if (outcome._tag === "ok" && typeof outcome.seen === "object") {
          failures.push(`request s${n} (${kind}) got a response that is not its own: ${outcome.seen.other}`)
        } else if (outcome._tag === "defect" || outcome._tag === "hang") {
          failures.push(`request s${n} (${kind}): ${outcome._tag}`)
        }
      }
    })

    const samples: Array<Sample> = []
    const sample = Effect.gen(function* () {
      // One turn of the loop first: the servers count a socket the client closed only once
      // they have read its end, which may have arrived and not yet been read.
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      const pools = (yield* manager.pools).size
      const memory = process.memoryUsage()
      const taken: Sample = {
        seconds: Math.round((Date.now() - start) / 1000),
        requests,
        heap: heapAfterGc(),
        rss: memory.rss,
        sockets: openSockets(),
        pools
      }
      samples.push(taken)
      const errors = Object.entries(endings)
        .filter(([tag]) => tag !== "ok")
        .map(([tag, count]) => `${tag}=${count}`)
        .join(" ")
      print(
        `t=${taken.seconds}s requests=${taken.requests} ok=${endings.ok ?? 0} ${errors} ` +
          `rss=${mib(taken.rss)} heap=${mib(taken.heap)} sockets=${taken.sockets} pools=${taken.pools}`
      )
    })
    const sampler = Effect.forever(Effect.zipRight(Effect.sleep(`${every} seconds`), sample))

    yield* Effect.raceFirst(
      Effect.all(
        Array.from({ length: fibers }, () => worker),
        { concurrency: "unbounded", discard: true }
      ),
      Effect.zipRight(sampler, Effect.never)
    )
    yield* sample
    const atRest = samples[samples.length - 1]
    yield* Scope.close(clientScope, Exit.void)
    // The origins see each closed socket a moment later.
    yield* Effect.sleep("200 millis")
    const socketsAfterClose = openSockets()
    yield* Scope.close(servers, Exit.void)

    const bound = limits(fibers)
    const first = samples[0]
    for (const s of samples) {
      if (s.sockets > bound.sockets)
        failures.push(`${s.sockets} sockets open at ${s.seconds} s (at most ${bound.sockets})`)
      if (s.pools > 4) failures.push(`${s.pools} pools at ${s.seconds} s (numPools 4)`)
      if (first !== undefined && s.heap - first.heap > bound.heapGrowth(first.heap)) {
        failures.push(`heap grew from ${mib(first.heap)} to ${mib(s.heap)} by ${s.seconds} s`)
      }
      if (first !== undefined && s.rss - first.rss > bound.rssGrowth(first.rss)) {
        failures.push(`RSS grew from ${mib(first.rss)} to ${mib(s.rss)} by ${s.seconds} s`)
      }
    }
    if (atRest !== undefined && atRest.sockets > bound.socketsAtRest) {
      failures.push(`${atRest.sockets} sockets open once the load stopped (at most ${bound.socketsAtRest})`)
    }
    if (samples.length < 2) failures.push("fewer than two samples: run longer, or sample more often")
    if (socketsAfterClose !== 0) failures.push(`${socketsAfterClose} sockets still open after the Scope closed`)
    if ((endings.ok ?? 0) < requests / 2) failures.push(`only ${endings.ok ?? 0} of ${requests} requests succeeded`)
    print(
      `soak ${failures.length === 0 ? "held" : "FAILED"}: ${requests} requests in ${seconds} s; ` +
        `sockets after close ${socketsAfterClose}; seed ${seed}`
    )
    for (const failure of failures.slice(0, 20)) print(`  ${failure}`)
    return { seed, samples, requests, endings, socketsAfterClose, failures } satisfies SoakReport
  }).pipe(Logger.withMinimumLogLevel(LogLevel.None))
