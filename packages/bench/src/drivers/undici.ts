/**
 * undici's clients: `Pool.request`, and `request(url, { dispatcher })` with an `Agent` or a
 * `ProxyAgent`, all with default options.
 */
import { Agent, type Dispatcher, Pool, ProxyAgent, request } from "undici"
import { measure, promiseLoad, type Reply } from "../load.js"
import type { Job, Measurement } from "../protocol.js"
import { type Driver, requestBody, urlsOf } from "./common.js"

interface Body {
  arrayBuffer(): Promise<ArrayBuffer>
  [Symbol.asyncIterator](): AsyncIterator<Buffer>
}

const reply = async (job: Job, status: number, body: Body): Promise<Reply> => {
  if (job.stream) {
    let length = 0
    for await (const chunk of body) {
      length += chunk.length
    }
    return { status, length }
  }
  return { status, length: (await body.arrayBuffer()).byteLength }
}

/** `pool.request({ path, method })` on an undici Pool. */
export const pool: Driver = (job) => poolWith(job, undefined)

/**
 * The same with the headers httpool sends and undici does not (urllib3's defaults: an
 * `Accept-Encoding` and a `User-Agent`), so that both put the same bytes on the wire. Not a
 * target's peer: it shows what those two headers cost undici.
 */
export const poolWithHeaders: Driver = (job) =>
  poolWith(job, { "accept-encoding": "identity", "user-agent": "httpool/0.1.0" })

const poolWith = async (job: Job, headers: Record<string, string> | undefined): Promise<Measurement> => {
  const pool = new Pool(job.origins[0])
  const body = requestBody(job)
  const base =
    headers === undefined ? { path: job.path, method: job.method } : { path: job.path, method: job.method, headers }
  const options = body === null ? base : { ...base, body }
  try {
    return await measure(job, (bounds) =>
      promiseLoad(job, bounds, async () => {
        const response = await pool.request(options)
        return reply(job, response.statusCode, response.body)
      })
    )
  } finally {
    await pool.close()
  }
}

/** `request(url, { dispatcher })` over the job's origins, closing the dispatcher at the end. */
export const withDispatcher = async (job: Job, dispatcher: Dispatcher): Promise<Measurement> => {
  const urls = urlsOf(job)
  const count = urls.length
  const body = requestBody(job)
  const options = body === null ? { method: job.method, dispatcher } : { method: job.method, dispatcher, body }
  try {
    return await measure(job, (bounds) =>
      promiseLoad(job, bounds, async (index) => {
        const response = await request(urls[index % count], options)
        return reply(job, response.statusCode, response.body)
      })
    )
  } finally {
    await dispatcher.close()
  }
}

/** undici's `request(url, { dispatcher })` with an Agent. */
export const agent: Driver = (job) => withDispatcher(job, new Agent())

/** undici's `request(url, { dispatcher })` with a ProxyAgent trusting the bench CA. */
export const proxyAgent: Driver = (job) => {
  const uri = job.proxy ?? ""
  return withDispatcher(job, new ProxyAgent(job.caPem === null ? { uri } : { uri, requestTls: { ca: job.caPem } }))
}
