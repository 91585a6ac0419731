// How much of what an Effect program allocates outlives young collections, with no httpool
// and no sockets: a fiber awaits N `Effect.async`s in a row, each resumed on the next tick.
// Run on each Node (`node scripts/node-runtime.mjs exec 24 node packages/bench/prof/survival.mjs`):
//
//   node packages/bench/prof/survival.mjs          # X=oi (default): each request builds its own
//                                                  #   Effect.onInterrupt around a new Effect.async
//   X=plain node packages/bench/prof/survival.mjs  # one Effect.async value, awaited N times
//   X=oi node --jitless packages/bench/prof/survival.mjs   # no compiler at all
//
// It prints the bytes that survived young collections (copied or promoted, V8's GCProfiler)
// per request, and what the young collections took. Whatever survives twice is promoted and
// stays until a full collection, so a high figure means a growing old generation too.
//
// The cause, in Effect 3.x: `Effect.async` stores a function literal into a property
// (`effect.effect_instruction_i0 = resume => ...` in internal/core.js), which V8 allocates in
// the old generation wherever that code is not optimised by Turbofan (see old-generation.mjs);
// the dead function keeps its context, and what the context reaches, alive past young
// collections. Stored through a local first, the same program keeps 10 B per request jitless.
import * as Effect from "effect/Effect"
import v8 from "node:v8"

const N = Number(process.env.N ?? 300_000)
const X = process.env.X ?? "oi"
const tick = (resume) => {
  process.nextTick(() => resume(Effect.void))
}
const plain = Effect.async(tick)
const one = X === "plain" ? plain : Effect.suspend(() => Effect.onInterrupt(Effect.async(tick), () => Effect.void))
const program = Effect.gen(function* () {
  for (let i = 0; i < N; i++) yield* one
})
const used = (spaces, name) => spaces.find((space) => space.spaceName === name)?.spaceUsedSize ?? 0
const profiler = new v8.GCProfiler()
profiler.start()
const cpu = process.cpuUsage()
await Effect.runPromise(program)
const spent = process.cpuUsage(cpu)
const { statistics } = profiler.stop()
let survived = 0
let youngMillis = 0
let young = 0
for (const gc of statistics) {
  if (gc.gcType !== "Scavenge") continue
  young++
  youngMillis += gc.cost / 1000
  const before = gc.beforeGC.heapSpaceStatistics
  const after = gc.afterGC.heapSpaceStatistics
  // What is left in the young generation, and what moved into the old one.
  survived += used(after, "new_space") + Math.max(0, used(after, "old_space") - used(before, "old_space"))
}
console.log(
  `${process.version} X=${X}: ${((spent.user + spent.system) / N).toFixed(2)} us CPU/request, ` +
    `${(survived / N).toFixed(0)} B survived young collections per request (${young} collections, ` +
    `${youngMillis.toFixed(0)} ms), peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`
)
