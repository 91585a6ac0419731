/**
 * axios: one instance with keep-alive `http.Agent`s (other options default), the body as an
 * `arraybuffer`, or counted from a `stream` response.
 */
import * as http from "node:http"
import * as https from "node:https"
import type { Readable } from "node:stream"
import axios from "axios"
import { measure, promiseLoad, type Reply } from "../load.js"
import { type Driver, requestBody, urlsOf } from "./common.js"

const countStream = (stream: Readable): Promise<number> =>
  new Promise((resolve, reject) => {
    let length = 0
    stream.on("data", (chunk: Buffer) => {
      length += chunk.length
    })
    stream.on("end", () => resolve(length))
    stream.on("error", reject)
  })

export const agent: Driver = async (job) => {
  const httpAgent = new http.Agent({ keepAlive: true })
  const httpsAgent = new https.Agent({ keepAlive: true, ...(job.caPem === null ? {} : { ca: job.caPem }) })
  const client = axios.create({ httpAgent, httpsAgent, validateStatus: () => true, maxRedirects: 0 })
  const urls = urlsOf(job)
  const count = urls.length
  const body = requestBody(job)
  const send = async (index: number): Promise<Reply> => {
    const response = await client.request({
      url: urls[index % count],
      method: job.method,
      ...(body === null ? {} : { data: Buffer.from(body), headers: { "Content-Type": "application/octet-stream" } }),
      responseType: job.stream ? "stream" : "arraybuffer"
    })
    const length = job.stream ? await countStream(response.data as Readable) : (response.data as ArrayBuffer).byteLength
    return { status: response.status, length }
  }
  try {
    return await measure(job, (bounds) => promiseLoad(job, bounds, send))
  } finally {
    httpAgent.destroy()
    httpsAgent.destroy()
  }
}
