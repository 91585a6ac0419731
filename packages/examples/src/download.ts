/**
 * A download streamed to a file (`node packages/examples/dist/download.js [URL FILE]` after
 * `npm run build`; without arguments it downloads 8 MiB from a local server). The body goes
 * from the pooled connection to the disk chunk by chunk, with backpressure, never whole in
 * memory; progress is reported as the bytes arrive. The file is written as `FILE.part` and
 * renamed when the body is complete, so a failed or interrupted download leaves no file
 * behind, and its connection is closed rather than returned to the pool.
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Headers, PoolManager } from "@httpool/core"
import { NodePoolManager } from "@httpool/node"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** Where a download stands: bytes written so far, and the total when the server said it. */
export interface Progress {
  readonly received: number
  readonly total: number | null
}

/** The server answered something other than 200, or the file could not be written. */
export class DownloadError extends Data.TaggedError("DownloadError")<{
  readonly url: string
  readonly reason: string
  readonly cause?: unknown
}> {}

/** Writes a chunk, waiting for the file to drain when its buffer is full (backpressure). */
const write = (file: fs.WriteStream, chunk: Uint8Array, url: string) =>
  Effect.async<void, DownloadError>((resume) => {
    const failed = (cause: Error) => resume(Effect.fail(new DownloadError({ url, reason: cause.message, cause })))
    file.once("error", failed)
    const done = () => {
      file.off("error", failed)
      resume(Effect.void)
    }
    if (file.write(chunk)) done()
    else file.once("drain", done)
  })

/** Opens `target` for writing in the current Scope; the Scope's end closes it. */
const open = (target: string, url: string) =>
  Effect.acquireRelease(
    Effect.try({
      try: () => fs.createWriteStream(target),
      catch: (cause) => new DownloadError({ url, reason: `cannot write ${target}`, cause })
    }),
    (file) => Effect.async<void>((resume) => file.close(() => resume(Effect.void)))
  )

/**
 * Downloads `url` to `file` with the PoolManager in context, calling `onProgress` after every
 * chunk written. Resolves to the number of bytes written.
 */
export const download = (url: string, file: string, onProgress: (progress: Progress) => Effect.Effect<void>) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const part = `${file}.part`
    const bytes = yield* Effect.scoped(
      Effect.gen(function* () {
        // preloadContent: false gives a streamed response, leased until this Scope closes.
        const response = yield* manager.request("GET", url, { preloadContent: false })
        if (response.status !== 200) {
          return yield* new DownloadError({ url, reason: `the server answered ${response.status}` })
        }
        const length = Option.getOrNull(Headers.get(response.headers, "content-length"))
        const total = length === null ? null : Number(length)
        const sink = yield* open(part, url)
        let received = 0
        yield* response.stream.pipe(
          Stream.filter((chunk) => chunk.length > 0), // the stream can carry empty chunks
          Stream.runForEach((chunk) =>
            Effect.zipRight(
              write(sink, chunk, url),
              Effect.suspend(() => {
                received += chunk.length
                return onProgress({ received, total })
              })
            )
          )
        )
        return received
      })
    ).pipe(Effect.onError(() => Effect.sync(() => fs.rmSync(part, { force: true }))))
    yield* Effect.try({
      try: () => fs.renameSync(part, file),
      catch: (cause) => new DownloadError({ url, reason: `cannot rename ${part}`, cause })
    })
    return bytes
  })

/** Prints a line every 10 % (or every MiB when the size is unknown). */
export const printEvery10Percent = (log: (line: string) => void) => {
  let next = 0
  return ({ received, total }: Progress) =>
    Effect.sync(() => {
      const step = total === null ? 1024 * 1024 : total / 10
      if (received >= next || received === total) {
        log(
          total === null ? `${received} bytes` : `${Math.round((received / total) * 100)}% (${received}/${total} bytes)`
        )
        next = received + step
      }
    })
}

/** A local server sending `size` pseudo-random bytes at `/file`, in 64 KiB writes. */
export const localFile = (size: number) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly sha256: string; readonly server: http.Server }>((resume) => {
      const body = crypto.randomBytes(size)
      const server = http.createServer((req, res) => {
        if (req.url !== "/file") {
          res.writeHead(404, { "Content-Length": 0 }).end()
          return
        }
        res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": size })
        let offset = 0
        const pump = () => {
          while (offset < size) {
            const end = Math.min(offset + 64 * 1024, size)
            const more = res.write(body.subarray(offset, end))
            offset = end
            if (!more) return void res.once("drain", pump)
          }
          res.end()
        }
        pump()
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        const sha256 = crypto.createHash("sha256").update(body).digest("hex")
        resume(Effect.succeed({ url: `http://127.0.0.1:${port}/file`, sha256, server }))
      })
    }),
    ({ server }) =>
      Effect.sync(() => {
        server.closeAllConnections()
        server.close()
      })
  )

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, file] = process.argv.slice(2)
  const program = Effect.gen(function* () {
    const source = url === undefined ? yield* localFile(8 * 1024 * 1024) : null
    const target = file ?? path.join(os.tmpdir(), `httpool-download-${process.pid}.bin`)
    const from = url ?? source!.url
    console.log(`downloading ${from} to ${target}`)
    const bytes = yield* download(from, target, printEvery10Percent(console.log))
    console.log(`${bytes} bytes written to ${target}`)
    if (source !== null) fs.rmSync(target)
  })
  Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(NodePoolManager.layer()))).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
