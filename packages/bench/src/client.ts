/**
 * A client process: `main.ts` forks it (pinned to core 1 when `taskset` exists), sends one
 * `Job`, and gets one `Measurement` back (after a `Turn` per turn but the last, for a job
 * with turns); then the process exits. Only the driver module of
 * the job's client is loaded. The process gives up by itself when the job takes far longer
 * than its bounds allow.
 */
import type { Driver } from "./drivers/common.js"
import { failed } from "./load.js"
import type { ClientId, Job, Measurement } from "./protocol.js"

/** Slack over the job's own time bounds before the process gives up. */
const slackMs = 20_000

/** Each Node client's driver, loaded on demand (the urllib3 clients run in python). */
const drivers: Partial<Record<ClientId, () => Promise<Driver>>> = {
  "httpool-pool": async () => (await import("./drivers/httpool.js")).pool,
  "httpool-manager": async () => (await import("./drivers/httpool.js")).manager,
  "httpool-manager-stream": async () => (await import("./drivers/httpool.js")).manager,
  "httpool-proxy": async () => (await import("./drivers/httpool.js")).proxyManager,
  "httpool-httpclient": async () => (await import("./drivers/platform.js")).httpool,
  "httpool-httpclient-untraced": async () => (await import("./drivers/platform.js")).httpoolUntraced,
  "undici-pool": async () => (await import("./drivers/undici.js")).pool,
  "undici-pool-headers": async () => (await import("./drivers/undici.js")).poolWithHeaders,
  "undici-agent": async () => (await import("./drivers/undici.js")).agent,
  "undici-proxy": async () => (await import("./drivers/undici.js")).proxyAgent,
  "httpool-socks": async () => (await import("./drivers/httpool.js")).proxyManager,
  "undici-socks": async () => (await import("./drivers/socks.js")).undici,
  "node-http": async () => (await import("./drivers/nodeHttp.js")).agent,
  axios: async () => (await import("./drivers/axios.js")).agent,
  "effect-undici": async () => (await import("./drivers/platform.js")).undici,
  "effect-undici-untraced": async () => (await import("./drivers/platform.js")).undiciUntraced,
  "effect-node": async () => (await import("./drivers/platform.js")).nodeHttp,
  "httpool-capped": async () => (await import("./drivers/capped.js")).httpool,
  "node-http-capped": async () => (await import("./drivers/capped.js")).nodeHttp
}

const reply = (measurement: Measurement, code: number): void => {
  if (process.send === undefined) {
    console.log(JSON.stringify(measurement))
    process.exit(code)
  }
  process.send(measurement, () => process.exit(code))
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const run = async (job: Job): Promise<Measurement> => {
  const load = drivers[job.client]
  if (load === undefined) {
    return failed(`no Node driver for ${job.client}`)
  }
  const driver = await load()
  return driver(job)
}

process.once("message", (job: Job) => {
  // A job with turns waits for the other clients' turns in between: the orchestrator times
  // those, and the process ends with it.
  if ((job.turns ?? 1) === 1) {
    const limit = job.warmup.maxMillis + job.measure.millis + slackMs
    setTimeout(() => reply(failed(`gave up after ${limit} ms`), 3), limit).unref()
  } else {
    process.once("disconnect", () => process.exit(3))
  }
  run(job).then(
    (measurement) => reply(measurement, measurement.ok ? 0 : 1),
    (error: unknown) => reply(failed(errorText(error)), 1)
  )
})
