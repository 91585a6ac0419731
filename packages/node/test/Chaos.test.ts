/**
 * The chaos suite: 20,000 requests (`CHAOS_REQUESTS` to change it) from 32 fibers through one
 * PoolManager over 8 chaos origins with `numPools` 4, so pools are evicted all the time,
 * while the origins reset, truncate, stall, close idle connections and send malformed,
 * oversized or undecodable answers, and the suite interrupts some requests at random.
 *
 * The seed of the origins' faults is printed at the start; `CHAOS_SEED=<seed>` replays the
 * same sequence of faults.
 */
import { PoolManager } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Scope from "effect/Scope"
import * as NodeConnector from "../src/NodeConnector.js"
import * as Chaos from "./utils/chaos.js"
import {
  chaosOptions,
  drawRequest,
  heapAfterGc,
  type Kind,
  type Outcome,
  send,
  violations
} from "./utils/chaosClient.js"

const REQUESTS = Number(process.env.CHAOS_REQUESTS ?? 20_000)
const FIBERS = 32
const ORIGINS = 8

describe("chaos", () => {
  it.live(
    `${REQUESTS} requests, ${FIBERS} fibers, ${ORIGINS} origins, numPools 4: nothing lost, leaked or cross-delivered`,
    () =>
      Effect.gen(function* () {
        const seed = Chaos.seedFromEnv()
        console.log(`chaos seed ${seed} (CHAOS_SEED=${seed} replays its faults)`)
        const ledger = Chaos.makeLedger(seed)
        const random = Chaos.prng(seed ^ 0x9e3779b9)
        const servers = yield* Scope.make()
        const origins = yield* Effect.forEach(Array.from({ length: ORIGINS }), () => Chaos.origin(ledger)).pipe(
          Scope.extend(servers)
        )
        const outcomes: Array<Outcome> = []
        const run = (manager: PoolManager.Service, count: number, prefix: string) => {
          let next = 0
          const fiber = Effect.gen(function* () {
            while (next < count) {
              const n = next++
              if (n % 1000 === 999) yield* manager.clear
              const { origin, kind, interruptAfter } = drawRequest(random, origins)
              outcomes.push(yield* send(manager, origin.url, `${prefix}${n}`, kind, interruptAfter))
            }
          })
          return Effect.all(
            Array.from({ length: FIBERS }, () => fiber),
            { concurrency: "unbounded", discard: true }
          )
        }
        const clientScope = yield* Scope.make()
        const manager = yield* PoolManager.make(chaosOptions(4)).pipe(
          Effect.provide(NodeConnector.layer),
          Scope.extend(clientScope)
        )
        // Warm up, so that the baseline holds compiled code and the module's buffers.
        yield* run(manager, 500, "w")
        const baseline = heapAfterGc()
        yield* run(manager, REQUESTS, "")
        yield* Scope.close(clientScope, Exit.void)
        for (const origin of origins) yield* origin.waitForOpenSockets(0)
        const heapAfter = heapAfterGc()

        const tally = new Map<string, number>()
        for (const outcome of outcomes) {
          const tag = outcome._tag === "error" ? `error:${outcome.error}` : outcome._tag
          tally.set(tag, (tally.get(tag) ?? 0) + 1)
        }
        console.log(
          `chaos seed ${seed}: ${outcomes.length} requests; outcomes ${JSON.stringify(Object.fromEntries(tally))}; ` +
            `faults ${JSON.stringify(Object.fromEntries(ledger.counts))}; heap ${(baseline / 2 ** 20).toFixed(1)} -> ${(heapAfter / 2 ** 20).toFixed(1)} MiB`
        )
        const problems = violations(outcomes, ledger)
        expect(problems.slice(0, 20), `seed ${seed}: ${problems.length} problems`).toEqual([])
        expect(outcomes.length).toBe(REQUESTS + 500)
        // Every fault happened, so each guarantee was tested against each.
        for (const fault of Chaos.faults) expect(ledger.counts.get(fault) ?? 0, fault).toBeGreaterThan(0)
        expect(tally.get("ok") ?? 0).toBeGreaterThan(REQUESTS / 2)
        // The manager's memory went with its Scope: what stays is the suite's own record.
        expect(heapAfter - baseline).toBeLessThan(16 * 2 ** 20)
        yield* Scope.close(servers, Exit.void)
      }).pipe(Logger.withMinimumLogLevel(LogLevel.None)),
    300_000
  )
})

/** One step of a property run: a request, started after `delay` ms, or a `clear` of the manager. */
type Op =
  | {
      readonly _tag: "request"
      readonly origin: number
      readonly kind: Kind
      readonly fault: Chaos.Fault
      readonly delay: number
      readonly interruptAfter: number | null
    }
  | { readonly _tag: "clear"; readonly delay: number }

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      _tag: fc.constant("request" as const),
      origin: fc.nat(2),
      kind: fc.constantFrom<Kind>("get", "stream", "partial", "post"),
      // Half the requests are answered properly, so that connections live to be reused.
      fault: fc.oneof(fc.constant<Chaos.Fault>("normal"), fc.constantFrom(...Chaos.faults)),
      delay: fc.nat(40),
      interruptAfter: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat(12) })
    })
  },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("clear" as const), delay: fc.nat(40) }) }
)

describe("chaos property", () => {
  it.scopedLive(
    "any interleaving of requests, faults, interruptions, evictions and clears keeps every guarantee",
    () =>
      Effect.gen(function* () {
        const ledger = Chaos.makeLedger(1)
        const origins = yield* Effect.forEach(Array.from({ length: 3 }), () => Chaos.origin(ledger))
        let run = 0
        const check = (ops: ReadonlyArray<Op>) =>
          Effect.gen(function* () {
            const prefix = `p${run++}-`
            const scope = yield* Scope.make()
            const manager = yield* PoolManager.make(chaosOptions(2)).pipe(
              Effect.provide(NodeConnector.layer),
              Scope.extend(scope)
            )
            const outcomes = yield* Effect.forEach(
              ops,
              (op, i) =>
                Effect.delay(
                  op._tag === "clear"
                    ? Effect.as(manager.clear, null)
                    : send(manager, origins[op.origin]!.url, `${prefix}${i}`, op.kind, op.interruptAfter, op.fault),
                  Duration.millis(op.delay)
                ),
              { concurrency: "unbounded" }
            )
            expect((yield* manager.pools).size).toBeLessThanOrEqual(2)
            yield* Scope.close(scope, Exit.void)
            for (const origin of origins) yield* origin.waitForOpenSockets(0)
            const done = outcomes.filter((outcome): outcome is Outcome => outcome !== null)
            expect(violations(done, ledger)).toEqual([])
            // Without an interruption or a fault of its own, a request succeeds.
            for (const [i, op] of ops.entries()) {
              if (op._tag === "request" && op.interruptAfter === null && !Chaos.decodeFaults.has(op.fault)) {
                const outcome = outcomes[i]!
                if (op.kind === "get" || (Chaos.answeredFaults.has(op.fault) && op.kind !== "post")) {
                  expect(outcome._tag, `${op.kind} with ${op.fault}`).toBe("ok")
                }
              }
            }
          }).pipe(Logger.withMinimumLogLevel(LogLevel.None), Effect.runPromise)
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 24, size: "max" }), (ops) => check(ops)),
            { numRuns: 60 }
          )
        )
        console.log(`chaos property: ${run} runs; faults ${JSON.stringify(Object.fromEntries(ledger.counts))}`)
        expect(ledger.counts.get("stall") ?? 0).toBeGreaterThan(0)
      }).pipe(Logger.withMinimumLogLevel(LogLevel.None)),
    120_000
  )
})
