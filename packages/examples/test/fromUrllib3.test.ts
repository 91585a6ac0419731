import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { PoolManager } from "@httpool/core"
import { NodeConnector, NodePoolManager } from "@httpool/node"
import { Effect, Exit, Scope } from "effect"
import { createProxy } from "proxy"
import * as Examples from "../src/fromUrllib3.js"

/** The request as a test server received it (header names lower-case); it answers with it as JSON. */
interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** A URL on `server` that redirects to `to` with `status` (302 by default). */
const redirectTo = (server: string, to: string, status = 302): string =>
  `${server}/redirect?status=${status}&to=${encodeURIComponent(to)}`

/**
 * A loopback server as the examples expect it (see the header of src/fromUrllib3.ts), plus
 * `/drop-once`, whose first request for a target loses its connection without a response;
 * later ones get the echo, or a 302 to the `to` parameter when there is one.
 */
interface Server {
  readonly url: string
  /** Every request received, oldest first. */
  readonly requests: Array<Seen>
  /** TCP connections open now. */
  readonly openSockets: () => number
  /** Waits (on the sockets' close events, up to 5 s) until `openSockets()` is `n`. */
  readonly waitForOpenSockets: (n: number) => Effect.Effect<void>
}

const answer = (
  name: string,
  dropped: Set<string>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  seen: Seen
) => {
  const url = new URL(seen.url, "http://placeholder")
  if (url.pathname === "/drop-once" && !dropped.has(seen.url)) {
    // the first request for this target loses its connection before any response
    dropped.add(seen.url)
    req.socket.destroy()
  } else if (url.pathname === "/redirect" || (url.pathname === "/drop-once" && url.searchParams.has("to"))) {
    res.writeHead(Number(url.searchParams.get("status") ?? 302), { Location: url.searchParams.get("to") ?? "/" })
    res.end()
  } else if (url.pathname === "/loop") {
    res.writeHead(302, { Location: "/loop" })
    res.end()
  } else {
    const body = JSON.stringify(seen)
    res.writeHead(200, { Server: name, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) })
    res.end(req.method === "HEAD" ? undefined : body)
  }
}

/** Starts a node:http server on 127.0.0.1, port 0, closed with its sockets when the Scope closes. */
const server = (name: string) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Server; readonly close: () => void }>((resume) => {
      const requests: Array<Seen> = []
      const dropped = new Set<string>()
      let open = 0
      // Checked whenever a socket opens or closes: what waitForOpenSockets waits on.
      const waiters = new Set<() => void>()
      const changed = () => {
        for (const waiter of waiters) waiter()
      }
      const s = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const headers: Record<string, string> = {}
          for (const [key, value] of Object.entries(req.headers)) {
            headers[key] = Array.isArray(value) ? value.join(", ") : String(value)
          }
          const seen = { method: req.method ?? "", url: req.url ?? "", headers, body: Buffer.concat(chunks).toString() }
          requests.push(seen)
          answer(name, dropped, req, res, seen)
        })
      })
      s.on("connection", (socket) => {
        open++
        changed()
        socket.on("close", () => {
          open--
          changed()
        })
      })
      s.listen(0, "127.0.0.1", () => {
        const { port } = s.address() as AddressInfo
        const openSockets = () => open
        const waitForOpenSockets = (n: number): Effect.Effect<void> =>
          Effect.async<void>((resume) => {
            if (open === n) return resume(Effect.void)
            const waiter = () => {
              if (open !== n) return
              waiters.delete(waiter)
              resume(Effect.void)
            }
            waiters.add(waiter)
            return Effect.sync(() => waiters.delete(waiter))
          }).pipe(
            Effect.timeoutFail({
              duration: "5 seconds",
              onTimeout: () => new Error(`${open} sockets open, expected ${n}`)
            }),
            Effect.orDie
          )
        resume(
          Effect.succeed({
            server: { url: `http://127.0.0.1:${port}`, requests, openSockets, waitForOpenSockets },
            close: () => {
              s.closeAllConnections()
              s.close()
            }
          })
        )
      })
    }),
    ({ close }) => Effect.sync(close)
  ).pipe(Effect.map(({ server }) => server))

/** What failed, for a person: a tagged error by tag and message, a response by status and URL. */
const describeFailure = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    if ("_tag" in error) return `${String(error._tag)}: ${String((error as { message?: unknown }).message)}`
    if ("status" in error && "url" in error) return `an unexpected response: ${String(error.status)} from ${error.url}`
  }
  return String(error)
}

/**
 * `it.scopedLive` (real clock and sockets) whose failures are plain Errors: vitest 3.2 hangs
 * while printing a failure that is a Response (as `Effect.flip` of a request that
 * unexpectedly succeeded gives), so a regression would show as a timeout instead of a message.
 */
const live = (name: string, body: () => Effect.Effect<void, unknown, Scope.Scope>) =>
  it.scopedLive(name, () => Effect.mapError(body(), (error) => new Error(describeFailure(error))))

/** A real forward/CONNECT proxy (the `proxy` package) on 127.0.0.1 that wants these credentials. */
const forwardProxy = (credentials: string) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly requests: Array<string>; readonly close: () => void }>((resume) => {
      const requests: Array<string> = []
      const server = createProxy(http.createServer())
      server.authenticate = (req) => {
        requests.push(`${req.method} ${req.url}`)
        return req.headers["proxy-authorization"] === `Basic ${Buffer.from(credentials).toString("base64")}`
      }
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${port}`,
            requests,
            close: () => {
              server.closeAllConnections()
              server.close()
            }
          })
        )
      })
    }),
    ({ close }) => Effect.sync(close)
  )

describe("docs/pool-manager.md and docs/from-urllib3.md examples", () => {
  live("smallest: a GET through NodePoolManager.layer", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.smallest(`${s.url}/`)).toBe(200)
      expect(s.requests.map((r) => [r.method, r.url])).toEqual([["GET", "/"]])
    })
  )

  live("poolManager: the seed's first example, two origins, three requests on one", () =>
    Effect.gen(function* () {
      const example = yield* server("ECS (iad/182A)")
      const httpbin = yield* server("gunicorn/18.0")
      expect(yield* Examples.poolManager(example.url, httpbin.url)).toEqual({
        servers: ["ECS (iad/182A)", "gunicorn/18.0"],
        statuses: [200, 200, 200, 200],
        pools: 2,
        numRequests: 3
      })
      expect(httpbin.requests.map((r) => [r.method, r.url])).toEqual([
        ["GET", "/"],
        ["POST", "/headers"],
        ["HEAD", "/cookies"]
      ])
      // the layer's Scope closed: every socket it opened is closed
      yield* example.waitForOpenSockets(0)
      yield* httpbin.waitForOpenSockets(0)
    })
  )

  live("connectionPoolKw: myField outside the default key, one pool", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.connectionPoolKw(s.url)).toEqual({ myField: "barley", pools: 1 })
      expect(s.requests).toEqual([]) // pools open connections lazily
    })
  )

  live("customKey: a key shape with myField, two pools", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.customKey(s.url)).toEqual({ pools: 2, myFields: ["wheat", "barley"] })
    })
  )

  live("withPoolManager: closing the Scope empties the manager and closes the sockets", () =>
    Effect.gen(function* () {
      const example = yield* server("a")
      const httpbin = yield* server("b")
      expect(yield* Examples.withPoolManager(example.url, httpbin.url)).toEqual({ inside: 2, after: 0 })
      yield* example.waitForOpenSockets(0)
      yield* httpbin.waitForOpenSockets(0)
    })
  )

  live("numPools: num_pools=2 and three URLs on two hosts keep two pools", () =>
    Effect.gen(function* () {
      const google = yield* server("google")
      const yahoo = yield* server("yahoo")
      expect(yield* Examples.numPools(google.url, yahoo.url)).toBe(2)
      expect(google.requests.map((r) => r.url)).toEqual(["/", "/mail"])
    })
  )

  live("recentlyUsedContainer: a, b, a, c with numPools 2 leaves a and c", () =>
    Effect.gen(function* () {
      const [a, b, c] = [yield* server("a"), yield* server("b"), yield* server("c")]
      expect(yield* Examples.recentlyUsedContainer(a.url, b.url, c.url)).toEqual([a.url, c.url])
      // b's pool was evicted after its request ended, so its socket is closed at once
      yield* b.waitForOpenSockets(0)
    })
  )

  live("defaultHeaders: request headers replace the manager's", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.defaultHeaders(s.url)).toEqual({ plain: ["pools", null], own: [null, "mine"] })
    })
  )

  live("keyFnByScheme: the option and per-call pool options", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.keyFnByScheme(s.url)).toBe(2)
    })
  )

  live("poolClassesByScheme: the factory makes each pool once", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.poolClassesByScheme(s.url)).toEqual([s.url.replace("http://", "")])
      expect(s.requests.map((r) => r.url)).toEqual(["/a", "/b"])
    })
  )

  live("poolKeyFields: the key holds every option; TLS options do not stop an http pool", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      const port = Number(new URL(s.url).port)
      expect(yield* Examples.poolKeyFields(s.url)).toEqual({
        status: 200,
        key: {
          scheme: "http",
          host: "127.0.0.1",
          port,
          timeout: null,
          retries: 3,
          block: true,
          sourceAddress: null,
          caCerts: "/etc/ssl/certs/ca-certificates.crt",
          certFile: null
        }
      })
    })
  )

  live("connectionFrom: host, url, context and key give one pool", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.connectionFrom(s.url)).toEqual({ samePool: true, pools: 1, path: "/via-the-pool" })
    })
  )

  live("clear: the request in flight completes; the pool closes when its last lease ends", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.clear(s.url)).toEqual({
        poolsAfterClear: 0,
        method: "GET",
        statsWhileLeased: { numConnections: 1, numRequests: 1, idle: 1, inUse: 0 },
        idleAfterLeases: 0,
        afterLeases: "ClosedPoolError"
      })
      yield* s.waitForOpenSockets(0)
    })
  )

  live("clear: the socket closes when the lease ends, before the manager does", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      const manager = yield* PoolManager.PoolManager
      yield* Effect.scoped(
        Effect.gen(function* () {
          const streaming = yield* manager.request("GET", s.url, { preloadContent: false })
          yield* manager.clear
          expect(s.openSockets()).toBe(1)
          expect(yield* streaming.text).toContain('"method":"GET"')
        })
      )
      yield* s.waitForOpenSockets(0)
      expect((yield* manager.pools).size).toBe(0)
    }).pipe(Effect.provide(NodePoolManager.layer()))
  )

  live("requestEncodeUrl: fields in the query string", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.requestEncodeUrl(s.url)).toBe("/search?q=caf%C3%A9+au+lait&page=2")
    })
  )

  live("requestEncodeBody: urllib3's fields example as multipart, and urlencoded", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.requestEncodeBody(s.url)).toEqual({
        multipart: {
          contentType: "multipart/form-data; boundary=boundary",
          body: [
            "--boundary",
            'Content-Disposition: form-data; name="foo"',
            "",
            "bar",
            "--boundary",
            'Content-Disposition: form-data; name="fakefile"; filename="foofile.txt"',
            "Content-Type: text/plain",
            "",
            "contents of foofile",
            "--boundary",
            'Content-Disposition: form-data; name="typedfile"; filename="bazfile.bin"',
            "Content-Type: image/jpeg",
            "",
            "contents of bazfile",
            "--boundary",
            'Content-Disposition: form-data; name="nonamefile"',
            "",
            "contents of nonamefile field",
            "--boundary--",
            ""
          ].join("\r\n")
        },
        form: { contentType: "application/x-www-form-urlencoded", body: "foo=bar&q=a+b" }
      })
    })
  )

  live("request: fields by method, and json", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.request(s.url)).toEqual({
        get: ["/?q=pools", ""],
        post: ["/", "q=pools"],
        json: ["application/json", '{"q":"pools"}']
      })
    })
  )

  live("urlopen: body and headers as given, no fragment on the wire", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.urlopen(s.url)).toEqual({
        method: "PUT",
        target: "/notes/1",
        contentType: "text/plain",
        body: "raw text"
      })
    })
  )

  live("redirect303: a POST becomes a GET on the other host, without body and content headers", () =>
    Effect.gen(function* () {
      const a = yield* server("a")
      const b = yield* server("b")
      expect(yield* Examples.redirect303(a.url, b.url)).toEqual({
        url: `${b.url}/landing`,
        method: "GET",
        body: "",
        contentType: null,
        history: [["POST", 303, `${b.url}/landing`]]
      })
      expect(a.requests.map((r) => [r.method, r.body])).toEqual([["POST", "name=value"]])
    })
  )

  live("redirect307: method and body kept, relative Location resolved", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.redirect307(s.url)).toEqual({
        url: `${s.url}/moved?x=1`,
        method: "POST",
        target: "/moved?x=1",
        body: "payload"
      })
    })
  )

  live("removeHeadersOnRedirect: credentials stripped across hosts only", () =>
    Effect.gen(function* () {
      const a = yield* server("a")
      const b = yield* server("b")
      expect(yield* Examples.removeHeadersOnRedirect(a.url, b.url)).toEqual({
        otherHost: ["x-trace"],
        sameHost: ["authorization", "cookie", "x-trace"],
        custom: ["authorization", "cookie"]
      })
      // the first request reached a with every header
      expect(Object.keys(a.requests[0]!.headers)).toEqual(expect.arrayContaining(["authorization", "cookie"]))
    })
  )

  live("redirectChain: one Retry across hosts", () =>
    Effect.gen(function* () {
      const a = yield* server("a")
      const b = yield* server("b")
      expect(yield* Examples.redirectChain(a.url, b.url)).toEqual({
        status: 200,
        redirects: 3,
        exhausted: "too many redirects"
      })
      // the exhausted chain stopped after its third response: /end was never asked for again
      expect(b.requests.filter((r) => r.url === "/end")).toHaveLength(1)
    })
  )

  live("raiseOnRedirect and redirect: false", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.raiseOnRedirect(s.url)).toEqual({
        failed: "too many redirects",
        returned: [302, 2],
        unfollowed: [302, "/loop", 0]
      })
      expect(s.requests).toHaveLength(3 + 3 + 1)
    })
  )

  live("unknownScheme: URLSchemeUnknown, directly or after a redirect", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.unknownScheme(s.url)).toEqual(["ftp", "ftp"])
    })
  )

  live("schemelessUrl: LocationValueError, nothing sent", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      const host = s.url.replace("http://", "")
      expect(yield* Examples.schemelessUrl(s.url)).toEqual([
        "LocationValueError",
        `URL '${host}' has no scheme: start it with http:// or https://`
      ])
      expect(s.requests).toEqual([])
    })
  )

  live("keysByValue: equal Timeout and Retry values share a pool", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      expect(yield* Examples.keysByValue(s.url)).toEqual([1, 2])
    })
  )

  live("proxyManager: proxy headers with basic auth, one pool for http targets, one per https target", () =>
    Effect.gen(function* () {
      const proxy = yield* forwardProxy("myusername:mypassword")
      const example = yield* server("example")
      const httpbin = yield* server("httpbin")
      expect(yield* Examples.proxyManager(proxy.url, example.url, httpbin.url)).toEqual({
        status: 200,
        httpPools: 1,
        pools: 3
      })
      // both requests went through the proxy in absolute form; nothing was tunnelled
      expect(proxy.requests).toEqual([`GET ${example.url}/`, `GET ${httpbin.url}/`])
      expect([example.requests.length, httpbin.requests.length]).toEqual([1, 1])
    })
  )

  live("makeHeaders: proxyBasicAuth", () =>
    Effect.gen(function* () {
      expect(yield* Examples.makeHeaders()).toEqual({
        "proxy-authorization": "Basic bXl1c2VybmFtZTpteXBhc3N3b3Jk"
      })
    })
  )

  live("encodeFields: multipart and urlencoded without sending", () =>
    Effect.gen(function* () {
      expect(yield* Examples.encodeFields()).toEqual({
        contentType: "multipart/form-data; boundary=xyz",
        body: [
          "--xyz",
          'Content-Disposition: form-data; name="name"',
          "",
          "report",
          "--xyz",
          'Content-Disposition: form-data; name="file"; filename="a.txt"',
          "Content-Type: text/plain",
          "",
          "hello",
          "--xyz--",
          ""
        ].join("\r\n"),
        urlencoded: "q=caf%C3%A9+au+lait&page=2"
      })
    })
  )
})

describe("behaviour docs/pool-manager.md states beyond the examples", () => {
  live("a 303 answering a HEAD becomes a GET at the manager, as in urllib3", () =>
    Effect.gen(function* () {
      const a = yield* server("a")
      const b = yield* server("b")
      const manager = yield* PoolManager.PoolManager
      const response = yield* manager.request("HEAD", redirectTo(a.url, `${b.url}/x`, 303))
      expect(response.status).toBe(200)
      expect(b.requests.map((r) => r.method)).toEqual(["GET"])
    }).pipe(Effect.provide(NodePoolManager.layer()))
  )

  live("a retry a pool makes on the last hop is in the history and counts against the same Retry", () =>
    Effect.gen(function* () {
      const a = yield* server("a")
      const b = yield* server("b")
      const c = yield* server("c")
      const manager = yield* PoolManager.PoolManager
      const response = yield* manager.request("GET", redirectTo(a.url, `${b.url}/drop-once`), { retries: 2 })
      expect(response.status).toBe(200)
      expect(response.retries?.history.map((h) => [h.status, h.error?._tag ?? null])).toEqual([
        [302, null],
        [null, "ProtocolError"]
      ])
      // with one retry fewer the same chain fails (a fresh server: no idle socket to replay on)
      const exhausted = yield* Effect.flip(
        manager.request("GET", redirectTo(a.url, `${c.url}/drop-once`), { retries: 1 })
      )
      expect(exhausted._tag === "MaxRetryError" ? exhausted.reason?._tag : exhausted._tag).toBe("ProtocolError")
    }).pipe(Effect.provide(NodePoolManager.layer()))
  )

  live("a retry a pool makes on a middle hop counts too (urllib3 2.7.0 forgets it and succeeds)", () =>
    Effect.gen(function* () {
      const a = yield* server("a")
      const b = yield* server("b")
      const c = yield* server("c")
      const manager = yield* PoolManager.PoolManager
      const via = (hop: Server) => redirectTo(a.url, `${hop.url}/drop-once?to=${encodeURIComponent(`${a.url}/end`)}`)
      const exhausted = yield* Effect.flip(manager.request("GET", via(b), { retries: 2 }))
      expect(exhausted._tag === "MaxRetryError" ? exhausted.reason?.message : exhausted._tag).toBe("too many redirects")
      const response = yield* manager.request("GET", via(c), { retries: 3 })
      expect(response.retries?.history.map((h) => [h.status, h.error?._tag ?? null])).toEqual([
        [302, null],
        [null, "ProtocolError"],
        [302, null]
      ])
    }).pipe(Effect.provide(NodePoolManager.layer()))
  )

  live("connectionPoolKw.headers belong to the pool: manager requests send the manager's headers", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      const manager = yield* PoolManager.PoolManager
      yield* manager.request("GET", s.url)
      const pool = yield* manager.connectionFromUrl(s.url)
      yield* pool.request("GET", "/direct")
      expect(s.requests.map((r) => r.headers["x-pool"] ?? null)).toEqual([null, "1"])
    }).pipe(Effect.provide(NodePoolManager.layer({ connectionPoolKw: { headers: { "X-Pool": "1" } } })))
  )

  live("a manager's headers are checked when a request uses them", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      const manager = yield* PoolManager.PoolManager
      const error = yield* Effect.flip(manager.request("GET", s.url))
      expect(error._tag).toBe("InvalidHeader")
      expect(s.requests).toEqual([])
    }).pipe(Effect.provide(NodePoolManager.layer({ headers: { "X-Bad": "a\r\nb" } })))
  )

  live("closing the manager's Scope leaves a pool leased by a longer Scope open until that Scope closes", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      const managerScope = yield* Scope.make()
      const manager = yield* PoolManager.make().pipe(Scope.extend(managerScope))
      const leaseScope = yield* Scope.make()
      const pool = yield* manager.connectionFromUrl(s.url).pipe(Scope.extend(leaseScope))
      yield* pool.request("GET", "/")
      yield* Scope.close(managerScope, Exit.void)
      expect((yield* manager.pools).size).toBe(0)
      expect((yield* pool.request("GET", "/")).status).toBe(200)
      expect(s.openSockets()).toBe(1)
      yield* Scope.close(leaseScope, Exit.void)
      yield* s.waitForOpenSockets(0)
      expect((yield* Effect.flip(pool.request("GET", "/")))._tag).toBe("ClosedPoolError")
    }).pipe(Effect.provide(NodeConnector.layer))
  )

  live("retries: false returns the first 3xx", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      const manager = yield* PoolManager.PoolManager
      const response = yield* manager.request("GET", `${s.url}/loop`, { retries: false })
      expect([response.status, response.redirectLocation]).toEqual([302, "/loop"])
      expect(s.requests).toHaveLength(1)
    }).pipe(Effect.provide(NodePoolManager.layer()))
  )

  live("after its Scope has closed, a manager fails lookups and requests with ClosedPoolError", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      const manager = yield* Effect.scoped(PoolManager.make())
      expect((yield* Effect.flip(manager.request("GET", s.url)))._tag).toBe("ClosedPoolError")
      expect((yield* Effect.flip(manager.connectionFromUrl(s.url)))._tag).toBe("ClosedPoolError")
      expect((yield* manager.pools).size).toBe(0)
      expect(s.requests).toEqual([])
    }).pipe(Effect.provide(NodeConnector.layer))
  )

  live("json is read by request only; requestEncodeUrl and requestEncodeBody ignore it", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      const manager = yield* PoolManager.PoolManager
      yield* manager.requestEncodeBody("POST", s.url, { json: { a: 1 } })
      yield* manager.requestEncodeUrl("POST", s.url, { json: { a: 1 } })
      yield* manager.request("POST", s.url, { json: { a: 1 } })
      expect(s.requests.map((r) => r.body)).toEqual(["", "", '{"a":1}'])
    }).pipe(Effect.provide(NodePoolManager.layer()))
  )

  live("numPools 0 keeps no pool but requests work", () =>
    Effect.gen(function* () {
      const s = yield* server("s")
      const manager = yield* PoolManager.PoolManager
      expect((yield* manager.request("GET", s.url)).status).toBe(200)
      expect((yield* manager.pools).size).toBe(0)
      yield* s.waitForOpenSockets(0)
    }).pipe(Effect.provide(NodePoolManager.layer({ numPools: 0 })))
  )
})

const docsPage = (page: string): string => fs.readFileSync(new URL(`../../../docs/${page}`, import.meta.url), "utf8")

/**
 * The code blocks of a docs page, without their leading imports: each block is a module of its
 * own on the page (scripts/docs-blocks.mjs type-checks it with its imports), whose code is the
 * source file's.
 */
const codeBlocks = (text: string): Array<string> =>
  Array.from(text.matchAll(/```ts\n([\s\S]*?)```/g), (match) => match[1]!.replace(/^(import [^\n]*\n)+\n?/, ""))

/** GitHub's anchor of a heading: lower-case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-")

const anchors = (text: string): Set<string> =>
  new Set(Array.from(text.matchAll(/^#+ (.+)$/gm), (match) => slug(match[1]!)))

describe("the docs quote the examples as they are", () => {
  const source = fs.readFileSync(new URL("../src/fromUrllib3.ts", import.meta.url), "utf8")
  for (const page of ["pool-manager.md", "from-urllib3.md"]) {
    it(`every ts block of docs/${page} is in src/fromUrllib3.ts`, () => {
      const blocks = codeBlocks(docsPage(page))
      expect(blocks.length).toBeGreaterThan(0)
      for (const block of blocks) expect(source).toContain(block)
    })

    it(`every link of docs/${page} to a docs page and heading resolves`, () => {
      const text = docsPage(page)
      for (const [, file, anchor] of text.matchAll(/\]\(([\w-]*\.md)?(?:#([\w-]+))?\)/g)) {
        const target = file === undefined ? text : docsPage(file)
        if (anchor !== undefined)
          expect([file ?? page, anchor, anchors(target).has(anchor)]).toEqual([file ?? page, anchor, true])
      }
    })
  }
})
