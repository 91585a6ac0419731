// `prepack` of @httpool/core and @httpool/node: builds the package in the current directory
// (`tsc -b`, incremental), after removing from dist/ every file whose source in src/ no longer
// exists, so a moved or deleted module never ships; then checks that every module has its
// .js, .d.ts and their source maps. `npm pack` and `npm publish` run it before reading `files`.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"

const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"))
const outputs = [".js", ".js.map", ".d.ts", ".d.ts.map"]
const moduleOf = (file) => {
  const ext = outputs.find((candidate) => file.endsWith(candidate))
  return ext === undefined ? null : file.slice(0, -ext.length)
}
const walk = (dir) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .flatMap((entry) => (entry.isFile() ? [path.relative(dir, path.join(entry.parentPath, entry.name))] : []))
    : []

let removed = 0
for (const file of walk("dist")) {
  const module = moduleOf(file)
  if (module === null || !fs.existsSync(path.join("src", `${module}.ts`))) {
    fs.rmSync(path.join("dist", file))
    removed++
  }
}
// Without its outputs, tsc -b must not believe the build is up to date.
if (removed > 0) fs.rmSync("build", { recursive: true, force: true })

const tsc = createRequire(path.resolve("package.json")).resolve("typescript/bin/tsc")
execFileSync(process.execPath, [tsc, "-b", "tsconfig.json"], { stdio: "inherit" })

const missing = walk("src")
  .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
  .flatMap((file) => outputs.map((ext) => path.join("dist", file.slice(0, -".ts".length) + ext)))
  .filter((file) => !fs.existsSync(file))
if (missing.length > 0) {
  console.error(`prepack ${pkg.name}: the build wrote no ${missing.join(", ")}`)
  process.exit(1)
}
console.log(`prepack ${pkg.name}: dist/ is up to date${removed > 0 ? ` (${removed} stale files removed)` : ""}`)
