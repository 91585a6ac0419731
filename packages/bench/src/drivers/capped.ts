/**
 * A fan-out under a cap on connections across origins: httpool's PoolManager with
 * `maxTotalConnections` against node:http's keep-alive Agent with `maxTotalSockets`, both at
 * {@link CAP} connections, `numPools` pools (Node's Agent keeps every origin's free sockets).
 */
import * as http from "node:http"
import * as PoolManager from "@httpool/core/PoolManager"
import * as NodePoolManager from "@httpool/node/NodePoolManager"
import * as Effect from "effect/Effect"
import { runEffect } from "../effectLoad.js"
import { measure, promiseLoad, type Reply } from "../load.js"
import { type Driver, urlsOf } from "./common.js"

/** The most connections open at once, for both clients. */
export const CAP = 32

/** How long node:http's Agent keeps an idle socket, so that its cap frees up (see `nodeHttp`). */
const IDLE_MS = 100

/** `manager.request("GET", url)`, preloaded, with `maxTotalConnections: CAP`. */
export const httpool: Driver = (job) => {
  const urls = urlsOf(job)
  const layer = NodePoolManager.layer({ numPools: job.numPools, maxTotalConnections: CAP })
  return runEffect(
    job,
    layer,
    PoolManager.PoolManager,
    (manager) => (index) =>
      Effect.map(
        manager.request(job.method, urls[index % urls.length]),
        (response): Reply => ({ status: response.status, length: response.data.length })
      )
  )
}

/**
 * `http.request` with `new http.Agent({ keepAlive: true, maxTotalSockets: CAP, timeout })`, the
 * body buffered. Node's Agent never closes another origin's free socket to make room under
 * `maxTotalSockets`: with only keep-alive, once every place holds an idle socket of some other
 * origin the requests wait with nothing left to wake them, and the process exits with its
 * requests unanswered (seen in the full run of 2026-12-06). Its socket `timeout` is what frees
 * places: idle sockets close after {@link IDLE_MS}, while a timer of the driver's own keeps the
 * process running until they do.
 */
export const nodeHttp: Driver = async (job) => {
  const agent = new http.Agent({ keepAlive: true, maxTotalSockets: CAP, timeout: IDLE_MS })
  const targets = job.origins.map((origin) => {
    const url = new URL(origin)
    return { host: url.hostname, port: Number(url.port) }
  })
  const send = (index: number): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const target = targets[index % targets.length]
      const request = http.request(
        { host: target.host, port: target.port, path: job.path, method: job.method, agent },
        (response) => {
          const chunks: Array<Buffer> = []
          response.on("data", (chunk: Buffer) => chunks.push(chunk))
          response.on("end", () => resolve({ status: response.statusCode ?? 0, length: Buffer.concat(chunks).length }))
          response.on("error", reject)
        }
      )
      request.on("error", reject)
      request.end()
    })
  // The Agent keeps its free sockets unreferenced, and their timeouts with them: when every
  // place holds an idle socket of another origin and the rest of the requests wait for a place,
  // nothing keeps the event loop alive, and the process used to exit (code 0, no result)
  // before the timeouts that free the places fired. A referenced timer keeps it running.
  const alive = setInterval(() => {}, IDLE_MS)
  try {
    return await measure(job, (bounds) => promiseLoad(job, bounds, send))
  } finally {
    clearInterval(alive)
    agent.destroy()
  }
}
