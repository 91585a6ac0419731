// Every ```ts block of README.md, docs/*.md and the packages' READMEs, as a user would paste it:
// each block becomes a module of its own in build/docs-blocks/ and the lot is type-checked in
// one tsc program with the options of a strict application (strict, NodeNext,
// exactOptionalPropertyTypes), against the built packages (`npm run build` first; this script
// runs it) and the workspace's other dependencies. Then every block runs as a program of its own
// (node, 20 s at most; a block importing vitest or @effect/vitest runs as a test file under vitest;
// a block of imports and exported declarations only, such as the examples packages/examples and
// the node tests run, is type-checked only), against the loopback playground (scripts/playground.mjs): the port of
// `127.0.0.1:8080`, `localhost:8080`, `<name>.test:8080` (a name a block pins to 127.0.0.1) and
// `port: 8080` is replaced by the playground origin's, the port of `127.0.0.1:3128` by its
// proxy's, that of `127.0.0.1:1080` and `proxyPort: 1080` by its SOCKS server's, and
// `https://example.com` by its TLS origin
// (trusted through NODE_EXTRA_CA_CERTS). A block preceded by a line
// `<!-- docs-blocks: compile-only, <reason> -->` is only type-checked.
// Errors are reported at the Markdown line they come from. Exits non-zero on any failure.
//   node scripts/docs-blocks.mjs [page.md ...]
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { start } from "./playground.mjs"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const out = path.join(root, "build", "docs-blocks")
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
const vitest = path.join(root, "node_modules", "vitest", "vitest.mjs")
const started = Date.now()
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`

const pages =
  process.argv.length > 2
    ? process.argv.slice(2).map((page) => path.relative(root, path.resolve(page)))
    : [
        "README.md",
        "packages/core/README.md",
        "packages/node/README.md",
        ...fs
          .readdirSync(path.join(root, "docs"))
          .filter((file) => file.endsWith(".md"))
          .sort()
          .map((file) => `docs/${file}`)
      ]

/** The ts blocks of a page: the Markdown line of their first code line, their code, and whether they only compile. */
const blocksOf = (page) => {
  const lines = fs.readFileSync(path.join(root, page), "utf8").split("\n")
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "```ts") continue
    const marker = /^<!-- docs-blocks: compile-only, (.+) -->$/.exec(lines[i - 1]?.trim() ?? "")
    const end = lines.findIndex((line, j) => j > i && line.trim() === "```")
    if (end === -1) throw new Error(`${page}:${i + 1}: a ts block that never ends`)
    blocks.push({ page, line: i + 2, code: lines.slice(i + 1, end).join("\n"), compileOnly: marker?.[1] ?? null })
    i = end
  }
  return blocks
}

const ts = createRequire(import.meta.url)("typescript")

/** Whether a block does something when run: a top-level statement other than imports and exports. */
const isProgram = (code) =>
  ts
    .createSourceFile("block.ts", code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)
    .statements.some(
      (statement) =>
        !ts.isImportDeclaration(statement) &&
        !ts.isInterfaceDeclaration(statement) &&
        !ts.isTypeAliasDeclaration(statement) &&
        !(ts.getCombinedModifierFlags(statement) & ts.ModifierFlags.Export)
    )

const blocks = pages.flatMap(blocksOf)
for (const block of blocks) {
  block.name = `${block.page.replace(/\.md$/, "").replace(/[/.]/g, "_")}_L${block.line}`
  block.program = isProgram(block.code)
  block.test = /from "(@effect\/)?vitest"/.test(block.code)
  block.file = `${block.name}${block.test ? ".test" : ""}.ts`
}

console.log(`docs-blocks: building the packages (${elapsed()})`)
execFileSync(process.execPath, [tsc, "-b", "packages/core", "packages/node"], { cwd: root, stdio: "inherit" })

const playground = await start()
const port = (url) => new URL(url).port
const localize = (code) =>
  code
    .replaceAll("127.0.0.1:8080", `127.0.0.1:${port(playground.origin)}`)
    .replaceAll("localhost:8080", `localhost:${port(playground.origin)}`)
    .replaceAll(/\.test:8080\b/g, `.test:${port(playground.origin)}`)
    .replaceAll("127.0.0.1:3128", `127.0.0.1:${port(playground.proxy)}`)
    .replaceAll("127.0.0.1:1080", `127.0.0.1:${port(playground.socks)}`)
    .replaceAll(/\bport: 8080\b/g, `port: ${port(playground.origin)}`)
    .replaceAll(/\bproxyPort: 1080\b/g, `proxyPort: ${port(playground.socks)}`)
    .replaceAll("https://example.com", playground.tls)

let failures = 0
try {
  fs.rmSync(out, { recursive: true, force: true })
  fs.mkdirSync(out, { recursive: true })
  for (const block of blocks) fs.writeFileSync(path.join(out, block.file), `${localize(block.code)}\n`)
  // The test blocks' own vitest settings, so the workspace's projects stay out of it.
  fs.writeFileSync(
    path.join(out, "vitest.config.mjs"),
    'export default { test: { root: import.meta.dirname, include: ["*.test.ts"], testTimeout: 15000 } }\n'
  )
  fs.writeFileSync(
    path.join(out, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2022"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          moduleDetection: "force",
          types: ["node"],
          strict: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: true,
          outDir: "out",
          rootDir: "."
        },
        include: ["*.ts"]
      },
      null,
      2
    )
  )

  console.log(`docs-blocks: type-checking ${blocks.length} blocks of ${pages.length} pages (${elapsed()})`)
  let diagnostics = ""
  try {
    execFileSync(process.execPath, [tsc, "-p", out, "--pretty", "false"], { cwd: root, encoding: "utf8" })
  } catch (error) {
    diagnostics = `${error.stdout ?? ""}${error.stderr ?? ""}`
  }
  const byName = new Map(blocks.map((block) => [block.name, block]))
  const failedToCompile = new Set()
  for (const line of diagnostics.split("\n")) {
    if (line.trim() === "") continue
    const match = /^build\/docs-blocks\/(\w[\w-]*)(?:\.test)?\.ts\((\d+),(\d+)\): (.*)$/.exec(line)
    const block = match && byName.get(match[1])
    if (block) {
      failedToCompile.add(block.name)
      console.error(`${block.page}:${block.line + Number(match[2]) - 1}:${match[3]}: ${match[4]}`)
    } else console.error(line)
  }
  if (diagnostics.trim() !== "") failures += Math.max(1, failedToCompile.size)

  // tsc reports no type errors while there are syntax errors, so nothing runs until every block compiles.
  const runnable =
    diagnostics.trim() === "" ? blocks.filter((block) => block.compileOnly === null && block.program) : []
  console.log(`docs-blocks: running ${runnable.length} blocks against the playground (${elapsed()})`)
  const run = (block) =>
    new Promise((resolve) => {
      const args = block.test
        ? [vitest, "run", "--config", path.join(out, "vitest.config.mjs"), "--reporter=dot", block.file]
        : [path.join(out, "out", `${block.name}.js`)]
      const child = spawn(process.execPath, args, {
        cwd: root,
        env: { ...process.env, NODE_EXTRA_CA_CERTS: playground.caPath },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stdout.on("data", (chunk) => (output += chunk))
      child.stderr.on("data", (chunk) => (output += chunk))
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000)
      child.on("exit", (code, signal) => {
        clearTimeout(timer)
        if (code !== 0) {
          failures++
          const why = signal === null ? `exited with ${code}` : "took more than 20 s"
          console.error(`${block.page}:${block.line}: the block ${why}:\n${output.trimEnd()}\n`)
        }
        resolve()
      })
    })
  const queue = [...runnable]
  await Promise.all(
    [1, 2].map(async () => {
      while (queue.length > 0) await run(queue.shift())
    })
  )
  const compileOnly = blocks.filter((block) => block.compileOnly !== null)
  for (const block of compileOnly)
    console.log(`docs-blocks: ${block.page}:${block.line} compile-only: ${block.compileOnly}`)
  console.log(
    `docs-blocks: ${blocks.length} blocks type-checked, ${runnable.length} run (${playground.answered()} requests answered), ` +
      `${blocks.filter((block) => !block.program).length} define exports only, ${compileOnly.length} compile-only, ` +
      `${failures} failed (${elapsed()})`
  )
} finally {
  await playground.close()
}
process.exit(failures > 0 ? 1 : 0)
