import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { NodePoolManager } from "@httpool/node"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { type Progress, download, localFile } from "../src/download.js"

/** A temp directory for the test, removed with its Scope. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "httpool-download-test-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** A server promising `size` bytes and closing the connection after half of them. */
const cutServer = (size: number) =>
  Effect.acquireRelease(
    Effect.async<http.Server>((resume) => {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { "Content-Length": size })
        res.write(Buffer.alloc(size / 2, 1), () => res.destroy())
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.sync(() => {
        server.closeAllConnections()
        server.close()
      })
  ).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/file`))

const sha256 = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex")

describe("the download example", () => {
  it.scopedLive("streams the body to the file, reporting progress up to the total", () =>
    Effect.gen(function* () {
      const source = yield* localFile(3 * 1024 * 1024 + 7)
      const dir = yield* tempDir
      const file = path.join(dir, "out.bin")
      const progress: Array<Progress> = []
      const bytes = yield* download(source.url, file, (p) => Effect.sync(() => progress.push(p)))
      expect(bytes).toBe(3 * 1024 * 1024 + 7)
      expect(sha256(file)).toBe(source.sha256)
      expect(fs.readdirSync(dir)).toEqual(["out.bin"])
      expect(progress.length).toBeGreaterThan(1)
      expect(progress.every((p, i) => i === 0 || p.received > progress[i - 1]!.received)).toBe(true)
      expect(progress.at(-1)).toEqual({ received: bytes, total: bytes })
    }).pipe(Effect.provide(NodePoolManager.layer()))
  )

  it.scopedLive("a 404 is a DownloadError and writes nothing", () =>
    Effect.gen(function* () {
      const source = yield* localFile(10)
      const dir = yield* tempDir
      const error = yield* Effect.flip(download(`${source.url}-missing`, path.join(dir, "x"), () => Effect.void))
      expect(error._tag === "DownloadError" ? error.reason : error._tag).toBe("the server answered 404")
      expect(fs.readdirSync(dir)).toEqual([])
    }).pipe(Effect.provide(NodePoolManager.layer()))
  )

  it.scopedLive("a body cut short fails with httpool's ProtocolError and leaves no file", () =>
    Effect.gen(function* () {
      const url = yield* cutServer(256 * 1024)
      const dir = yield* tempDir
      const error = yield* Effect.flip(download(url, path.join(dir, "x"), () => Effect.void))
      expect(error._tag).toBe("ProtocolError")
      expect(fs.readdirSync(dir)).toEqual([])
    }).pipe(Effect.provide(NodePoolManager.layer()))
  )

  it.scopedLive("an interrupted download leaves no file, and the next one succeeds", () =>
    Effect.gen(function* () {
      const source = yield* localFile(4 * 1024 * 1024)
      const dir = yield* tempDir
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        download(source.url, path.join(dir, "a"), () => Deferred.succeed(started, undefined).pipe(Effect.asVoid))
      )
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      expect(fs.readdirSync(dir)).toEqual([])
      yield* download(source.url, path.join(dir, "b"), () => Effect.void)
      expect(sha256(path.join(dir, "b"))).toBe(source.sha256)
    }).pipe(Effect.provide(NodePoolManager.layer()))
  )
})
