/**
 * One @effect/platform program, run over @effect/platform-node's `NodeHttpClient.layerUndici`,
 * over its `NodeHttpClient.layer` (node:http with a keep-alive agent), and over httpool's own
 * adapter, `NodeHttpClient.layer` from `@httpool/node`.
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpoolHttpClient from "@httpool/node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { foldLength, runEffect } from "../effectLoad.js"
import type { Reply } from "../load.js"
import type { Job } from "../protocol.js"
import { type Driver, requestBody, urlsOf } from "./common.js"

/** The program: `client.get(url)` (or `client.post`), then the body read in full or streamed. */
export const program =
  (job: Job) =>
  (client: HttpClient.HttpClient): ((index: number) => Effect.Effect<Reply, unknown>) => {
    const urls = urlsOf(job)
    const count = urls.length
    const bytes = requestBody(job)
    const body = bytes === null ? null : HttpBody.uint8Array(bytes, "application/octet-stream")
    const send = body === null ? (url: string) => client.get(url) : (url: string) => client.post(url, { body })
    if (job.stream) {
      return (index) =>
        Effect.flatMap(send(urls[index % count]), (response) =>
          Effect.map(foldLength(response.stream), (length): Reply => ({ status: response.status, length }))
        )
    }
    return (index) =>
      Effect.flatMap(send(urls[index % count]), (response) =>
        Effect.map(response.arrayBuffer, (buffer): Reply => ({ status: response.status, length: buffer.byteLength }))
      )
  }

/** httpool's adapter: `NodeHttpClient.layer` from @httpool/node, with the PoolManager's options. */
export const httpool: Driver = (job) =>
  runEffect(
    job,
    HttpoolHttpClient.layer({ numPools: job.numPools, connectionPoolKw: { maxsize: job.concurrency } }),
    HttpClient.HttpClient,
    program(job)
  )

export const undici: Driver = (job) => runEffect(job, NodeHttpClient.layerUndici, HttpClient.HttpClient, program(job))

/** The program with tracing disabled (`Effect.withTracerEnabled(false)`): no span per request. */
const untraced =
  (job: Job) =>
  (client: HttpClient.HttpClient): ((index: number) => Effect.Effect<Reply, unknown>) => {
    const send = program(job)(client)
    return (index) => Effect.withTracerEnabled(send(index), false)
  }

/** httpool's adapter with tracing disabled. */
export const httpoolUntraced: Driver = (job) =>
  runEffect(
    job,
    HttpoolHttpClient.layer({ numPools: job.numPools, connectionPoolKw: { maxsize: job.concurrency } }),
    HttpClient.HttpClient,
    untraced(job)
  )

/** layerUndici with tracing disabled. */
export const undiciUntraced: Driver = (job) =>
  runEffect(job, NodeHttpClient.layerUndici, HttpClient.HttpClient, untraced(job))

export const nodeHttp: Driver = (job) =>
  runEffect(
    job,
    NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: true }))),
    HttpClient.HttpClient,
    program(job)
  )
