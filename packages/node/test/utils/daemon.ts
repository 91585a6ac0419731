/**
 * A Debian daemon (danted, squid, tinyproxy) as a scoped resource: found on PATH or in the sbin
 * directories, given a temp directory and a free 127.0.0.1 port, started in a process group
 * of its own (`detached`), ready once what it printed or logged says so (checked whenever it
 * prints or a file of its directory changes: no clock), and stopped by its process group when
 * the Scope closes: SIGTERM, its own exit awaited, then a bounded wait until no process of the
 * group is left (forked children are not ours to wait for, and linger as zombies for a moment),
 * then SIGKILL. Its directory is removed afterwards. A start that fails is retried on another
 * port twice, then is a defect carrying the daemon's output.
 *
 * @example
 * const daemon = yield* Daemon.start({
 *   name: "danted",
 *   binary: Daemon.findBinary("danted")!,
 *   args: ({ dir, port }) => { fs.writeFileSync(...); return ["-f", path.join(dir, "d.conf")] },
 *   logs: ["danted.log"],
 *   ready: (output) => (output.includes(" running") ? "ready" : "waiting")
 * })
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** The executable `name` on PATH or in the usual sbin/bin directories, or undefined. */
export const findBinary = (name: string): string | undefined => {
  const dirs = [
    ...(process.env["PATH"] ?? "").split(path.delimiter),
    "/usr/sbin",
    "/usr/bin",
    "/usr/local/sbin",
    "/usr/local/bin",
    "/sbin"
  ]
  for (const dir of dirs) {
    if (dir === "") continue
    const file = path.join(dir, name)
    try {
      fs.accessSync(file, fs.constants.X_OK)
      if (fs.statSync(file).isFile()) return file
    } catch {
      // not here
    }
  }
  return undefined
}

/** A port free on 127.0.0.1 right now. */
export const freePort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Whether the tests run as root (daemons then need to be told which user to become). */
export const isRoot: boolean = typeof process.getuid === "function" && process.getuid() === 0

/** How to run one daemon. */
export interface Spec {
  /** For messages. */
  readonly name: string
  readonly binary: string
  /** Writes the daemon's files for `port` into `dir` (fresh for each try) and gives its arguments. */
  readonly args: (where: { readonly dir: string; readonly port: number }) => ReadonlyArray<string>
  /** Extra environment variables (e.g. LD_PRELOAD), given the directory. */
  readonly env?: (dir: string) => Readonly<Record<string, string>>
  /** Files in `dir` whose text is appended to a failure's message (the daemon's log). */
  readonly logs?: ReadonlyArray<string>
  /**
   * Whether it is up, from what it printed and logged so far (`output()`), checked whenever
   * it prints or a file in its directory changes; `"fatal"` gives up on this port at once.
   */
  readonly ready: (output: string, port: number) => "ready" | "waiting" | "fatal"
  /**
   * The signal that stops it (default SIGTERM, followed by SIGKILL when it does not end in 3 s);
   * SIGKILL for a daemon whose orderly shutdown takes long and keeps nothing a test reads.
   */
  readonly stopSignal?: "SIGTERM" | "SIGKILL"
  /** Who owns the directory (a daemon that drops root privileges writes its files as that user). */
  readonly owner?: { readonly uid: number; readonly gid: number } | null
}

/** A running daemon. */
export interface Daemon {
  readonly port: number
  readonly dir: string
  readonly pid: number
  /** What it printed and what its `logs` hold so far (for failure messages). */
  readonly output: () => string
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

/**
 * Whether a process of the group `pgid` is still running. A zombie does not count: it holds
 * no socket, and the children a daemon forked wait as zombies until whoever inherited them
 * reaps them (in a container that can take seconds). Read from /proc; where it cannot be
 * read, any process of the group counts.
 */
const groupAlive = (pgid: number): boolean => {
  let pids: Array<string>
  try {
    pids = fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name))
  } catch {
    try {
      process.kill(-pgid, 0)
      return true
    } catch {
      return false
    }
  }
  return pids.some((pid) => {
    let stat: string
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1")
    } catch {
      return false
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return Number(pgrp) === pgid && state !== "Z" && state !== "X"
  })
}

const signalGroup = (pgid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pgid, signal)
  } catch {
    // gone already
  }
}

/**
 * Polls every 20 ms until `done` or `ms` have passed; tells which. Only where nothing tells
 * us: the processes of a group that are not our children (what a daemon forked), a socket
 * that starts listening.
 */
const waitUntil = (done: () => boolean, ms: number): Effect.Effect<boolean> =>
  Effect.gen(function* () {
    const deadline = Date.now() + ms
    while (!done()) {
      if (Date.now() > deadline) return false
      yield* Effect.sleep("20 millis")
    }
    return true
  })

/** Waits for the child's exit event, up to `ms`; tells whether it exited. */
const exitOf = (child: ChildProcess, ms: number): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    if (exited(child)) return resume(Effect.succeed(true))
    const onExit = () => resume(Effect.succeed(true))
    child.once("exit", onExit)
    return Effect.sync(() => child.off("exit", onExit))
  }).pipe(Effect.timeoutTo({ duration: ms, onSuccess: (done) => done, onTimeout: () => false }))

/**
 * `signal` (SIGTERM) to the group; up to 3 s for the daemon to exit and the rest of its group
 * to be gone, then SIGKILL and up to 2 s more. Never fails.
 */
const stopGroup = (child: ChildProcess, pgid: number, signal: NodeJS.Signals = "SIGTERM"): Effect.Effect<void> =>
  Effect.gen(function* () {
    signalGroup(pgid, signal)
    const deadline = Date.now() + 3000
    if ((yield* exitOf(child, 3000)) && (yield* waitUntil(() => !groupAlive(pgid), deadline - Date.now()))) return
    signalGroup(pgid, "SIGKILL")
    yield* exitOf(child, 2000)
    yield* waitUntil(() => !groupAlive(pgid), 2000)
  }).pipe(Effect.catchAllCause(() => Effect.void))

/**
 * Whether something listens on 127.0.0.1:port (or any address) per /proc/net/tcp, without a
 * connection the daemon would see; true where that file cannot be read (not Linux).
 */
const listensOn = (port: number): boolean => {
  let table: string
  try {
    table = fs.readFileSync("/proc/net/tcp", "latin1")
  } catch {
    return true
  }
  const wanted = port.toString(16).toUpperCase().padStart(4, "0")
  return table.split("\n").some((line) => {
    const [, local = "", , state = ""] = line.trim().split(/\s+/)
    return (
      local.endsWith(`:${wanted}`) && (local.startsWith("0100007F") || local.startsWith("00000000")) && state === "0A"
    )
  })
}

/**
 * Calls `changed` whenever a file in `dir` changes (inotify); where a watch cannot be had (the
 * system's limit of watches reached), every 20 ms instead. Gives the function that stops it.
 */
export const watchDir = (dir: string, changed: () => void): (() => void) => {
  try {
    const watcher = fs.watch(dir, () => changed())
    return () => watcher.close()
  } catch {
    const timer = setInterval(changed, 20)
    return () => clearInterval(timer)
  }
}

/**
 * Waits until `ready` says so, checked now and whenever the child prints, a file in `dir`
 * changes or the child exits; up to 10 s. Gives the last state, or "exited".
 */
const readiness = (
  child: ChildProcess,
  dir: string,
  check: () => "ready" | "waiting" | "fatal"
): Effect.Effect<"ready" | "waiting" | "fatal" | "exited"> =>
  Effect.async<"ready" | "waiting" | "fatal" | "exited">((resume) => {
    let stopWatching = () => {}
    const stop = () => {
      child.stdout?.off("data", recheck)
      child.stderr?.off("data", recheck)
      child.off("exit", onExit)
      stopWatching()
    }
    const finish = (state: "ready" | "fatal" | "exited") => {
      stop()
      resume(Effect.succeed(state))
    }
    function recheck() {
      const state = check()
      if (state !== "waiting") finish(state)
    }
    function onExit() {
      finish("exited")
    }
    child.stdout?.on("data", recheck)
    child.stderr?.on("data", recheck)
    child.once("exit", onExit)
    stopWatching = watchDir(dir, recheck)
    // What it wrote before the watch began.
    recheck()
    return Effect.sync(stop)
  }).pipe(
    Effect.timeoutTo({ duration: "10 seconds", onSuccess: (state) => state, onTimeout: () => "waiting" as const })
  )

const readText = (file: string): string => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch {
    return ""
  }
}

interface Running {
  readonly child: ChildProcess
  readonly pid: number
  readonly port: number
  readonly output: () => string
  readonly killOnExit: () => void
}

const launch = (spec: Spec, dir: string): Effect.Effect<Running, string> =>
  Effect.gen(function* () {
    const port = yield* freePort
    const args = spec.args({ dir, port })
    const child = spawn(spec.binary, [...args], {
      cwd: dir,
      detached: true,
      env: { ...process.env, ...spec.env?.(dir) },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let printed = ""
    const collect = (chunk: Buffer) => {
      if (printed.length < 65_536) printed += chunk.toString("utf8")
    }
    child.stdout?.on("data", collect)
    child.stderr?.on("data", collect)
    child.on("error", (error) => collect(Buffer.from(`${error.message}\n`)))
    const output = () =>
      [printed, ...(spec.logs ?? []).map((name) => readText(path.join(dir, name)))].filter((t) => t !== "").join("\n")
    const pid = child.pid
    if (pid === undefined) {
      return yield* Effect.fail(`${spec.name} did not start\n${output()}`)
    }
    // If the test process dies without closing the Scope, the daemon must not outlive it.
    const killOnExit = () => signalGroup(pid, "SIGKILL")
    process.once("exit", killOnExit)
    let state = yield* readiness(child, dir, () => spec.ready(output(), port))
    // A daemon may say it accepts connections a turn of its loop before its socket listens
    // (squid does), and nothing tells when it does: up to 2 s more, looking, not connecting.
    if (state === "ready" && !(yield* waitUntil(() => listensOn(port), 2000))) state = "waiting"
    if (state !== "ready") {
      yield* stopGroup(child, pid)
      process.off("exit", killOnExit)
      return yield* Effect.fail(`${spec.name} did not start on 127.0.0.1:${port} (${state})\n${output()}`)
    }
    return { child, pid, port, output, killOnExit }
  })

/** Starts the daemon for the current Scope (three ports tried). */
export const start = (spec: Spec): Effect.Effect<Daemon, never, Scope.Scope> =>
  Effect.gen(function* () {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `httpool-${spec.name}-`))
        fs.chmodSync(dir, 0o755)
        if (spec.owner != null) fs.chownSync(dir, spec.owner.uid, spec.owner.gid)
        return dir
      }),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })).pipe(Effect.ignore)
    )
    const running = yield* Effect.acquireRelease(
      launch(spec, dir).pipe(
        Effect.retry({ times: 2 }),
        Effect.orDieWith((message) => new Error(message))
      ),
      ({ child, pid, killOnExit }) =>
        Effect.zipRight(
          stopGroup(child, pid, spec.stopSignal),
          Effect.sync(() => process.off("exit", killOnExit))
        )
    )
    return { port: running.port, dir, pid: running.pid, output: running.output }
  })
