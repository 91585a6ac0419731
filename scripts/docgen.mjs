// The API reference: runs @effect/docgen in packages/core and packages/node. docgen reads the
// doc comments of each package's public modules (src/*.ts, not src/internal), type-checks every
// @example (docgen.json: strict, exactOptionalPropertyTypes, against the packages' sources),
// runs them all with tsx, and writes packages/<pkg>/docs/modules/<Module>.ts.md. This script
// then writes docs/api.md, the index of those pages. The examples are programs against
// http://127.0.0.1:8080, the proxy http://127.0.0.1:3128 and the SOCKS proxy 127.0.0.1:1080, so
// they run against the loopback playground (scripts/playground.mjs) listening on those ports,
// trusted for TLS through
// NODE_EXTRA_CA_CERTS.
//   node scripts/docgen.mjs           regenerate the reference (npm run docgen)
//   node scripts/docgen.mjs --check   also fail when the committed reference differs (CI)
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { start } from "./playground.mjs"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const check = process.argv.includes("--check")
const bin = path.join(root, "node_modules", ".bin")
const packages = ["core", "node"]

/** Runs docgen in a package, asynchronously so the playground in this process keeps answering. */
const docgen = (pkg, caPath) =>
  new Promise((resolve) => {
    const child = spawn(path.join(bin, "docgen"), [], {
      cwd: path.join(root, "packages", pkg),
      stdio: "inherit",
      env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`, NODE_EXTRA_CA_CERTS: caPath }
    })
    child.on("error", () => resolve(1))
    child.on("exit", (code) => resolve(code ?? 1))
  })

/** The first sentence of a module page's overview. */
const summary = (page) => {
  const overview = page.split(/^## \S+ overview\n/m)[1] ?? ""
  const paragraph = overview.trim().split(/\n\n/)[0] ?? ""
  if (paragraph.startsWith("Added in") || paragraph.startsWith("**Example**")) return ""
  const text = paragraph.replace(/\s+/g, " ").trim()
  const end = text.search(/\.(\s|$)/)
  return end === -1 ? text.replace(/:$/, ".") : text.slice(0, end + 1)
}

const writeIndex = () => {
  const lines = [
    "# API reference",
    "",
    "Generated from the doc comments of each package's public modules by",
    "[@effect/docgen](https://github.com/Effect-TS/docgen) (`npm run docgen`), which also",
    "type-checks and runs every `@example`. Do not edit by hand; CI checks it is up to date.",
    "The guides start at [index.md](index.md)."
  ]
  for (const pkg of packages) {
    const dir = path.join(root, "packages", pkg, "docs", "modules")
    lines.push("", `## @httpool/${pkg}`, "")
    for (const file of fs.readdirSync(dir).sort()) {
      if (!file.endsWith(".ts.md") || file === "index.ts.md") continue
      const text = summary(fs.readFileSync(path.join(dir, file), "utf8"))
      lines.push(
        `- [${file.slice(0, -".ts.md".length)}](../packages/${pkg}/docs/modules/${file})${text ? `: ${text}` : ""}`
      )
    }
  }
  fs.writeFileSync(path.join(root, "docs", "api.md"), `${lines.join("\n")}\n`)
}

let playground
try {
  playground = await start({ origin: 8080, proxy: 3128, socks: 1080 })
} catch (error) {
  console.error(`docgen: the examples need 127.0.0.1:8080, 127.0.0.1:3128 and 127.0.0.1:1080 free (${error.message})`)
  process.exit(1)
}
const failed = []
try {
  for (const pkg of packages) {
    console.log(`docgen: packages/${pkg}`)
    if ((await docgen(pkg, playground.caPath)) !== 0) failed.push(pkg)
  }
  console.log(`docgen: the playground answered ${playground.answered()} requests of the examples`)
} finally {
  await playground.close()
}
if (failed.length > 0) {
  console.error(`docgen: failed in ${failed.map((pkg) => `packages/${pkg}`).join(", ")}`)
  process.exit(1)
}
writeIndex()

if (check) {
  const generated = ["docs/api.md", ...packages.map((pkg) => `packages/${pkg}/docs`)]
  // What docgen wrote against what git has (committed, or staged): changed or new files.
  const git = (args) => spawnSync("git", [...args, "--", ...generated], { cwd: root, encoding: "utf8" })
  const changed = git(["diff", "--name-only"])
  const untracked = git(["ls-files", "--others", "--exclude-standard"])
  const differ = `${changed.stdout}${untracked.stdout}`.trim()
  if (changed.status !== 0 || untracked.status !== 0 || differ !== "") {
    console.error(`docgen: the committed API reference is out of date; run \`npm run docgen\` and commit:\n${differ}`)
    process.exit(1)
  }
  console.log("docgen: the committed API reference is up to date")
}
