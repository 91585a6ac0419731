// `prepack` of @httpool/core and @httpool/node: builds the package in the current directory
// from an empty dist/ (so files of deleted sources never ship), then checks that the entry
// points `exports` names exist. `npm pack` and `npm publish` run it before reading `files`.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"

const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"))
for (const dir of ["dist", "build"]) fs.rmSync(dir, { recursive: true, force: true })

const tsc = createRequire(path.resolve("package.json")).resolve("typescript/bin/tsc")
execFileSync(process.execPath, [tsc, "-b", "tsconfig.json"], { stdio: "inherit" })

const expected = ["dist/index.js", "dist/index.js.map", "dist/index.d.ts", "dist/index.d.ts.map"]
const missing = expected.filter((file) => !fs.existsSync(file))
if (missing.length > 0) {
  console.error(`prepack ${pkg.name}: the build wrote no ${missing.join(", ")}`)
  process.exit(1)
}
console.log(`prepack ${pkg.name}: dist/ built`)
