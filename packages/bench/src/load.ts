/**
 * The load loops a client process runs: `concurrency` workers, each sending one request
 * after another until the phase's request count or time is used up, recording each
 * request's latency and checking each response. A Promise client runs `promiseLoad`, an
 * Effect client runs `effectLoad` (in `effectLoad.ts`, so that clients without Effect never
 * load it) inside its own runtime: each is driven the way its users drive it.
 */
import { performance } from "node:perf_hooks"
import { processTicks, ticksPerSecond } from "./procfs.js"
import type { Bounds, Job, Measurement, Turn, WarmUp } from "./protocol.js"

/** What a request returns to the loop: its status and how many body bytes were read. */
export interface Reply {
  readonly status: number
  readonly length: number
}

/** One load phase: claims request slots, records latencies, counts wrong responses. */
export class Recorder {
  readonly latencies: Float64Array
  readonly startedAt: number
  private readonly deadline: number
  private readonly limit: number
  private claimed = 0
  completed = 0
  wrong = 0
  bytes = 0
  firstWrong: string | null = null

  constructor(
    bounds: Bounds,
    private readonly expectedStatus: number,
    private readonly expectedLength: number
  ) {
    this.limit = bounds.requests
    this.latencies = new Float64Array(bounds.requests)
    this.startedAt = performance.now()
    this.deadline = this.startedAt + bounds.millis
  }

  /** The index of the next request, or -1 when the phase is over (count or time used up). */
  claim(): number {
    if (this.claimed >= this.limit || performance.now() >= this.deadline) {
      return -1
    }
    return this.claimed++
  }

  /** Records a finished request that started at `start` (a `performance.now()` value). */
  done(start: number, reply: Reply): void {
    this.latencies[this.completed++] = performance.now() - start
    this.bytes += reply.length
    if (reply.status !== this.expectedStatus || reply.length !== this.expectedLength) {
      this.wrong++
      if (this.firstWrong === null) {
        this.firstWrong = `status ${reply.status} and ${reply.length} body bytes, expected ${this.expectedStatus} and ${this.expectedLength}`
      }
    }
  }
}

/** Runs a phase with Promise workers; rejects with the first request's error. */
export const promiseLoad = async (
  job: Job,
  bounds: Bounds,
  request: (index: number) => Promise<Reply>
): Promise<Recorder> => {
  const recorder = new Recorder(bounds, job.expectedStatus, job.expectedLength)
  const worker = async (): Promise<void> => {
    for (let index = recorder.claim(); index >= 0; index = recorder.claim()) {
      const start = performance.now()
      recorder.done(start, await request(index))
    }
  }
  const workers: Array<Promise<void>> = []
  for (let i = 0; i < job.concurrency; i++) {
    workers.push(worker())
  }
  await Promise.all(workers)
  return recorder
}

/** The value at quantile `q` (0..1) of sorted samples, nearest rank. */
export const quantile = (sorted: Float64Array, q: number): number => {
  if (sorted.length === 0) {
    return 0
  }
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]
}

/** CPU time of this whole process so far, in milliseconds. */
const processCpuMs = (): number => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

/** A phase runner: runs one phase of the job with the client's own loop. */
export type Phase = (bounds: Bounds) => Promise<Recorder>

/** How much the mean rate of the last `window` slices exceeds that of the `window` before them. */
const growth = (rates: ReadonlyArray<number>, window: number): number => {
  let last = 0
  let before = 0
  for (let i = 0; i < window; i++) {
    last += rates[rates.length - 1 - i]
    before += rates[rates.length - 1 - window - i]
  }
  return before > 0 ? last / before - 1 : 0
}

/** The outcome of a warm-up: how long it took, or the first wrong response. */
type Warm = { readonly ok: true; readonly millis: number } | { readonly ok: false; readonly error: string }

/**
 * Warms up in slices until the throughput settles (see `WarmUp`); every limit is checked
 * before each slice, so it ends by `maxMillis` plus one slice at most.
 */
export const warmUp = async (warm: WarmUp, phase: Phase): Promise<Warm> => {
  const started = performance.now()
  const rates: Array<number> = []
  let requests = 0
  for (let slice = 0; slice < 1_000; slice++) {
    const spent = performance.now() - started
    const settled =
      requests >= (warm.minRequests ?? 0) &&
      rates.length >= 2 * warm.window &&
      growth(rates, warm.window) <= warm.settle
    if (spent >= warm.maxMillis || requests >= warm.requests || (spent >= warm.minMillis && settled)) {
      break
    }
    const recorder = await phase({ requests: warm.requests - requests, millis: warm.sliceMillis })
    if (recorder.wrong > 0) {
      return { ok: false, error: `warm-up: ${recorder.wrong} wrong response(s), first: ${recorder.firstWrong}` }
    }
    requests += recorder.completed
    rates.push(recorder.completed / Math.max(1, performance.now() - recorder.startedAt))
  }
  return { ok: true, millis: performance.now() - started }
}

/**
 * Warms up, then runs the measured phase (or the job's turns of it, see `Job.turns`), and
 * reports it with the process's CPU time over it and its peak RSS.
 */
export const measure = async (job: Job, phase: Phase): Promise<Measurement> => {
  const warm = await warmUp(job.warmup, phase)
  if (!warm.ok) {
    return failed(warm.error)
  }
  for (let turn = 1; turn < (job.turns ?? 1); turn++) {
    const measurement = await measured(job, phase, warm.millis)
    if (!measurement.ok) {
      return measurement
    }
    await nextTurn(measurement)
  }
  return measured(job, phase, warm.millis)
}

/** Sends a turn's measurement and waits for the orchestrator's word to take the next. */
const nextTurn = (measurement: Measurement): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) {
      resolve()
      return
    }
    const turn: Turn = { type: "turn", measurement }
    process.send(turn)
    process.once("message", () => resolve())
  })

/** One measured phase of a warm client. */
const measured = async (job: Job, phase: Phase, warmupMs: number): Promise<Measurement> => {
  const serverBefore = processTicks(job.serverPid)
  const cpuBefore = process.cpuUsage()
  const recorder = await phase(job.measure)
  const elapsedMs = performance.now() - recorder.startedAt
  const cpu = process.cpuUsage(cpuBefore)
  const serverAfter = processTicks(job.serverPid)
  const latencies = recorder.latencies.subarray(0, recorder.completed).sort()
  const requests = recorder.completed
  return {
    ok: recorder.wrong === 0 && requests > 0,
    warmupMs,
    error:
      recorder.wrong > 0
        ? `${recorder.wrong} wrong response(s), first: ${recorder.firstWrong}`
        : requests === 0
          ? "no request completed"
          : null,
    requests,
    wrong: recorder.wrong,
    elapsedMs,
    reqPerSec: (requests * 1000) / elapsedMs,
    bytesPerSec: (recorder.bytes * 1000) / elapsedMs,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    cpuUsPerReq: (cpu.user + cpu.system) / Math.max(1, requests),
    serverCpuUsPerReq:
      serverBefore === null || serverAfter === null
        ? null
        : ((serverAfter - serverBefore) * 1_000_000) / ticksPerSecond / Math.max(1, requests),
    maxRssKiB: process.resourceUsage().maxRSS,
    processCpuMs: processCpuMs()
  }
}

/** A measurement for a client that failed before or while measuring. */
export const failed = (error: string): Measurement => ({
  ok: false,
  warmupMs: 0,
  error,
  requests: 0,
  wrong: 0,
  elapsedMs: 0,
  reqPerSec: 0,
  bytesPerSec: 0,
  p50Ms: 0,
  p99Ms: 0,
  cpuUsPerReq: 0,
  serverCpuUsPerReq: null,
  maxRssKiB: process.resourceUsage().maxRSS,
  processCpuMs: processCpuMs()
})
