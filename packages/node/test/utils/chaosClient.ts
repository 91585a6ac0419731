/**
 * The client side of the chaos suites: sends a request in one of four ways, turns every
 * ending into an `Outcome`, and checks outcomes against what the chaos origins recorded.
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { PoolManager, Retry } from "@httpool/core"
import type { Errors } from "@httpool/core"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Chaos from "./chaos.js"

v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void

/** The heap in use after two full collections. */
export const heapAfterGc = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** How a request is made and read. */
export type Kind = "get" | "stream" | "partial" | "post"

/**
 * The next request of the chaos mix: a random origin; half preloaded GETs, streamed GETs read
 * whole (15%) or only their first chunk (10%), POSTs (25%); 3% interrupted after 0 to 7 ms.
 */
export const drawRequest = <O>(
  random: () => number,
  origins: ReadonlyArray<O>
): { readonly origin: O; readonly kind: Kind; readonly interruptAfter: number | null } => {
  const origin = origins[Math.floor(random() * origins.length)]!
  const r = random()
  const kind: Kind = r < 0.5 ? "get" : r < 0.65 ? "stream" : r < 0.75 ? "partial" : "post"
  const interruptAfter = random() < 0.03 ? Math.floor(random() * 8) : null
  return { origin, kind, interruptAfter }
}

/**
 * What a request read: its whole body, a prefix of it, a run of NUL bytes (the start of the
 * bomb), or something else (its first characters).
 */
export type Seen = "whole" | "prefix" | "zeros" | { readonly other: string }

const seenOf = (id: string, text: string | null): Seen => {
  const expected = Chaos.bodyFor(id)
  if (text === expected) return "whole"
  if (text === null || text.length === 0) return { other: "" }
  if (expected.startsWith(text)) return "prefix"
  return /^\0+$/.test(text) ? "zeros" : { other: text.slice(0, 60) }
}

/** How one request ended. */
export type Outcome =
  | { readonly _tag: "ok"; readonly id: string; readonly kind: Kind; readonly seen: Seen }
  | {
      readonly _tag: "error"
      readonly id: string
      readonly kind: Kind
      readonly error: string
      readonly message: string
    }
  | { readonly _tag: "interrupted"; readonly id: string; readonly kind: Kind }
  | { readonly _tag: "defect"; readonly id: string; readonly kind: Kind; readonly cause: string }
  | { readonly _tag: "hang"; readonly id: string; readonly kind: Kind }

/** The pool options of every chaos run: small read timeouts, a decoding cap, eviction churn. */
export const chaosOptions = (numPools: number): PoolManager.Options => ({
  numPools,
  connectionPoolKw: {
    maxsize: 4,
    timeout: { connect: 2, read: 0.5 },
    retries: Retry.make({ total: 10 }),
    maxDecodedSize: 1024 * 1024
  }
})

/**
 * Sends request `id` as `kind` and reads it as `kind` says; `interruptAfter` (ms) interrupts
 * it part way. Never fails: every ending is an `Outcome`.
 */
export const send = (
  manager: PoolManager.Service,
  url: string,
  id: string,
  kind: Kind,
  interruptAfter: number | null,
  fault: Chaos.Fault | null = null
): Effect.Effect<Outcome> => {
  const target = `${url}/r/${id}`
  const headers = fault === null ? {} : { "x-chaos-fault": fault }
  const exchange: Effect.Effect<string | null, Errors.HttpoolError> =
    kind === "get"
      ? Effect.map(manager.request("GET", target, { headers }), (r) => (r.status === 200 ? r.text : `${r.status}`))
      : kind === "post"
        ? Effect.map(manager.request("POST", target, { headers, body: `payload of ${id}` }), (r) =>
            r.status === 200 ? r.text : `${r.status}`
          )
        : Effect.scoped(
            Effect.flatMap(manager.request("GET", target, { headers, preloadContent: false }), (r) =>
              r.status !== 200
                ? Effect.succeed(`${r.status}`)
                : kind === "stream"
                  ? r.text
                  : Effect.map(Stream.runHead(r.stream), (chunk) =>
                      Option.isSome(chunk) ? new TextDecoder().decode(chunk.value) : null
                    )
            )
          )
  const limited =
    interruptAfter === null
      ? Effect.map(exchange, Option.some)
      : Effect.timeoutTo(exchange, {
          duration: Duration.millis(interruptAfter),
          onSuccess: Option.some,
          onTimeout: () => Option.none<string | null>()
        })
  return Effect.timeoutTo(Effect.exit(limited), {
    duration: "20 seconds",
    onSuccess: (exit): Outcome =>
      Exit.match(exit, {
        onSuccess: (seen) =>
          Option.isSome(seen)
            ? { _tag: "ok", id, kind, seen: seenOf(id, seen.value) }
            : { _tag: "interrupted", id, kind },
        onFailure: (cause) =>
          Option.match(Cause.failureOption(cause), {
            onSome: (error) => ({ _tag: "error", id, kind, error: error._tag, message: error.message }),
            onNone: () =>
              Cause.isInterruptedOnly(cause)
                ? { _tag: "interrupted", id, kind }
                : { _tag: "defect", id, kind, cause: Cause.pretty(cause) }
          })
      }),
    onTimeout: (): Outcome => ({ _tag: "hang", id, kind })
  })
}

/**
 * The problems in `outcomes` against what the origins recorded: an empty list when every
 * guarantee held.
 */
export const violations = (outcomes: ReadonlyArray<Outcome>, ledger: Chaos.Ledger): Array<string> => {
  const problems: Array<string> = []
  for (const outcome of outcomes) {
    const arrivals = ledger.arrivals.get(outcome.id) ?? []
    const last = arrivals.at(-1)
    const where = `request ${outcome.id} (${outcome.kind}, faults ${arrivals.map((a) => a.fault).join(",")})`
    switch (outcome._tag) {
      case "defect":
        problems.push(`${where} died: ${outcome.cause.slice(0, 400)}`)
        break
      case "hang":
        problems.push(`${where} hung`)
        break
      case "ok": {
        const seen = outcome.seen
        const fault = last?.fault ?? "normal"
        // A partial reader keeps the first chunk: its own body or a prefix of it (a cut body's
        // first chunk may be all it sent), or the start of the bomb's zeros.
        const own =
          outcome.kind !== "partial"
            ? seen === "whole" && Chaos.answeredFaults.has(fault)
            : seen === "zeros"
              ? fault === "gzipBomb"
              : (seen === "whole" || seen === "prefix") &&
                (Chaos.answeredFaults.has(fault) || Chaos.bodyFaults.has(fault))
        if (last === undefined || !own) {
          problems.push(`${where} got a response that is not its own: ${JSON.stringify(seen)}`)
        }
        if (outcome.kind === "post" && arrivals.length !== 1) {
          problems.push(`${where} arrived ${arrivals.length} times`)
        }
        break
      }
      case "error": {
        const tag = outcome.error
        const fault = last?.fault
        const expected =
          outcome.kind === "post"
            ? arrivals.length <= 1
            : fault !== undefined &&
              ((tag === "DecodeError" && Chaos.decodeFaults.has(fault)) ||
                (tag === "ProtocolError" && outcome.kind !== "get" && Chaos.bodyFaults.has(fault)) ||
                // A streamed body is read after the response was returned: a read timeout there
                // (a loaded machine) fails the read and is not retried.
                (tag === "ReadTimeoutError" && outcome.kind !== "get"))
        if (!expected) {
          problems.push(`${where} failed with ${tag} (${arrivals.length} arrivals): ${outcome.message.slice(0, 200)}`)
        }
        break
      }
      case "interrupted":
        if (outcome.kind === "post" && arrivals.length > 1) {
          problems.push(`${where} was sent again after reaching the server`)
        }
        break
    }
  }
  return problems
}
