import * as Cookies from "@effect/platform/Cookies"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as PlatformNodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as Fields from "@httpool/core/Fields"
import { describe, expect, it } from "@effect/vitest"
import Busboy from "busboy"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as fs from "node:fs"
import { Readable } from "node:stream"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import * as NodeHttpClient from "../src/NodeHttpClient.js"
import * as Docs from "./docs/httpClient.js"
import * as Proxy from "./utils/proxy.js"
import * as Fibers from "./utils/fibers.js"
import * as Servers from "./utils/servers.js"

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

interface Subject {
  readonly name: string
  readonly layer: Layer.Layer<HttpClient.HttpClient>
  readonly httpool: boolean
  /**
   * The FormData classes uploads work with. layerUndici hands the FormData to npm undici 7,
   * which cannot send Node's global FormData (from the undici 6 bundled in Node 20): it
   * fails with "action is not a function". httpool encodes either.
   */
  readonly formDatas: ReadonlyArray<readonly [name: string, make: () => FormData]>
}

const globalFormData = ["global FormData", () => new FormData()] as const
const undiciFormData = ["undici's FormData", () => new Undici.FormData() as unknown as FormData] as const

/** The layers every shared test runs against: a user must be able to swap one for the other. */
const subjects: ReadonlyArray<Subject> = [
  {
    name: "httpool NodeHttpClient.layer",
    layer: NodeHttpClient.layer(),
    httpool: true,
    formDatas: [globalFormData, undiciFormData]
  },
  {
    name: "@effect/platform-node NodeHttpClient.layerUndici",
    layer: PlatformNodeHttpClient.layerUndici,
    httpool: false,
    formDatas: [undiciFormData]
  }
]

/** Runs `f` with the HttpClient of `layer`, built for this run only. */
const withClient =
  (layer: Layer.Layer<HttpClient.HttpClient>) =>
  <A, E>(f: (client: HttpClient.HttpClient) => Effect.Effect<A, E, Scope.Scope>) =>
    Effect.flatMap(HttpClient.HttpClient, f).pipe(Effect.provide(layer))

const headerValue = (raw: ReadonlyArray<string>, name: string): string | undefined => {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name.toLowerCase()) return raw[i + 1]
  return undefined
}

/** Node's `gc`, which the test process is not started with: enabled at run time. */
const gc: () => void = (() => {
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
})()

/** Full collections, each followed by a turn of the loop in which finalizers run. */
const collectGarbage = Effect.promise(async () => {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
})

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0

const concat = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => Buffer.concat(Chunk.toReadonlyArray(chunks))

const echoed = (response: { readonly json: Effect.Effect<unknown, HttpClientError.ResponseError> }) =>
  Effect.map(response.json, (json) => json as Servers.Echoed)

/** A tracer that records every span it starts (Effect's own spans underneath). */
const collectingTracer = Effect.map(Effect.tracer, (base) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = base.span(name, parent, context, links, startTime, kind, options)
      spans.push(span)
      return span
    },
    context: (f, fiber) => base.context(f, fiber)
  })
  return { spans, tracer } as const
})

/** What `multipartEcho` answers: the fields and files busboy parsed. */
interface ParsedForm {
  readonly contentType: string
  readonly fields: Record<string, string>
  readonly files: Record<string, { readonly filename: string; readonly mimeType: string; readonly content: string }>
}

/** Parses the request body with busboy (a real multipart parser) and answers what it found. */
const multipartEcho: Servers.Handler = (req, res, received) => {
  const parsed: ParsedForm = { contentType: req.headers["content-type"] ?? "", fields: {}, files: {} }
  const parser = Busboy({ headers: req.headers })
  parser.on("field", (name, value) => {
    parsed.fields[name] = value
  })
  parser.on("file", (name, stream, info) => {
    const chunks: Array<Buffer> = []
    stream.on("data", (chunk: Buffer) => chunks.push(chunk))
    stream.on("end", () => {
      parsed.files[name] = {
        filename: info.filename ?? "",
        mimeType: info.mimeType,
        content: Buffer.concat(chunks).toString("utf8")
      }
    })
  })
  parser.on("close", () => {
    const body = JSON.stringify(parsed)
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) })
    res.end(body)
  })
  parser.on("error", (error) => {
    res.writeHead(400)
    res.end(String(error))
  })
  parser.end(Buffer.from(received.body))
}

/** Answers the paths in `routes` with a redirect and every other path with `Servers.echo`. */
const redirector =
  (routes: Map<string, readonly [number, string]>): Servers.Handler =>
  (req, res, received) => {
    const route = routes.get(received.url)
    if (route === undefined) return Servers.echo(req, res, received)
    const body = `redirecting to ${route[1]}`
    res.writeHead(route[0], { Location: route[1], "Content-Length": Buffer.byteLength(body) })
    res.end(body)
  }

/** Answers with the statuses of `statuses` in turn (the last one from then on), with `ok` as body. */
const statusSequence = (statuses: ReadonlyArray<number>): Servers.Handler => {
  const pending = [...statuses]
  return (_req, res) => {
    const status = pending.length > 1 ? pending.shift()! : pending[0]
    res.writeHead(status, { "Content-Length": 2 })
    res.end("ok")
  }
}

// ---------------------------------------------------------------------------
// The behaviour both layers share
// ---------------------------------------------------------------------------

describe.each(subjects)("HttpClient over $name", ({ layer, httpool, formDatas }) => {
  const run = withClient(layer)

  describe("responses", () => {
    it.scopedLive("json: a GET answered with JSON is parsed", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const body = yield* run((client) => Effect.flatMap(client.get(`${server.url}/things/1`), echoed))
        expect(body.method).toBe("GET")
        expect(body.url).toBe("/things/1")
      })
    )

    it.scopedLive("text: the body is decoded as UTF-8", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(
          Servers.fixed("grüße, 世界", { headers: [["Content-Type", "text/plain; charset=utf-8"]] })
        )
        const text = yield* run((client) => Effect.flatMap(client.get(server.url), (response) => response.text))
        expect(text).toBe("grüße, 世界")
      })
    )

    it.scopedLive("arrayBuffer: every byte of a binary body", () =>
      Effect.gen(function* () {
        const bytes = Servers.patternBytes(100_000)
        const server = yield* Servers.http(Servers.fixed(bytes))
        const buffer = yield* run((client) =>
          Effect.flatMap(client.get(server.url), (response) => response.arrayBuffer)
        )
        expect(buffer.byteLength).toBe(bytes.length)
        expect(sameBytes(new Uint8Array(buffer), bytes)).toBe(true)
      })
    )

    it.scopedLive("arrayBuffer of a small body holds exactly its bytes, never the rest of the read buffer", () =>
      Effect.gen(function* () {
        const bytes = Servers.patternBytes(64)
        const server = yield* Servers.http(Servers.fixed(bytes))
        const buffers = yield* run((client) =>
          Effect.all(
            Array.from({ length: 20 }, () =>
              Effect.flatMap(client.get(server.url), (response) => response.arrayBuffer)
            ),
            { concurrency: 4 }
          )
        )
        for (const buffer of buffers) {
          expect(buffer.byteLength).toBe(64)
          expect(sameBytes(new Uint8Array(buffer), bytes)).toBe(true)
        }
      })
    )

    it.scopedLive("stream: a 4 MiB body arrives in chunks with every byte right", () =>
      Effect.gen(function* () {
        const size = 4 * 1024 * 1024
        const { handler } = Servers.streamed(size)
        const server = yield* Servers.http(handler)
        const chunks = yield* run((client) =>
          Effect.flatMap(client.get(server.url), (response) => Stream.runCollect(response.stream))
        )
        expect(Chunk.size(chunks)).toBeGreaterThan(1)
        expect(sameBytes(concat(chunks), Servers.patternBytes(size))).toBe(true)
      })
    )

    it.scopedLive("json of an empty body is null, of a body that is not JSON a ResponseError Decode", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http((req, res, received) =>
          received.url === "/empty" ? Servers.fixed("")(req, res, received) : Servers.fixed("{oops")(req, res, received)
        )
        const empty = yield* run((client) => Effect.flatMap(client.get(`${server.url}/empty`), (r) => r.json))
        expect(empty).toBeNull()
        const error = yield* run((client) => Effect.flatMap(client.get(`${server.url}/bad`), (r) => r.json)).pipe(
          Effect.flip
        )
        expect(error._tag).toBe("ResponseError")
        expect(error.reason).toBe("Decode")
      })
    )

    it.scopedLive("urlParamsBody parses a urlencoded response", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(
          Servers.fixed("a=1&b=two+words&a=3", { headers: [["Content-Type", "application/x-www-form-urlencoded"]] })
        )
        const params = yield* run((client) => Effect.flatMap(client.get(server.url), (r) => r.urlParamsBody))
        expect(params).toEqual([
          ["a", "1"],
          ["b", "two words"],
          ["a", "3"]
        ])
      })
    )

    it.scopedLive("headers: repeated response headers are joined, Set-Cookie gives cookies", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http((_req, res) => {
          res.setHeader("X-Multi", ["a", "b"])
          res.setHeader("Set-Cookie", ["session=abc; Path=/; HttpOnly", "theme=dark; Max-Age=60"])
          res.setHeader("Content-Length", 2)
          res.end("ok")
        })
        const response = yield* run((client) => client.get(server.url))
        expect(response.status).toBe(200)
        expect(response.headers["x-multi"]).toBe("a, b")
        expect(response.headers["content-length"]).toBe("2")
        expect(Cookies.getValue(response.cookies, "session")).toEqual(Option.some("abc"))
        expect(Cookies.getValue(response.cookies, "theme")).toEqual(Option.some("dark"))
        expect(Option.getOrThrow(Cookies.get(response.cookies, "session")).options?.httpOnly).toBe(true)
      })
    )

    it.scopedLive("headers: names differing in case are one header; names an object has are plain headers", () =>
      Effect.gen(function* () {
        const server = yield* Servers.rawHttp((socket) => {
          socket.write(
            "HTTP/1.1 200 OK\r\nX-Case: a\r\nConstructor: c\r\nx-case: b\r\ntoString: t\r\nContent-Length: 2\r\n\r\nok"
          )
        })
        const response = yield* run((client) => client.get(`http://127.0.0.1:${server.port}/`))
        expect(response.headers["x-case"]).toBe("a, b")
        expect(response.headers.constructor).toBe("c")
        expect(response.headers.tostring).toBe("t")
        expect(Object.keys(response.headers)).toEqual(["x-case", "constructor", "tostring", "content-length"])
      })
    )

    it.scopedLive("a response without Set-Cookie has no cookies", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed("ok"))
        const response = yield* run((client) => client.get(server.url))
        expect(Cookies.isEmpty(response.cookies)).toBe(true)
      })
    )

    it.scopedLive("status: a 404 is a response; filterStatusOk makes it a ResponseError StatusCode", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed("missing", { status: 404 }))
        const response = yield* run((client) => client.get(server.url))
        expect(response.status).toBe(404)
        const error = yield* run((client) => HttpClient.filterStatusOk(client).get(server.url)).pipe(Effect.flip)
        expect(error._tag).toBe("ResponseError")
        expect(error._tag === "ResponseError" && error.reason).toBe("StatusCode")
        expect(error._tag === "ResponseError" && error.response.status).toBe(404)
      })
    )

    it.scopedLive("retryTransient retries 503 responses until a 200", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(statusSequence([503, 503, 200]))
        const response = yield* run((client) =>
          client.pipe(HttpClient.filterStatusOk, HttpClient.retryTransient({ times: 3 })).get(server.url)
        )
        expect(response.status).toBe(200)
        expect(server.requests.length).toBe(3)
      })
    )
  })

  describe("requests", () => {
    it.scopedLive("urlParams are appended to the URL's own query", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const body = yield* run((client) =>
          Effect.flatMap(
            client.get(`${server.url}/search?page=2`, { urlParams: { q: "a b&c", tag: ["x", "y"] } }),
            echoed
          )
        )
        const url = new URL(body.url, server.url)
        expect(url.pathname).toBe("/search")
        expect(url.searchParams.get("page")).toBe("2")
        expect(url.searchParams.get("q")).toBe("a b&c")
        expect(url.searchParams.getAll("tag")).toEqual(["x", "y"])
      })
    )

    it.scopedLive("headers of the request reach the server", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const body = yield* run((client) =>
          Effect.flatMap(
            client.get(server.url, { headers: { "X-Request-Id": "42", Accept: "application/json" } }),
            echoed
          )
        )
        expect(headerValue(body.rawHeaders, "x-request-id")).toBe("42")
        expect(headerValue(body.rawHeaders, "accept")).toBe("application/json")
      })
    )

    it.scopedLive("bodies: text, JSON, bytes, url params and a Stream arrive with their Content-Type", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const send = (request: HttpClientRequest.HttpClientRequest) =>
          run((client) => Effect.flatMap(client.execute(request), echoed))
        const post = HttpClientRequest.post(server.url)

        const text = yield* send(HttpClientRequest.bodyText(post, "héllo", "text/plain; charset=utf-8"))
        expect(text.method).toBe("POST")
        expect(Buffer.from(text.body, "latin1").toString("utf8")).toBe("héllo")
        expect(headerValue(text.rawHeaders, "content-type")).toBe("text/plain; charset=utf-8")
        expect(headerValue(text.rawHeaders, "content-length")).toBe("6")

        const json = yield* send(HttpClientRequest.bodyUnsafeJson(post, { a: [1, 2] }))
        expect(json.body).toBe('{"a":[1,2]}')
        expect(headerValue(json.rawHeaders, "content-type")).toBe("application/json")

        const bytes = yield* send(HttpClientRequest.bodyUint8Array(post, new Uint8Array([0, 1, 254, 255])))
        expect(bytes.bodyLength).toBe(4)
        expect([...Buffer.from(bytes.body, "latin1")]).toEqual([0, 1, 254, 255])
        expect(headerValue(bytes.rawHeaders, "content-type")).toBe("application/octet-stream")

        const params = yield* send(HttpClientRequest.bodyUrlParams(post, { a: "1", b: "x y" }))
        expect(params.body).toBe("a=1&b=x+y")
        expect(headerValue(params.rawHeaders, "content-type")).toBe("application/x-www-form-urlencoded")

        const chunks = Stream.make("one,", "two,", "three").pipe(Stream.encodeText)
        const streamed = yield* send(HttpClientRequest.bodyStream(post, chunks, { contentType: "text/csv" }))
        expect(streamed.body).toBe("one,two,three")
        expect(headerValue(streamed.rawHeaders, "content-type")).toBe("text/csv")
      })
    )

    for (const [formDataName, makeFormData] of formDatas) {
      it.scopedLive(`form data upload (${formDataName}): fields and files a real multipart parser reads back`, () =>
        Effect.gen(function* () {
          const server = yield* Servers.http(multipartEcho)
          const form = makeFormData()
          form.append("name", "quarterly")
          form.append("report", new Blob(["x,y\n1,2\n"], { type: "text/csv" }), "report.csv")
          form.append("raw", new Blob([new Uint8Array([104, 105])]))
          const request = HttpClientRequest.post(server.url).pipe(HttpClientRequest.bodyFormData(form))
          const parsed = yield* run((client) => Effect.flatMap(client.execute(request), (r) => r.json)).pipe(
            Effect.map((json) => json as ParsedForm)
          )
          expect(parsed.contentType).toMatch(/^multipart\/form-data; boundary=/)
          expect(parsed.fields).toEqual({ name: "quarterly" })
          expect(parsed.files.report).toEqual({ filename: "report.csv", mimeType: "text/csv", content: "x,y\n1,2\n" })
          expect(parsed.files.raw).toEqual({ filename: "blob", mimeType: "application/octet-stream", content: "hi" })
        })
      )
    }
  })

  describe("tracing", () => {
    it.scopedLive("a client span with OpenTelemetry attributes; traceparent reaches the server", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const { spans, tracer } = yield* collectingTracer
        const body = yield* run((client) => Effect.flatMap(client.get(`${server.url}/traced?x=1`), echoed)).pipe(
          Effect.withSpan("parent"),
          Effect.withTracer(tracer)
        )
        const span = spans.find((s) => s.name === "http.client GET")
        expect(span).toBeDefined()
        expect(span!.kind).toBe("client")
        expect(span!.status._tag).toBe("Ended")
        expect(Object.fromEntries(span!.attributes)).toMatchObject({
          "http.request.method": "GET",
          "url.full": `${server.url}/traced?x=1`,
          "url.path": "/traced",
          "url.query": "x=1",
          "server.address": server.url,
          "server.port": server.port,
          "http.response.status_code": 200
        })
        const traceparent = headerValue(body.rawHeaders, "traceparent")
        expect(traceparent).toBe(`00-${span!.traceId}-${span!.spanId}-01`)
        const status = span!.status
        expect(status._tag === "Ended" && Exit.isSuccess(status.exit)).toBe(true)
      })
    )

    it.scopedLive(
      "with Effect's own tracer, traceparent and b3 name a child of the caller's span, carried by the response's request",
      () =>
        Effect.gen(function* () {
          const server = yield* Servers.http(Servers.echo)
          const { parent, body, request } = yield* run((client) =>
            Effect.gen(function* () {
              const parent = yield* Effect.currentSpan
              const response = yield* client.get(`${server.url}/native`, { headers: { "x-caller": "1" } })
              return { parent, body: yield* echoed(response), request: response.request }
            })
          ).pipe(Effect.withSpan("parent"))
          const traceparent = headerValue(body.rawHeaders, "traceparent")
          const [version, traceId, spanId, flags] = (traceparent ?? "").split("-")
          expect([version, traceId, flags]).toEqual(["00", parent.traceId, "01"])
          expect(spanId).toMatch(/^[0-9a-f]{16}$/)
          expect(spanId).not.toBe(parent.spanId)
          expect(headerValue(body.rawHeaders, "b3")).toBe(`${traceId}-${spanId}-1-${parent.spanId}`)
          expect(headerValue(body.rawHeaders, "x-caller")).toBe("1")
          expect(request.headers.traceparent).toBe(traceparent)
          expect(request.headers.b3).toBe(headerValue(body.rawHeaders, "b3"))
          expect(request.headers["x-caller"]).toBe("1")
          // Without a parent span, a new trace: its b3 names no parent.
          const root = yield* run((client) => Effect.flatMap(client.get(`${server.url}/native`), echoed))
          const rootParent = headerValue(root.rawHeaders, "traceparent") ?? ""
          expect(rootParent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
          expect(rootParent.slice(3, 35)).not.toBe(parent.traceId)
          expect(headerValue(root.rawHeaders, "b3")).toBe(`${rootParent.slice(3, 35)}-${rootParent.slice(36, 52)}-1`)
          // A span that does not propagate is passed over: the client span's parent is the one above it.
          const hidden = yield* run((client) =>
            Effect.gen(function* () {
              const outer = yield* Effect.currentSpan
              const body = yield* Effect.flatMap(client.get(`${server.url}/native`), echoed).pipe(
                Effect.withSpan("hidden", { context: Context.make(Tracer.DisablePropagation, true) })
              )
              return { outer, body }
            })
          ).pipe(Effect.withSpan("outer"))
          const hiddenParent = headerValue(hidden.body.rawHeaders, "traceparent") ?? ""
          expect(hiddenParent.slice(3, 35)).toBe(hidden.outer.traceId)
          expect(headerValue(hidden.body.rawHeaders, "b3")).toBe(
            `${hidden.outer.traceId}-${hiddenParent.slice(36, 52)}-1-${hidden.outer.spanId}`
          )
        })
    )

    it.scopedLive("a request that fails ends its client span with the failure", () =>
      Effect.gen(function* () {
        const port = yield* Servers.closedPort
        const { spans, tracer } = yield* collectingTracer
        const error = yield* run((client) => client.get(`http://127.0.0.1:${port}/`)).pipe(
          Effect.withTracer(tracer),
          Effect.flip
        )
        const span = spans.find((s) => s.name === "http.client GET")
        const status = span!.status
        expect(status._tag).toBe("Ended")
        if (status._tag !== "Ended") return
        expect(Exit.isFailure(status.exit)).toBe(true)
        if (Exit.isSuccess(status.exit)) return
        expect(Cause.failureOption(status.exit.cause)).toEqual(Option.some(error))
      })
    )
  })

  describe("errors, abort and interruption", () => {
    it.scopedLive("a refused connection is a RequestError with reason Transport", () =>
      Effect.gen(function* () {
        const port = yield* Servers.closedPort
        const error = yield* run((client) => client.get(`http://127.0.0.1:${port}/`)).pipe(Effect.flip)
        expect(error._tag).toBe("RequestError")
        expect(error.reason).toBe("Transport")
        const caught = yield* run((client) => client.get(`http://127.0.0.1:${port}/`)).pipe(
          Effect.as("answered"),
          Effect.catchTag("RequestError", (e) => Effect.succeed(`caught ${e.reason}`))
        )
        expect(caught).toBe("caught Transport")
      })
    )

    it.scopedLive("a body cut short is a ResponseError Decode", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.truncated(1000))
        const error = yield* run((client) => Effect.flatMap(client.get(server.url), (r) => r.text)).pipe(Effect.flip)
        expect(error._tag).toBe("ResponseError")
        expect(error._tag === "ResponseError" && error.reason).toBe("Decode")
      })
    )

    it.scopedLive("interrupting a fiber waiting for the response closes its connection", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.silent)
        const arrived = yield* Deferred.make<void>()
        server.server.on("request", () => Deferred.unsafeDone(arrived, Exit.void))
        yield* run((client) =>
          Effect.gen(function* () {
            const fiber = yield* Effect.fork(client.get(server.url))
            yield* Deferred.await(arrived)
            yield* Fiber.interrupt(fiber)
            yield* server.waitForOpenSockets(0)
          })
        )
        // undici may open a second socket for the same request; httpool opens exactly one.
        if (httpool) expect(server.socketsOpened()).toBe(1)
      })
    )

    it.scopedLive("interrupting a fiber reading the body closes its connection", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.slowBody(60_000, "first part,"))
        yield* run((client) =>
          Effect.gen(function* () {
            const response = yield* client.get(server.url)
            const firstChunk = yield* Deferred.make<void>()
            const fiber = yield* response.stream.pipe(
              Stream.runForEach(() => Deferred.succeed(firstChunk, undefined)),
              Effect.fork
            )
            yield* Deferred.await(firstChunk)
            yield* Fiber.interrupt(fiber)
            yield* server.waitForOpenSockets(0)
          })
        )
      })
    )

    it.scopedLive("interrupting a text read closes its connection", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.slowBody(60_000, "first part,"))
        yield* run((client) =>
          Effect.gen(function* () {
            const response = yield* client.get(server.url)
            const fiber = yield* Effect.fork(response.text)
            // interrupted while it waits for the rest of the body
            yield* Fibers.untilBlocked(fiber)
            yield* Fiber.interrupt(fiber)
            yield* server.waitForOpenSockets(0)
          })
        )
      })
    )
  })
})

// ---------------------------------------------------------------------------
// What only httpool's layer does
// ---------------------------------------------------------------------------

describe("HttpClient over httpool only", () => {
  const run = withClient(NodeHttpClient.layer())

  describe("pooling", () => {
    it.scopedLive("three requests whose bodies are read share one pooled connection", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        yield* run((client) =>
          Effect.gen(function* () {
            yield* Effect.flatMap(client.get(server.url), (r) => r.json)
            yield* Effect.flatMap(client.get(server.url), (r) => Stream.runDrain(r.stream))
            yield* Effect.flatMap(client.post(server.url, { body: HttpBody.text("x") }), (r) => r.text)
          })
        )
        expect(server.socketsOpened()).toBe(1)
        expect(server.requests.map((r) => r.socketId)).toEqual([1, 1, 1])
      })
    )

    it.scopedLive("remoteAddress is the pooled connection's peer address", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const address = yield* run((client) =>
          Effect.flatMap(client.get(server.url), (r) => Effect.as(r.text, r.remoteAddress))
        )
        expect(address).toEqual(Option.some("127.0.0.1"))
      })
    )

    it.scopedLive("concurrent requests open a connection each; a pool of maxsize 3 keeps them all", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.slowHeaders(50, "ok"))
        yield* withClient(NodeHttpClient.layer({ connectionPoolKw: { maxsize: 3 } }))((client) =>
          Effect.gen(function* () {
            const get = Effect.flatMap(client.get(server.url), (r) => r.text)
            yield* Effect.all([get, get, get], { concurrency: "unbounded" })
            yield* Effect.all([get, get, get], { concurrency: "unbounded" })
          })
        )
        expect(server.socketsOpened()).toBe(3)
        expect(server.requests.length).toBe(6)
      })
    )

    it.scopedLive("a stream stopped early closes the connection; the next request opens another", () =>
      Effect.gen(function* () {
        const { handler } = Servers.streamed(4 * 1024 * 1024)
        const server = yield* Servers.http(handler)
        yield* run((client) =>
          Effect.gen(function* () {
            const response = yield* client.get(server.url)
            yield* response.stream.pipe(Stream.take(1), Stream.runDrain)
            yield* server.waitForOpenSockets(0)
            yield* Effect.flatMap(client.get(server.url), (r) => Stream.runDrain(r.stream))
          })
        )
        expect(server.socketsOpened()).toBe(2)
      })
    )

    it.scopedLive("an unread response is closed when HttpClient.withScope's Scope closes", () =>
      Effect.gen(function* () {
        const { handler } = Servers.streamed(4 * 1024 * 1024)
        const server = yield* Servers.http(handler)
        yield* run((client) =>
          Effect.gen(function* () {
            const status = yield* Effect.scoped(
              Effect.map(HttpClient.withScope(client).get(server.url), (r) => r.status)
            )
            expect(status).toBe(200)
            yield* server.waitForOpenSockets(0)
          })
        )
      })
    )

    it.scopedLive("an unread response is closed when it is garbage collected", () =>
      Effect.gen(function* () {
        const { handler } = Servers.streamed(4 * 1024 * 1024)
        const server = yield* Servers.http(handler)
        yield* run((client) =>
          Effect.gen(function* () {
            const status = yield* Effect.map(client.get(server.url), (r) => r.status)
            expect(status).toBe(200)
            // Nothing refers to the response any more: once it is collected, its connection closes.
            yield* collectGarbage
            yield* server.waitForOpenSockets(0)
          })
        )
      })
    )

    it.scopedLive("formData parses a multipart response (layerUndici: NotSupportedError from undici)", () =>
      Effect.gen(function* () {
        const multipart = Fields.encodeMultipart({ name: "report", upload: ["notes.txt", "hello", "text/plain"] })
        const server = yield* Servers.http(
          Servers.fixed(multipart.body, { headers: [["Content-Type", multipart.contentType]] })
        )
        const form = yield* run((client) => Effect.flatMap(client.get(server.url), (r) => r.formData))
        expect(form.get("name")).toBe("report")
        const file = form.get("upload")
        expect(file).toBeInstanceOf(Blob)
        expect((file as File).name).toBe("notes.txt")
        expect(yield* Effect.promise(() => (file as File).text())).toBe("hello")
        expect(server.socketsOpened()).toBe(1)
      })
    )

    it.scopedLive("text then json then stream read the body once", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed('{"n":1}'))
        yield* run((client) =>
          Effect.gen(function* () {
            const response = yield* client.get(server.url)
            expect(yield* response.text).toBe('{"n":1}')
            expect(yield* response.json).toEqual({ n: 1 })
            const chunks = yield* Stream.runCollect(response.stream)
            expect(Buffer.from(concat(chunks)).toString()).toBe('{"n":1}')
          })
        )
      })
    )

    it.scopedLive("a stream read twice fails the second time with a ResponseError", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.fixed("once"))
        yield* run((client) =>
          Effect.gen(function* () {
            const response = yield* client.get(server.url)
            yield* Stream.runDrain(response.stream)
            const error = yield* Effect.flip(response.text)
            expect(error.reason).toBe("Decode")
            expect(error.message).toContain("already read as a stream")
          })
        )
      })
    )
  })

  describe("redirects", () => {
    it.scopedLive("are followed by default; a 303 turns a POST into a GET without its body", () =>
      Effect.gen(function* () {
        const routes = new Map<string, readonly [number, string]>([["/submit", [303, "/result?id=7"]]])
        const server = yield* Servers.http(redirector(routes))
        const response = yield* run((client) =>
          client.post(`${server.url}/submit`, { body: HttpBody.text("payload", "text/plain") })
        )
        const body = (yield* response.json) as Servers.Echoed
        expect(body.method).toBe("GET")
        expect(body.url).toBe("/result?id=7")
        expect(body.bodyLength).toBe(0)
        expect(headerValue(body.rawHeaders, "content-type")).toBeUndefined()
        expect(response.request.method).toBe("GET")
        expect(response.request.url).toBe(`${server.url}/result`)
        expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["POST /submit", "GET /result?id=7"])
      })
    )

    it.scopedLive("form data streams its files with a Content-Length and is sent again after a 307", () =>
      Effect.gen(function* () {
        const routes = new Map<string, readonly [number, string]>([["/upload", [307, "/stored"]]])
        const server = yield* Servers.http(redirector(routes))
        const file = Servers.patternBytes(2 * 1024 * 1024 + 3)
        const form = new FormData()
        form.append("title", "big")
        form.append("data", new Blob([file], { type: "application/x-test" }), "data.bin")
        const body = yield* run((client) =>
          Effect.flatMap(client.post(`${server.url}/upload`, { body: HttpBody.formData(form) }), echoed)
        )
        expect(body.url).toBe("/stored")
        expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["POST /upload", "POST /stored"])
        expect(headerValue(body.rawHeaders, "transfer-encoding")).toBeUndefined()
        expect(Number(headerValue(body.rawHeaders, "content-length"))).toBe(body.bodyLength)
        expect(body.bodyLength).toBeGreaterThan(file.length)
        expect(body.body.includes(Buffer.from(file).toString("latin1"))).toBe(true)
        expect(body.body).toContain('name="title"\r\n\r\nbig\r\n')
        expect(body.body).toContain('filename="data.bin"\r\nContent-Type: application/x-test\r\n\r\n')
      })
    )

    it.scopedLive("a 307 replays the method and the body", () =>
      Effect.gen(function* () {
        const routes = new Map<string, readonly [number, string]>([["/old", [307, "/new"]]])
        const server = yield* Servers.http(redirector(routes))
        const body = yield* run((client) =>
          Effect.flatMap(client.put(`${server.url}/old`, { body: HttpBody.text("keep me") }), echoed)
        )
        expect(body.method).toBe("PUT")
        expect(body.url).toBe("/new")
        expect(body.body).toBe("keep me")
        const streamed = yield* run((client) =>
          Effect.flatMap(
            client.post(`${server.url}/old`, {
              body: HttpBody.stream(Stream.make("a,", "b").pipe(Stream.encodeText), "text/plain")
            }),
            echoed
          )
        )
        expect(`${streamed.method} ${streamed.url} ${streamed.body}`).toBe("POST /new a,b")
      })
    )

    it.scopedLive("credentials are dropped when a redirect changes the origin", () =>
      Effect.gen(function* () {
        const routesA = new Map<string, readonly [number, string]>()
        const a = yield* Servers.http(redirector(routesA))
        const b = yield* Servers.http(Servers.echo)
        routesA.set("/go", [302, `${b.url}/landing`])
        const body = yield* run((client) =>
          Effect.flatMap(
            client.get(`${a.url}/go`, {
              headers: { Authorization: "Bearer secret", Cookie: "session=1", "X-Trace": "kept" }
            }),
            echoed
          )
        )
        expect(body.url).toBe("/landing")
        expect(headerValue(body.rawHeaders, "authorization")).toBeUndefined()
        expect(headerValue(body.rawHeaders, "cookie")).toBeUndefined()
        expect(headerValue(body.rawHeaders, "x-trace")).toBe("kept")
        expect(headerValue(a.requests[0].rawHeaders, "authorization")).toBe("Bearer secret")
      })
    )

    it.scopedLive("followRedirects: false returns the 3xx as it is", () =>
      Effect.gen(function* () {
        const routes = new Map<string, readonly [number, string]>([["/moved", [301, "/here"]]])
        const server = yield* Servers.http(redirector(routes))
        const response = yield* withClient(NodeHttpClient.layer({ followRedirects: false }))((client) =>
          client.get(`${server.url}/moved`)
        )
        expect(response.status).toBe(301)
        expect(response.headers.location).toBe("/here")
        expect(yield* response.text).toBe("redirecting to /here")
        expect(server.requests.length).toBe(1)
      })
    )

    it.scopedLive("too many redirects is a RequestError whose cause is httpool's MaxRetryError", () =>
      Effect.gen(function* () {
        const routes = new Map<string, readonly [number, string]>([["/loop", [302, "/loop"]]])
        const server = yield* Servers.http(redirector(routes))
        const error = yield* withClient(NodeHttpClient.layer({ retries: { redirect: 2 } }))((client) =>
          client.get(`${server.url}/loop`)
        ).pipe(Effect.flip)
        expect(error._tag).toBe("RequestError")
        expect((error.cause as { readonly _tag: string })._tag).toBe("MaxRetryError")
        expect(server.requests.length).toBe(3)
        const last = yield* withClient(NodeHttpClient.layer({ retries: { redirect: 2, raiseOnRedirect: false } }))(
          (client) => client.get(`${server.url}/loop`)
        )
        expect(last.status).toBe(302)
        expect(server.requests.length).toBe(6)
      })
    )
  })

  describe("tracing", () => {
    it.scopedLive("a client span that succeeded ends with Exit.void, not the response, which it would keep alive", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const { spans, tracer } = yield* collectingTracer
        const status = yield* run((client) => Effect.map(client.get(server.url), (response) => response.status)).pipe(
          Effect.withTracer(tracer)
        )
        expect(status).toBe(200)
        const span = spans.find((s) => s.name === "http.client GET")
        const ended = span!.status
        expect(ended._tag).toBe("Ended")
        if (ended._tag !== "Ended") return
        expect(Exit.isSuccess(ended.exit) && ended.exit.value === undefined).toBe(true)
      })
    )

    it.scopedLive("the client span counts the redirects and retries httpool took and names the final URL", () =>
      Effect.gen(function* () {
        const routes = new Map<string, readonly [number, string]>([["/start", [302, "/end?k=v"]]])
        const server = yield* Servers.http(redirector(routes))
        const { spans, tracer } = yield* collectingTracer
        yield* run((client) => Effect.flatMap(client.get(`${server.url}/start`), (r) => r.json)).pipe(
          Effect.withTracer(tracer)
        )
        const span = spans.find((s) => s.name === "http.client GET")!
        expect(Object.fromEntries(span.attributes)).toMatchObject({
          "url.full": `${server.url}/start`,
          "http.response.status_code": 200,
          "httpool.redirects": 1,
          "httpool.retries": 0,
          "httpool.url.final": `${server.url}/end?k=v`
        })
      })
    )

    it.scopedLive("a request without redirects or retries gets only the connection's httpool attributes", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const { spans, tracer } = yield* collectingTracer
        yield* run((client) => Effect.flatMap(client.get(server.url), (r) => r.json)).pipe(Effect.withTracer(tracer))
        const span = spans.find((s) => s.name === "http.client GET")!
        expect([...span.attributes.keys()].filter((k) => k.startsWith("httpool.")).sort()).toEqual([
          "httpool.connection.id",
          "httpool.connection.reused",
          "httpool.pool",
          "httpool.pool.wait_ms"
        ])
      })
    )
  })

  describe("tracing turned off", () => {
    it.scopedLive("with tracing disabled, no span gets httpool's attributes, the caller's own included", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const { spans, tracer } = yield* collectingTracer
        yield* run((client) =>
          Effect.flatMap(client.get(server.url), (r) => r.json).pipe(
            Effect.withTracerEnabled(false),
            Effect.withSpan("caller")
          )
        ).pipe(Effect.withTracer(tracer))
        expect(spans.map((s) => s.name)).toEqual(["caller"])
        expect([...spans[0]!.attributes.keys()].filter((k) => k.startsWith("httpool."))).toEqual([])
      })
    )
  })

  describe("redirects compared with HttpClient.followRedirects over undici", () => {
    const undici = withClient(PlatformNodeHttpClient.layerUndici)

    it.scopedLive("HttpClient.followRedirects re-sends a POST and its body after a 303", () =>
      Effect.gen(function* () {
        const routes = new Map<string, readonly [number, string]>([["/submit", [303, "/result"]]])
        const server = yield* Servers.http(redirector(routes))
        const body = yield* undici((client) =>
          Effect.flatMap(
            HttpClient.followRedirects(client).post(`${server.url}/submit`, { body: HttpBody.text("payload") }),
            echoed
          )
        )
        expect(`${body.method} ${body.body}`).toBe("POST payload")
      })
    )

    it.scopedLive("HttpClient.followRedirects forwards Authorization to another origin", () =>
      Effect.gen(function* () {
        const routesA = new Map<string, readonly [number, string]>()
        const a = yield* Servers.http(redirector(routesA))
        const b = yield* Servers.http(Servers.echo)
        routesA.set("/go", [302, `${b.url}/landing`])
        const body = yield* undici((client) =>
          Effect.flatMap(
            HttpClient.followRedirects(client).get(`${a.url}/go`, { headers: { Authorization: "Bearer secret" } }),
            echoed
          )
        )
        expect(headerValue(body.rawHeaders, "authorization")).toBe("Bearer secret")
      })
    )
  })

  describe("errors", () => {
    it.scopedLive("a refused connection carries httpool's MaxRetryError and its NewConnectionError", () =>
      Effect.gen(function* () {
        const port = yield* Servers.closedPort
        const error = yield* run((client) => client.get(`http://127.0.0.1:${port}/`)).pipe(Effect.flip)
        const cause = error.cause as { readonly _tag: string; readonly reason: { readonly _tag: string } }
        expect(cause._tag).toBe("MaxRetryError")
        expect(cause.reason._tag).toBe("NewConnectionError")
        expect(error.message).toContain("Max retries exceeded")
      })
    )

    it.scopedLive("with retries off a refused connection is the NewConnectionError itself", () =>
      Effect.gen(function* () {
        const port = yield* Servers.closedPort
        const error = yield* withClient(NodeHttpClient.layer({ retries: false }))((client) =>
          client.get(`http://127.0.0.1:${port}/`)
        ).pipe(Effect.flip)
        expect(error.reason).toBe("Transport")
        expect((error.cause as { readonly _tag: string })._tag).toBe("NewConnectionError")
      })
    )

    it.scopedLive(
      "retries { connect: 0, read: 0 } leave a dropped connection to retryTransient, redirects still followed",
      () =>
        Effect.gen(function* () {
          const dropFirst = (): Servers.Handler => {
            let calls = 0
            const routes = new Map<string, readonly [number, string]>([["/start", [302, "/end"]]])
            const answer = redirector(routes)
            return (req, res, received) => {
              if (calls++ === 0) {
                req.socket.destroy()
                return
              }
              answer(req, res, received)
            }
          }
          const byDefault = yield* Servers.http(dropFirst())
          const body = yield* run((client) => Effect.flatMap(client.get(`${byDefault.url}/start`), echoed))
          expect(body.url).toBe("/end")
          expect(byDefault.requests.map((r) => r.url)).toEqual(["/start", "/start", "/end"])

          const noRetries = yield* Servers.http(dropFirst())
          const layer = NodeHttpClient.layer({ retries: { connect: 0, read: 0 } })
          const error = yield* withClient(layer)((client) => client.get(`${noRetries.url}/start`)).pipe(Effect.flip)
          expect(error.reason).toBe("Transport")
          expect(noRetries.requests.length).toBe(1)
          const retried = yield* withClient(layer)((client) =>
            Effect.flatMap(HttpClient.retryTransient(client, { times: 1 }).get(`${noRetries.url}/start`), echoed)
          )
          expect(retried.url).toBe("/end")
          expect(noRetries.requests.map((r) => r.url)).toEqual(["/start", "/start", "/end"])
        })
    )

    it.scopedLive("a scheme httpool has no pool for is a RequestError InvalidUrl", () =>
      Effect.gen(function* () {
        const error = yield* run((client) => client.get("ftp://127.0.0.1/file")).pipe(Effect.flip)
        expect(error._tag).toBe("RequestError")
        expect(error.reason).toBe("InvalidUrl")
        expect((error.cause as { readonly _tag: string })._tag).toBe("URLSchemeUnknown")
      })
    )

    it.scopedLive("a header value with CR LF is a RequestError Encode and nothing is sent", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const error = yield* run((client) =>
          client.get(server.url, { headers: { "X-Bad": "a\r\nInjected: yes" } })
        ).pipe(Effect.flip)
        expect(error._tag).toBe("RequestError")
        expect(error.reason).toBe("Encode")
        expect(server.requests.length).toBe(0)
        expect(server.socketsOpened()).toBe(0)
      })
    )

    it.scopedLive("Raw bodies: text and ArrayBuffer are sent, an unsupported value is a RequestError Encode", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.echo)
        const post = HttpClientRequest.post(server.url)
        const text = yield* run((client) =>
          Effect.flatMap(client.execute(HttpClientRequest.setBody(post, HttpBody.raw("raw text"))), echoed)
        )
        expect(text.body).toBe("raw text")
        const buffer = yield* run((client) =>
          Effect.flatMap(
            client.execute(HttpClientRequest.setBody(post, HttpBody.raw(new Uint8Array([65, 66]).buffer))),
            echoed
          )
        )
        expect(buffer.body).toBe("AB")
        const error = yield* run((client) =>
          client.execute(HttpClientRequest.setBody(post, HttpBody.raw({ not: "bytes" })))
        ).pipe(Effect.flip)
        expect(error._tag).toBe("RequestError")
        expect(error.reason).toBe("Encode")
        expect(error.message).toContain("Unsupported Raw body")
        expect(server.requests.length).toBe(2)
      })
    )

    it.scopedLive("a one-shot Raw body cannot follow a 307: RequestError Encode, UnrewindableBodyError", () =>
      Effect.gen(function* () {
        const routes = new Map<string, readonly [number, string]>([["/old", [307, "/new"]]])
        const server = yield* Servers.http(redirector(routes))
        const readable = Readable.from([Buffer.from("once")])
        const error = yield* run((client) =>
          client.execute(
            HttpClientRequest.post(`${server.url}/old`).pipe(HttpClientRequest.setBody(HttpBody.raw(readable)))
          )
        ).pipe(Effect.flip)
        expect(error._tag).toBe("RequestError")
        expect(error.reason).toBe("Encode")
        expect((error.cause as { readonly _tag: string })._tag).toBe("UnrewindableBodyError")
        expect(server.requests.map((r) => `${r.method} ${r.url} ${Buffer.from(r.body).toString()}`)).toEqual([
          "POST /old once"
        ])
      })
    )

    it.scopedLive("a body cut short carries httpool's ProtocolError", () =>
      Effect.gen(function* () {
        const server = yield* Servers.http(Servers.truncated(1000))
        const error = yield* run((client) => Effect.flatMap(client.get(server.url), (r) => r.text)).pipe(Effect.flip)
        expect(error._tag).toBe("ResponseError")
        expect((error.cause as { readonly _tag: string })._tag).toBe("ProtocolError")
      })
    )
  })

  describe("proxies", () => {
    it.scopedLive("layerProxy sends requests through the proxy", () =>
      Effect.gen(function* () {
        const proxy = yield* Proxy.start()
        const server = yield* Servers.http(Servers.echo)
        const body = yield* withClient(NodeHttpClient.layerProxy(proxy.url).pipe(Layer.orDie))((client) =>
          Effect.flatMap(client.get(`${server.url}/via-proxy`), echoed)
        )
        expect(body.url).toBe("/via-proxy")
        expect(proxy.seen).toEqual([`GET ${server.url}/via-proxy`])
      })
    )

    it.scopedLive("layerFromEnv reads HTTP_PROXY when the layer is built", () =>
      Effect.gen(function* () {
        const proxy = yield* Proxy.start()
        const server = yield* Servers.http(Servers.echo)
        const names = ["HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"]
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            const saved = names.map((name) => [name, process.env[name]] as const)
            for (const name of names) delete process.env[name]
            process.env.http_proxy = proxy.url
            return saved
          }),
          (saved) =>
            Effect.sync(() => {
              for (const [name, value] of saved) {
                if (value === undefined) delete process.env[name]
                else process.env[name] = value
              }
            })
        )
        const body = yield* withClient(NodeHttpClient.layerFromEnv().pipe(Layer.orDie))((client) =>
          Effect.flatMap(client.get(`${server.url}/from-env`), echoed)
        )
        expect(body.url).toBe("/from-env")
        expect(proxy.seen).toEqual([`GET ${server.url}/from-env`])
      })
    )
  })
})

// ---------------------------------------------------------------------------
// docs/http-client.md
// ---------------------------------------------------------------------------

describe("docs/http-client.md", () => {
  it.scopedLive("the smallest example: an @effect/platform program over NodeHttpClient.layer", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.echo)
      const todo = (yield* Docs.main(`${server.url}/todos/1`)) as Servers.Echoed
      expect(todo.url).toBe("/todos/1")
    })
  )

  it.scopedLive("the configured layer sends the default headers and follows redirects", () =>
    Effect.gen(function* () {
      const routes = new Map<string, readonly [number, string]>([["/a", [302, "/b"]]])
      const server = yield* Servers.http(redirector(routes))
      const body = (yield* Docs.getTodo(`${server.url}/a`).pipe(Effect.provide(Docs.configured))) as Servers.Echoed
      expect(body.url).toBe("/b")
      expect(headerValue(body.rawHeaders, "user-agent")).toBe("my-app/1.0")
    })
  )

  it.scopedLive("one manager serves HttpClient and PoolManager: one pool, one socket", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http(Servers.echo)
      expect(yield* Docs.bothApis(server.url)).toBe(1)
      expect(server.socketsOpened()).toBe(1)
    })
  )

  it.scopedLive("followRedirects: false gives the 3xx and its Location", () =>
    Effect.gen(function* () {
      const routes = new Map<string, readonly [number, string]>([["/old", [308, "/new"]]])
      const server = yield* Servers.http(redirector(routes))
      expect(yield* Docs.noRedirects(`${server.url}/old`)).toEqual({ status: 308, location: "/new" })
    })
  )

  it.scopedLive("whyItFailed names the reason and httpool's error", () =>
    Effect.gen(function* () {
      const port = yield* Servers.closedPort
      expect(yield* Docs.whyItFailed(`http://127.0.0.1:${port}/`)).toBe("Transport: MaxRetryError")
      const server = yield* Servers.http(Servers.fixed("ok"))
      expect(yield* Docs.whyItFailed(server.url)).toBe("answered")
    })
  )

  it.scopedLive("throughProxy goes through the proxy", () =>
    Effect.gen(function* () {
      const proxy = yield* Proxy.start()
      const server = yield* Servers.http(Servers.fixed("ok"))
      expect(yield* Docs.throughProxy(proxy.url, `${server.url}/x`)).toBe(200)
      expect(proxy.seen).toEqual([`GET ${server.url}/x`])
    })
  )

  const page = fs.readFileSync(new URL("../../../docs/http-client.md", import.meta.url), "utf8")
  const source = fs.readFileSync(new URL("./docs/httpClient.ts", import.meta.url), "utf8")

  it("every ts block of the page, imports aside, is in test/docs/httpClient.ts", () => {
    // each block carries its imports (scripts/docs-blocks.mjs type-checks it on its own)
    const blocks = Array.from(page.matchAll(/```ts\n([\s\S]*?)```/g), (match) =>
      match[1]!.replace(/^(import [^\n]*\n)+\n?/, "")
    )
    expect(blocks.length).toBeGreaterThan(0)
    for (const block of blocks) expect(source).toContain(block)
  })

  it("every link of the page to another docs page names a file that exists", () => {
    for (const [, file] of page.matchAll(/\]\(([\w-]+\.md)(?:#[\w-]+)?\)/g)) {
      expect([file, fs.existsSync(new URL(`../../../docs/${file}`, import.meta.url))]).toEqual([file, true])
    }
  })
})
