import fs from "node:fs"
const sites = JSON.parse(fs.readFileSync("/tmp/prof/sites.json"))
const old = new Float64Array(sites.length),
  total = new Float64Array(sites.length)
let on = false
const young = new Function("o", "return %InYoungGeneration(o)")
globalThis.__chk = (id, o) => {
  if (on) {
    total[id]++
    if (!young(o)) old[id]++
  }
  return o
}
setTimeout(
  () => {
    on = true
  },
  Number(process.env.ON ?? 1500)
).unref?.()
process.on("exit", () => {
  const rows = []
  for (let i = 0; i < sites.length; i++) if (total[i] > 0) rows.push([old[i] / total[i], total[i], sites[i]])
  rows.sort((a, b) => b[0] - a[0] || b[1] - a[1])
  console.log(
    rows
      .slice(0, 40)
      .map(([r, t, s]) => `${(100 * r).toFixed(0).padStart(4)}% old of ${t} ${s}`)
      .join("\n")
  )
})
