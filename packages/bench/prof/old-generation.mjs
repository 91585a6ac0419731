// Where V8 puts a function made per call, by the form of the code that makes it, in each of
// its tiers: a function literal stored straight into a property (`o.f = () => ...`) goes to
// the old generation in the interpreter, Sparkplug and Maglev (its parser takes it for a
// long-lived method), to the young one in Turbofan's code. Made per request, such a function
// keeps its context past young collections until a full one (docs/performance.md, "Fifth
// pass"). Runs itself once per tier:
//
//   node packages/bench/prof/old-generation.mjs
//   node scripts/node-runtime.mjs exec 24 node packages/bench/prof/old-generation.mjs
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

if (process.argv[2] === "run") {
  const forms = {
    "o.f = () => 1": new Function("const o = {}; o.f = () => 1; return o.f"),
    "o.f = local": new Function("const o = {}; const local = () => 1; o.f = local; return o.f"),
    "{ f: () => 1 }": new Function("return { f: () => 1 }.f"),
    "class field": new Function("class C { f = () => 1 }; return () => new C().f")(),
    "this.f = () => 1": new Function("class C { constructor() { this.f = () => 1 } }; return () => new C().f")()
  }
  const isYoung = new Function("f", "return %InYoungGeneration(f)")
  const out = []
  for (const [name, make] of Object.entries(forms)) {
    let old = 0
    const n = 200_000
    for (let i = 0; i < n; i++) if (!isYoung(make())) old++
    out.push(`${name}: ${((100 * old) / n).toFixed(0)}% old`)
  }
  console.log(`${process.env.TIER.padEnd(11)} ${out.join(", ")}`)
} else {
  const self = fileURLToPath(import.meta.url)
  const tiers = {
    interpreter: ["--max-lazy", "--no-sparkplug", "--no-maglev", "--no-turbofan"],
    sparkplug: ["--always-sparkplug", "--no-maglev", "--no-turbofan"],
    maglev: ["--no-turbofan"],
    turbofan: ["--no-maglev"]
  }
  const known = execFileSync(process.execPath, ["--v8-options"], { encoding: "utf8" })
  console.log(`Node ${process.version}`)
  for (const [tier, flags] of Object.entries(tiers)) {
    // Maglev is off in Node 20 (its V8 has it as an experiment): no such tier there.
    if (tier === "maglev" && Number(process.versions.node.split(".")[0]) < 22) continue
    const usable = flags.filter((flag) => known.includes(`  ${flag.replace(/^--(no-)?/, "--")} `))
    execFileSync(process.execPath, ["--allow-natives-syntax", ...usable, self, "run"], {
      stdio: "inherit",
      env: { ...process.env, TIER: tier }
    })
  }
}
