import * as Headers from "@httpool/core/Headers"
import * as HttpoolFetch from "@httpool/core/HttpoolFetch"
import * as PoolManager from "@httpool/core/PoolManager"
import * as TestConnector from "@httpool/core/TestConnector"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

// fetch's own rules (redirect modes, method changes, credentials across origins, bodies),
// played by TestConnector's origins. The comparison with undici's fetch on real sockets, and
// ky, are in packages/node/test/HttpoolFetch.test.ts.

const { route } = TestConnector

const over = (routes: ReadonlyArray<TestConnector.Route>) =>
  PoolManager.layer().pipe(Layer.provideMerge(TestConnector.layer(routes)))

/** Runs `f` with an httpool fetch over the kit and returns its result with the recorded requests. */
const withFetch = <A>(routes: ReadonlyArray<TestConnector.Route>, f: (fetch: HttpoolFetch.Fetch) => Promise<A>) =>
  Effect.gen(function* () {
    const fetch = yield* HttpoolFetch.make()
    const result = yield* Effect.promise(() => f(fetch))
    const kit = yield* TestConnector.TestConnector
    return { result, requests: yield* kit.requests, stats: yield* kit.stats }
  }).pipe(Effect.provide(over(routes)))

const echo = TestConnector.handle((request) =>
  TestConnector.json({
    method: request.method,
    body: request.text,
    contentType: Option.getOrNull(Headers.get(request.headers, "content-type")),
    authorization: Option.getOrNull(Headers.get(request.headers, "authorization"))
  })
)

describe("HttpoolFetch over TestConnector", () => {
  it.effect("answers with the platform's Response: status, statusText, headers, body, url", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* withFetch(
        [route("GET", "http://api.test/users/1", TestConnector.json({ id: 1 }, { headers: { "X-Id": "1" } }))],
        async (fetch) => {
          const response = await fetch("http://api.test/users/1")
          return {
            isResponse: response instanceof Response,
            status: response.status,
            statusText: response.statusText,
            ok: response.ok,
            xId: response.headers.get("x-id"),
            type: response.headers.get("content-type"),
            url: response.url,
            redirected: response.redirected,
            json: await response.json()
          }
        }
      )
      expect(result).toEqual({
        isResponse: true,
        status: 200,
        statusText: "OK",
        ok: true,
        xId: "1",
        type: "application/json",
        url: "http://api.test/users/1",
        redirected: false,
        json: { id: 1 }
      })
      expect(Headers.get(requests[0]!.headers, "accept")).toEqual(Option.some("*/*"))
    })
  )

  it.effect("sends text, JSON, URLSearchParams and FormData bodies with a Content-Length and their Content-Type", () =>
    Effect.gen(function* () {
      const form = new FormData()
      form.append("field", "value")
      const { result, requests } = yield* withFetch([route("POST", "/echo", echo)], async (fetch) => {
        const out: Array<unknown> = []
        for (const body of ["text", JSON.stringify({ a: 1 }), new URLSearchParams({ q: "x y" }), form]) {
          out.push(await (await fetch("http://api.test/echo", { method: "POST", body })).json())
        }
        return out
      })
      expect(result.map((r) => (r as { contentType: string }).contentType)).toEqual([
        "text/plain;charset=UTF-8",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded;charset=UTF-8",
        expect.stringMatching(/^multipart\/form-data; boundary=/)
      ])
      expect((result[2] as { body: string }).body).toBe("q=x+y")
      expect((result[3] as { body: string }).body).toContain('name="field"\r\n\r\nvalue')
      for (const request of requests) {
        expect(Headers.get(request.headers, "content-length")).toEqual(Option.some(String(request.body.length)))
      }
    })
  )

  it.effect("follow: 301 and 302 turn a POST into a GET without its body; 307 and 308 keep both", () =>
    Effect.gen(function* () {
      const { result } = yield* withFetch(
        [
          route("POST", "/301", TestConnector.redirect("/echo", { status: 301 })),
          route("POST", "/302", TestConnector.redirect("/echo", { status: 302 })),
          route("PUT", "/303", TestConnector.redirect("/echo", { status: 303 })),
          route("POST", "/307", TestConnector.redirect("/echo", { status: 307 })),
          route("PUT", "/308", TestConnector.redirect("/echo", { status: 308 })),
          route("*", "/echo", echo)
        ],
        async (fetch) => {
          const out: Array<unknown> = []
          for (const [method, path] of [
            ["POST", "/301"],
            ["POST", "/302"],
            ["PUT", "/303"],
            ["POST", "/307"],
            ["PUT", "/308"]
          ] as const) {
            const response = await fetch(`http://api.test${path}`, { method, body: "payload" })
            const echoed = (await response.json()) as { method: string; body: string; contentType: string | null }
            out.push([path, echoed.method, echoed.body, echoed.contentType, response.redirected, response.url])
          }
          return out
        }
      )
      expect(result).toEqual([
        ["/301", "GET", "", null, true, "http://api.test/echo"],
        ["/302", "GET", "", null, true, "http://api.test/echo"],
        ["/303", "GET", "", null, true, "http://api.test/echo"],
        ["/307", "POST", "payload", "text/plain;charset=UTF-8", true, "http://api.test/echo"],
        ["/308", "PUT", "payload", "text/plain;charset=UTF-8", true, "http://api.test/echo"]
      ])
    })
  )

  it.effect("follow: Authorization goes to the same origin only", () =>
    Effect.gen(function* () {
      const { result } = yield* withFetch(
        [
          route("GET", "http://a.test/same", TestConnector.redirect("/echo")),
          route("GET", "http://a.test/other", TestConnector.redirect("http://b.test/echo")),
          route("GET", "/echo", echo)
        ],
        async (fetch) => {
          const headers = { Authorization: "Bearer secret" }
          const same = (await (await fetch("http://a.test/same", { headers })).json()) as { authorization: string }
          const other = (await (await fetch("http://a.test/other", { headers })).json()) as { authorization: string }
          return [same.authorization, other.authorization]
        }
      )
      expect(result).toEqual(["Bearer secret", null])
    })
  )

  it.effect("manual gives the redirect itself; error rejects; more than 20 redirects reject", () =>
    Effect.gen(function* () {
      const { result, stats } = yield* withFetch(
        [
          route("GET", "/moved", TestConnector.redirect("/elsewhere", { status: 301 })),
          route("GET", "/loop", TestConnector.redirect("/loop"))
        ],
        async (fetch) => {
          const manual = await fetch("http://api.test/moved", { redirect: "manual" })
          const error = await fetch("http://api.test/moved", { redirect: "error" }).catch((e: TypeError) => e)
          const loop = await fetch("http://api.test/loop").catch((e: TypeError) => e)
          return {
            manual: [manual.status, manual.headers.get("location"), manual.redirected],
            error: [error instanceof TypeError, (error as TypeError).message, String((error as TypeError).cause)],
            loop: [loop instanceof TypeError, String((loop as TypeError).cause)]
          }
        }
      )
      expect(result).toEqual({
        manual: [301, "/elsewhere", false],
        error: [true, "fetch failed", 'Error: unexpected redirect (redirect mode is "error")'],
        loop: [true, "Error: redirect count exceeded"]
      })
      // Every redirect's body was read and its connection reused: one socket for all of them.
      expect(stats.opened).toBe(1)
    })
  )

  it.effect("a network error rejects with TypeError('fetch failed') caused by httpool's typed error", () =>
    Effect.gen(function* () {
      const { result } = yield* withFetch([route("GET", "/", TestConnector.refused)], (fetch) =>
        fetch("http://down.test/").catch((e: TypeError) => e)
      )
      expect(result).toBeInstanceOf(TypeError)
      expect((result as TypeError).message).toBe("fetch failed")
      const cause = (result as TypeError).cause as { _tag: string; reason: { _tag: string } }
      expect(cause._tag).toBe("MaxRetryError")
      expect(cause.reason._tag).toBe("NewConnectionError")
    })
  )

  it.effect("HEAD and 204 have a null body and give their connection back", () =>
    Effect.gen(function* () {
      const { result, stats } = yield* withFetch(
        [route("HEAD", "/", TestConnector.text("twelve bytes")), route("DELETE", "/", TestConnector.status(204))],
        async (fetch) => {
          const head = await fetch("http://api.test/", { method: "HEAD" })
          const deleted = await fetch("http://api.test/", { method: "DELETE" })
          return [head.body, head.headers.get("content-length"), deleted.status, deleted.body]
        }
      )
      expect(result).toEqual([null, "12", 204, null])
      expect(stats.opened).toBe(1)
    })
  )

  it.effect(
    "the loop follows fetch's rule for fetch, urllib3's for the manager: a 303 keeps HEAD a HEAD only in fetch",
    () =>
      Effect.gen(function* () {
        const routes = [
          route("HEAD", "/see-other", TestConnector.redirect("/echo", { status: 303 })),
          route("*", "/echo", TestConnector.text("echoed"))
        ]
        const { result, requests } = yield* withFetch(routes, async (fetch) => {
          const response = await fetch("http://api.test/see-other", { method: "HEAD" })
          return [response.status, response.redirected, response.url]
        })
        expect(result).toEqual([200, true, "http://api.test/echo"])
        expect(requests.map((r) => `${r.method} ${r.target}`)).toEqual(["HEAD /see-other", "HEAD /echo"])
        // The manager's own request, urllib3's rule: a 303 makes any method a GET.
        const viaManager = yield* Effect.gen(function* () {
          const manager = yield* PoolManager.PoolManager
          yield* manager.request("HEAD", "http://api.test/see-other")
          const kit = yield* TestConnector.TestConnector
          return (yield* kit.requests).map((r) => `${r.method} ${r.target}`)
        }).pipe(Effect.provide(over(routes)))
        expect(viaManager).toEqual(["HEAD /see-other", "GET /echo"])
      })
  )

  it.effect("follow: a redirect to another scheme rejects; a streamed body follows a 303 only", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* withFetch(
        [
          route("GET", "/ftp", TestConnector.redirect("ftp://files.test/x")),
          route("POST", "/307", TestConnector.redirect("/echo", { status: 307 })),
          route("POST", "/303", TestConnector.redirect("/echo", { status: 303 })),
          route("*", "/echo", echo)
        ],
        async (fetch) => {
          const ftp = await fetch("http://api.test/ftp").catch((e: TypeError) => e)
          const stream = () =>
            new ReadableStream<Uint8Array>({
              start: (controller) => {
                controller.enqueue(new TextEncoder().encode("streamed"))
                controller.close()
              }
            })
          const init = (): RequestInit & { duplex: "half" } => ({ method: "POST", body: stream(), duplex: "half" })
          const kept = await fetch("http://api.test/307", init()).catch((e: TypeError) => e)
          const seeOther = await fetch("http://api.test/303", init())
          const echoed = (await seeOther.json()) as { method: string; body: string }
          return {
            ftp: [ftp instanceof TypeError, String((ftp as TypeError).cause)],
            kept: [kept instanceof TypeError, String((kept as TypeError).cause)],
            seeOther: [echoed.method, echoed.body]
          }
        }
      )
      expect(result.ftp[0]).toBe(true)
      expect(result.ftp[1]).toContain("URL scheme must be a HTTP(S) scheme")
      expect(result.kept[0]).toBe(true)
      expect(result.kept[1]).toContain("Cannot follow a redirect with a streamed request body")
      expect(result.seeOther).toEqual(["GET", ""])
      expect(requests.map((r) => `${r.method} ${r.target}`)).toEqual([
        "GET /ftp",
        "POST /307",
        "POST /303",
        "GET /echo"
      ])
    })
  )
})
