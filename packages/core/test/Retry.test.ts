import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { pipe } from "effect/Function"
import * as Hash from "effect/Hash"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as TestClock from "effect/TestClock"
import * as fc from "fast-check"
import {
  ConnectTimeoutError,
  type HttpoolError,
  InvalidHeader,
  MaxRetryError,
  NameResolutionError,
  NewConnectionError,
  ProtocolError,
  ProxyError,
  ReadTimeoutError,
  ResponseError,
  SSLError,
  ValueError
} from "../src/Errors.js"
import * as Retry from "../src/Retry.js"
import * as Timeout from "../src/Timeout.js"

const pool = { scheme: "http", host: "localhost", port: 8080 }
const connectError = () => new ConnectTimeoutError({ message: "connect timed out" })
const readError = () => new ReadTimeoutError({ pool, url: "/", reason: "Read timed out." })
const sslError = () => new SSLError({ message: "certificate verify failed" })

const right = <A, E>(result: Either.Either<A, E>): A => {
  if (Either.isLeft(result)) throw new Error(`expected Right, got ${String(result.left)}`)
  return result.right
}

const left = <A, E>(result: Either.Either<A, E>): E => {
  if (Either.isRight(result)) throw new Error("expected Left")
  return result.left
}

const counters = (retry: Retry.Retry) => [
  retry.total,
  retry.connect,
  retry.read,
  retry.redirect,
  retry.status,
  retry.other
]

// ---------------------------------------------------------------------------
// Vectors produced by urllib3 2.7.0 (python3, urllib3.util.retry.Retry)
// ---------------------------------------------------------------------------

type Kind =
  | "connect"
  | "newconn"
  | "proxyconn"
  | "proxyother"
  | "read"
  | "protocol"
  | "ssl"
  | "redirect"
  | "redirect_noloc"
  | "status500"
  | "status503"
  | "none"

type Counter = number | false | null

interface Scenario {
  readonly options: Retry.RetryOptions
  readonly events: ReadonlyArray<readonly [Kind, string]>
  readonly expected: ReadonlyArray<
    ReadonlyArray<Counter> | { readonly max: string; readonly message: string | null } | { readonly reraise: string }
  >
  readonly history?: ReadonlyArray<readonly [number | null, string | null, string | null]>
}

/**
 * Random policies and attempts run through `Retry.increment` by urllib3 2.7.0, one JSON
 * scenario a line: `expected` holds the counters [total, connect, read, redirect, status,
 * other] after each attempt, or the failure that ended it; `history` is the final
 * [status, redirectLocation, error] list.
 */
const scenarios: ReadonlyArray<Scenario> = [
  '{"options":{"total":0,"connect":1,"read":3,"redirect":null,"status":2,"other":null,"allowedMethods":null},"events":[["proxyother","GET"]],"expected":[{"max":"ProxyError","message":null}]}',
  '{"options":{"total":null,"status":3,"other":3},"events":[["status503","get"]],"expected":[[null,null,null,null,2,3]],"history":[[503,null,null]]}',
  '{"options":{"total":2,"read":null,"status":2,"other":0},"events":[["proxyconn","GET"],["status503","get"],["none","GET"]],"expected":[[1,null,null,null,2,0],[0,null,null,null,1,0],{"max":"ResponseError","message":"too many error responses"}]}',
  '{"options":{"total":5,"read":2,"redirect":null,"status":2,"other":1},"events":[["status503","POST"],["protocol","POST"]],"expected":[[4,null,2,null,1,1],{"reraise":"ProtocolError"}]}',
  '{"options":{"connect":null,"read":0,"redirect":2,"status":1,"other":0},"events":[["status503","GET"],["newconn","get"],["ssl","GET"]],"expected":[[9,null,0,2,0,0],[8,null,0,2,0,0],{"max":"SSLError","message":null}]}',
  '{"options":{"total":false,"connect":1,"read":1,"other":2},"events":[["protocol","get"]],"expected":[{"reraise":"ProtocolError"}]}',
  '{"options":{"total":0,"connect":2,"read":false,"redirect":1,"other":0},"events":[["newconn","GET"]],"expected":[{"max":"NewConnectionError","message":null}]}',
  '{"options":{"total":3,"connect":3,"read":2,"redirect":3,"status":null,"other":3},"events":[["protocol","GET"],["redirect","POST"],["proxyconn","get"],["newconn","POST"]],"expected":[[2,3,1,3,null,3],[1,3,1,2,null,3],[0,2,1,2,null,3],{"max":"NewConnectionError","message":null}]}',
  '{"options":{"total":3,"read":1,"redirect":1,"status":null,"other":null},"events":[["ssl","get"],["read","get"]],"expected":[[2,null,1,1,null,null],[1,null,0,1,null,null]],"history":[[null,null,"SSLError"],[null,null,"ReadTimeoutError"]]}',
  '{"options":{"total":1,"connect":3,"read":1,"redirect":null,"status":null,"other":3},"events":[["status503","GET"],["read","POST"]],"expected":[[0,3,1,null,null,3],{"reraise":"ReadTimeoutError"}]}',
  '{"options":{"total":5,"connect":0,"read":2,"redirect":2,"status":0},"events":[["none","get"],["redirect_noloc","GET"]],"expected":[[4,0,2,2,0,null],{"max":"ResponseError","message":"too many 302 error responses"}]}',
  '{"options":{"total":1,"connect":false,"read":false,"redirect":3,"other":1},"events":[["redirect","get"]],"expected":[[0,false,false,2,null,1]],"history":[[302,"/next",null]]}',
  '{"options":{"total":2,"connect":null,"read":null,"redirect":null,"status":2},"events":[["connect","GET"],["proxyother","get"],["ssl","GET"]],"expected":[[1,null,null,null,2,null],[0,null,null,null,2,null],{"max":"SSLError","message":null}]}',
  '{"options":{"total":3,"connect":2,"read":0,"redirect":1,"status":null,"other":1},"events":[["redirect","POST"],["read","GET"]],"expected":[[2,2,0,0,null,1],{"max":"ReadTimeoutError","message":null}]}',
  '{"options":{"total":3,"connect":3,"read":0,"redirect":1,"other":2,"allowedMethods":null},"events":[["protocol","GET"]],"expected":[{"max":"ProtocolError","message":null}]}',
  '{"options":{"total":3,"read":0,"redirect":3,"status":null,"other":null},"events":[["protocol","GET"]],"expected":[{"max":"ProtocolError","message":null}]}',
  '{"options":{"total":2,"connect":2,"read":0,"redirect":3},"events":[["ssl","get"],["proxyother","GET"]],"expected":[[1,2,0,3,null,null],[0,2,0,3,null,null]],"history":[[null,null,"SSLError"],[null,null,"ProxyError"]]}',
  '{"options":{"total":2,"connect":3,"redirect":false,"status":0,"other":1},"events":[["status503","POST"]],"expected":[{"max":"ResponseError","message":"too many 503 error responses"}]}',
  '{"options":{"total":1,"connect":3,"read":0,"redirect":0,"status":null,"other":null},"events":[["status503","get"],["connect","POST"]],"expected":[[0,3,0,0,null,null],{"max":"ConnectTimeoutError","message":null}]}',
  '{"options":{"total":3,"connect":3,"other":null,"allowedMethods":null},"events":[["protocol","GET"],["redirect_noloc","POST"],["redirect","POST"],["redirect_noloc","GET"]],"expected":[[2,3,null,null,null,null],[1,3,null,null,null,null],[0,3,null,null,null,null],{"max":"ResponseError","message":"too many 302 error responses"}]}',
  '{"options":{"total":2,"connect":null,"read":1,"redirect":false,"status":3},"events":[["none","POST"],["proxyconn","get"],["status500","GET"]],"expected":[[1,null,1,0,3,null],[0,null,1,0,3,null],{"max":"ResponseError","message":"too many 500 error responses"}]}',
  '{"options":{"total":5,"connect":3,"redirect":null,"status":null,"other":null},"events":[["status500","GET"],["status503","POST"],["read","get"]],"expected":[[4,3,null,null,null,null],[3,3,null,null,null,null],[2,3,null,null,null,null]],"history":[[500,null,null],[503,null,null],[null,null,"ReadTimeoutError"]]}',
  '{"options":{"total":1,"read":0,"redirect":1,"status":3,"other":2},"events":[["ssl","get"],["proxyconn","get"]],"expected":[[0,null,0,1,3,1],{"max":"ProxyError","message":null}]}',
  '{"options":{"total":null,"connect":1,"read":false,"other":null},"events":[["status500","GET"]],"expected":[[null,1,false,null,null,null]],"history":[[500,null,null]]}',
  '{"options":{"total":0,"connect":2,"read":2,"redirect":1,"other":2,"allowedMethods":null},"events":[["read","GET"]],"expected":[{"max":"ReadTimeoutError","message":null}]}',
  '{"options":{"total":3,"connect":2,"redirect":null,"status":2,"other":2},"events":[["redirect_noloc","POST"],["redirect","get"]],"expected":[[2,2,null,null,1,2],[1,2,null,null,1,2]],"history":[[302,null,null],[302,"/next",null]]}',
  '{"options":{"total":2,"connect":2,"redirect":0,"status":2,"allowedMethods":null},"events":[["ssl","POST"]],"expected":[[1,2,null,0,2,null]],"history":[[null,null,"SSLError"]]}',
  '{"options":{"total":2,"connect":1,"read":null,"redirect":0,"status":null,"other":null},"events":[["protocol","GET"],["read","GET"],["redirect","GET"]],"expected":[[1,1,null,0,null,null],[0,1,null,0,null,null],{"max":"ResponseError","message":"too many redirects"}]}',
  '{"options":{"total":3,"connect":1,"read":1,"status":null,"other":3},"events":[["ssl","POST"],["ssl","GET"],["protocol","POST"]],"expected":[[2,1,1,null,null,2],[1,1,1,null,null,1],{"reraise":"ProtocolError"}]}',
  '{"options":{"total":null,"connect":2,"read":1,"redirect":1,"status":3,"other":null},"events":[["status500","GET"],["newconn","GET"],["newconn","GET"]],"expected":[[null,2,1,1,2,null],[null,1,1,1,2,null],[null,0,1,1,2,null]],"history":[[500,null,null],[null,null,"NewConnectionError"],[null,null,"NewConnectionError"]]}',
  '{"options":{"total":2,"connect":0,"read":false},"events":[["status500","get"],["redirect","get"],["protocol","GET"]],"expected":[[1,0,false,null,null,null],[0,0,false,null,null,null],{"reraise":"ProtocolError"}]}',
  '{"options":{"total":5,"connect":null,"read":null,"status":null,"other":2},"events":[["read","GET"]],"expected":[[4,null,null,null,null,2]],"history":[[null,null,"ReadTimeoutError"]]}',
  '{"options":{"total":5,"connect":1,"read":0,"redirect":2,"status":null,"other":3},"events":[["proxyconn","POST"]],"expected":[[4,0,0,2,null,3]],"history":[[null,null,"ProxyError"]]}',
  '{"options":{"total":3,"connect":3,"read":0,"redirect":2,"status":null,"other":1},"events":[["read","POST"]],"expected":[{"reraise":"ReadTimeoutError"}]}',
  '{"options":{"total":3,"connect":null,"read":3,"redirect":2,"status":2},"events":[["newconn","get"],["none","POST"],["none","POST"],["status500","POST"]],"expected":[[2,null,3,2,2,null],[1,null,3,2,2,null],[0,null,3,2,2,null],{"max":"ResponseError","message":"too many 500 error responses"}]}',
  '{"options":{"total":2,"read":0,"status":3,"other":3},"events":[["protocol","GET"]],"expected":[{"max":"ProtocolError","message":null}]}',
  '{"options":{"total":2,"connect":3,"read":3,"redirect":0,"status":1,"other":null},"events":[["status500","get"],["read","get"],["proxyother","get"]],"expected":[[1,3,3,0,0,null],[0,3,2,0,0,null],{"max":"ProxyError","message":null}]}',
  '{"options":{"total":2,"connect":null,"read":null,"redirect":0,"status":2,"other":0},"events":[["proxyother","POST"]],"expected":[{"max":"ProxyError","message":null}]}',
  '{"options":{"total":3,"connect":null,"read":2,"redirect":3,"status":null,"other":null},"events":[["proxyconn","POST"]],"expected":[[2,null,2,3,null,null]],"history":[[null,null,"ProxyError"]]}',
  '{"options":{"total":2,"connect":0,"read":0,"redirect":3,"status":null,"other":2},"events":[["none","get"],["status503","POST"]],"expected":[[1,0,0,3,null,2],[0,0,0,3,null,2]],"history":[[null,null,null],[503,null,null]]}'
].map((line) => JSON.parse(line) as Scenario)

const attempt = (kind: Kind): Pick<Retry.IncrementOptions<HttpoolError>, "error" | "response"> => {
  switch (kind) {
    case "connect":
      return { error: connectError() }
    case "newconn":
      return { error: new NewConnectionError({ message: "refused" }) }
    case "proxyconn":
      return { error: new ProxyError({ message: "proxy down", error: connectError() }) }
    case "proxyother":
      return { error: new ProxyError({ message: "proxy tls", error: sslError() }) }
    case "read":
      return { error: readError() }
    case "protocol":
      return { error: new ProtocolError({ message: "reset" }) }
    case "ssl":
      return { error: sslError() }
    case "redirect":
      return { response: { status: 302, redirectLocation: "/next" } }
    case "redirect_noloc":
      return { response: { status: 302, redirectLocation: null } }
    case "status500":
      return { response: { status: 500 } }
    case "status503":
      return { response: { status: 503 } }
    case "none":
      return {}
  }
}

const NOW_SECONDS = 1763900000

/** `[Retry-After value, seconds]` from urllib3 2.7.0's parse_retry_after at NOW_SECONDS. */
const RETRY_AFTER: ReadonlyArray<readonly [string, number]> = [
  ["Sun, 23 Nov 2025 15:30:23 GMT", 11823.0],
  ["Sunday, 23-Nov-25 16:29:02 GMT", 15342.0],
  ["Sun Nov 23 15:37:38 2025", 12258.0],
  ["Sun, 23 Nov 2025 05:30:05 -1000", 11805.0],
  ["Sun, 23 Nov 2025 16:44:07 GMT", 16247.0],
  ["Sunday, 23-Nov-25 13:07:02 GMT", 3222.0],
  ["Sun Nov 23 13:04:10 2025", 3050.0],
  ["Sun, 23 Nov 2025 21:32:54 +0530", 13774.0],
  ["Sun, 23 Nov 2025 17:07:19 GMT", 17639.0],
  ["Sunday, 23-Nov-25 16:58:38 GMT", 17118.0],
  ["Sun Nov 23 13:05:00 2025", 3100.0],
  ["Sun, 23 Nov 2025 17:44:44 +0530", 84.0],
  ["Sun, 23 Nov 2025 14:09:01 GMT", 6941.0],
  ["Sunday, 23-Nov-25 12:40:46 GMT", 1646.0],
  ["Sun Nov 23 12:12:51 2025", 0],
  ["Sun, 23 Nov 2025 11:17:31 -0500", 14651.0],
  ["Sun, 23 Nov 2025 16:48:31 GMT", 16511.0],
  ["Sunday, 23-Nov-25 14:59:41 GMT", 9981.0],
  ["Sun Nov 23 15:30:43 2025", 11843.0],
  ["Sun, 23 Nov 2025 07:20:27 -1000", 18427.0],
  ["Sun, 23 Nov 2025 17:18:21 GMT", 18301.0],
  ["Sunday, 23-Nov-25 12:49:20 GMT", 2160.0],
  ["Sun Nov 23 17:03:38 2025", 17418.0],
  ["Sun, 23 Nov 2025 01:31:31 -1000", 0],
  ["Sun, 23 Nov 2025 11:57:49 GMT", 0],
  ["Sunday, 23-Nov-25 11:55:51 GMT", 0],
  ["Sun Nov 23 11:42:48 2025", 0],
  ["Sun, 23 Nov 2025 14:07:12 +0100", 3232.0],
  ["Sun, 23 Nov 2025 16:50:48 GMT", 16648.0],
  ["Sunday, 23-Nov-25 11:39:45 GMT", 0],
  ["Sun Nov 23 15:36:42 2025", 12202.0],
  ["Sun, 23 Nov 2025 19:51:31 +0530", 7691.0],
  ["Sun, 23 Nov 2025 16:46:04 GMT", 16364.0],
  ["Sunday, 23-Nov-25 13:10:00 GMT", 3400.0],
  ["Sun Nov 23 16:06:50 2025", 14010.0],
  ["Sun, 23 Nov 2025 15:30:56 +0200", 4656.0],
  ["0", 0],
  ["5", 5],
  [" 42 ", 42],
  ["21601", 21600],
  ["99999999", 21600],
  ["\t7\t", 7]
]

/** Backoff after 0..9 consecutive read errors, from urllib3 2.7.0 (random.random patched to `random`). */
const BACKOFF: ReadonlyArray<{
  readonly factor: number
  readonly max: number
  readonly jitter: number
  readonly random: number
  readonly expected: ReadonlyArray<number>
}> = [
  { factor: 0.2, max: 120, jitter: 0, random: 0, expected: [0, 0, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2] },
  { factor: 0.5, max: 10, jitter: 0, random: 0, expected: [0, 0, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 10.0] },
  { factor: 1, max: 120, jitter: 0, random: 0, expected: [0, 0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 120.0, 120.0] },
  {
    factor: 0.1,
    max: 120,
    jitter: 1.5,
    random: 0.25,
    expected: [0, 0, 0.575, 0.775, 1.175, 1.975, 3.575, 6.775, 13.175, 25.975]
  },
  { factor: 0.3, max: 2, jitter: 0.5, random: 0.9, expected: [0, 0, 1.05, 1.65, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0] },
  { factor: 0, max: 120, jitter: 2, random: 0.5, expected: [0, 0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  { factor: 3, max: 120, jitter: 0, random: 0, expected: [0, 0, 6.0, 12.0, 24.0, 48.0, 96.0, 120.0, 120.0, 120.0] }
]

describe("Retry", () => {
  it.effect("runs the first example of docs/retries-and-timeouts.md", () =>
    Effect.gen(function* () {
      const timeout = yield* Timeout.make({ connect: 2, read: "7 seconds" })
      const retry = Retry.make({ total: 3, statusForcelist: [502, 503], backoffFactor: 0.5 })
      const error = new NewConnectionError({ message: "connection refused" })
      const next = yield* Retry.increment(retry, { method: "GET", url: "http://example.com/", error })
      yield* Retry.sleep(next)
      expect([next.total, next.history.length]).toStrictEqual([2, 1])
      expect(Duration.format(Timeout.connectTimeout(timeout)!)).toBe("2s")
    })
  )

  describe("defaults (item 53)", () => {
    it("matches urllib3's Retry()", () => {
      const retry = Retry.make()
      expect(counters(retry)).toStrictEqual([10, null, null, null, null, null])
      expect(retry.allowedMethods).toStrictEqual(["DELETE", "GET", "HEAD", "OPTIONS", "PUT", "TRACE"])
      expect(retry.statusForcelist).toStrictEqual([])
      expect(Duration.toSeconds(retry.backoffFactor)).toBe(0)
      expect(Duration.toSeconds(retry.backoffMax)).toBe(120)
      expect(Duration.toSeconds(retry.backoffJitter)).toBe(0)
      expect(retry.raiseOnRedirect).toBe(true)
      expect(retry.raiseOnStatus).toBe(true)
      expect(retry.history).toStrictEqual([])
      expect(retry.respectRetryAfterHeader).toBe(true)
      expect(retry.removeHeadersOnRedirect).toStrictEqual(["authorization", "cookie", "proxy-authorization"])
      expect(Duration.toSeconds(retry.retryAfterMax)).toBe(21600)
    })

    it("has Retry(3) as the pool default", () => {
      expect(counters(Retry.DEFAULT)).toStrictEqual([3, null, null, null, null, null])
      expect(Equal.equals(Retry.DEFAULT, Retry.make(3))).toBe(true)
      expect(Retry.describe(Retry.DEFAULT)).toBe("Retry(total=3, connect=None, read=None, redirect=None, status=None)")
    })

    it("turns total: false or redirect: false into redirect 0 without raising", () => {
      for (const retry of [
        Retry.make(false),
        Retry.make({ redirect: false }),
        Retry.make({ total: false, redirect: 5 })
      ]) {
        expect(retry.redirect).toBe(0)
        expect(retry.raiseOnRedirect).toBe(false)
      }
      expect(Retry.make(false).total).toBe(false)
      expect(Retry.describe(Retry.make(false))).toBe(
        "Retry(total=False, connect=None, read=None, redirect=0, status=None)"
      )
    })

    it("replaces the headers removed on redirect with a custom list, lower-cased", () => {
      const retry = Retry.make({ removeHeadersOnRedirect: ["X-Api-Key", "Cookie"] })
      expect(retry.removeHeadersOnRedirect).toStrictEqual(["cookie", "x-api-key"])
      expect(Retry.removesHeaderOnRedirect(retry, "x-API-key")).toBe(true)
      expect(Retry.removesHeaderOnRedirect(retry, "Authorization")).toBe(false)
      expect(Retry.removesHeaderOnRedirect(Retry.DEFAULT, "PROXY-AUTHORIZATION")).toBe(true)
      expect(pipe(Retry.make({ removeHeadersOnRedirect: [] }), Retry.removesHeaderOnRedirect("cookie"))).toBe(false)
    })

    it("takes durations as seconds or as Effect durations", () => {
      const retry = Retry.make({ backoffFactor: "200 millis", backoffMax: 10, retryAfterMax: Duration.minutes(1) })
      expect(Duration.toMillis(retry.backoffFactor)).toBe(200)
      expect(Duration.toSeconds(retry.backoffMax)).toBe(10)
      expect(Duration.toSeconds(retry.retryAfterMax)).toBe(60)
    })
  })

  describe("value semantics (item 54)", () => {
    it("compares and hashes by value, sets regardless of order and case of header names", () => {
      const a = Retry.make({
        total: 5,
        allowedMethods: ["GET", "PUT"],
        statusForcelist: [503, 500],
        backoffFactor: 0.5
      })
      const b = Retry.make({
        total: 5,
        allowedMethods: new Set(["PUT", "GET", "GET"]),
        statusForcelist: [500, 503],
        backoffFactor: "500 millis"
      })
      expect(Equal.equals(a, b)).toBe(true)
      expect(Hash.hash(a)).toBe(Hash.hash(b))
      expect(
        Equal.equals(
          Retry.make({ removeHeadersOnRedirect: ["A", "b"] }),
          Retry.make({ removeHeadersOnRedirect: ["B", "a"] })
        )
      ).toBe(true)
      expect(Equal.equals(a, Retry.make({ ...a, total: 4 }))).toBe(false)
      expect(Equal.equals(Retry.make(), Retry.make({}))).toBe(true)
    })

    it("returns a new value from increment and leaves the old one as it was", () => {
      const retry = Retry.make({ total: 3, connect: 2 })
      const next = right(Retry.increment(retry, { method: "GET", url: "/", error: connectError() }))
      expect(counters(retry)).toStrictEqual([3, 2, null, null, null, null])
      expect(retry.history).toHaveLength(0)
      expect(counters(next)).toStrictEqual([2, 1, null, null, null, null])
      // One policy serves any number of requests.
      const again = right(Retry.increment(retry, { method: "GET", url: "/", error: connectError() }))
      expect(Equal.equals(next, again)).toBe(true)
    })

    it("can be changed by spreading into make", () => {
      const retry = Retry.make({ total: 3, statusForcelist: [500], backoffFactor: 1 })
      const changed = Retry.make({ ...retry, total: 7 })
      expect(changed.total).toBe(7)
      expect(changed.statusForcelist).toStrictEqual([500])
      expect(Duration.toSeconds(changed.backoffFactor)).toBe(1)
    })

    it("keeps a given history as values", () => {
      const entry = {
        method: "GET",
        url: "/",
        error: null,
        status: 500,
        redirectLocation: null
      } as Retry.RequestHistory
      const a = Retry.make({ history: [entry] })
      const b = Retry.make({ history: [{ ...entry }] as ReadonlyArray<Retry.RequestHistory> })
      expect(Equal.equals(a, b)).toBe(true)
      expect(Equal.equals(a.history[0], Retry.makeRequestHistory({ method: "GET", url: "/", status: 500 }))).toBe(true)
    })

    it("is a value with pipe and a readable form", () => {
      const retry = Retry.make(2)
      expect(Retry.isRetryPolicy(retry)).toBe(true)
      expect(Retry.isRetryPolicy({ total: 2 })).toBe(false)
      expect(retry.pipe(Retry.isExhausted)).toBe(false)
      expect(String(retry)).toContain('"_id": "Retry"')
    })

    it("hashes equal policies alike (property)", () => {
      fc.assert(
        fc.property(arbitraryOptions, (options) => {
          const a = Retry.make(options)
          const b = Retry.make({
            ...options,
            allowedMethods: options.allowedMethods && [...options.allowedMethods].reverse()
          })
          return Equal.equals(a, b) && Hash.hash(a) === Hash.hash(b) && Equal.equals(a, Retry.make({ ...a }))
        })
      )
    })

    it("never mutates the policy it increments (property)", () => {
      fc.assert(
        fc.property(arbitraryOptions, arbitraryAttempt, (options, [kind, method]) => {
          const retry = Retry.make(options)
          const before = JSON.stringify(retry)
          const copy = Retry.make({ ...retry })
          Retry.increment(retry, { method, url: "/x", ...attempt(kind) })
          return JSON.stringify(retry) === before && Equal.equals(retry, copy)
        })
      )
    })
  })

  describe("from (item 55, urllib3's from_int)", () => {
    it("uses the fallback, then DEFAULT, when retries is absent", () => {
      expect(right(Retry.from(undefined))).toBe(Retry.DEFAULT)
      expect(right(Retry.from(null))).toBe(Retry.DEFAULT)
      const fallback = Retry.make(7)
      expect(right(Retry.from(undefined, fallback))).toBe(fallback)
      expect(counters(right(Retry.from(undefined, 5)))).toStrictEqual([5, null, null, null, null, null])
    })

    it("makes a number n total n, which also bounds redirects", () => {
      const retry = right(Retry.from(3))
      expect(counters(retry)).toStrictEqual([3, null, null, null, null, null])
      expect(retry.raiseOnRedirect).toBe(true)
      let current = retry
      for (let i = 0; i < 3; i++) {
        current = right(
          Retry.increment(current, { method: "GET", url: "/", response: { status: 302, redirectLocation: "/a" } })
        )
      }
      const error = left(
        Retry.increment(current, { method: "GET", url: "/", response: { status: 302, redirectLocation: "/a" } })
      )
      expect(error).toBeInstanceOf(MaxRetryError)
    })

    it("turns redirects off for a number when redirect is false", () => {
      const retry = right(Retry.from(3, undefined, false))
      expect(Retry.describe(retry)).toBe("Retry(total=3, connect=None, read=None, redirect=0, status=None)")
      expect(retry.raiseOnRedirect).toBe(false)
    })

    it("turns retries and redirects off for false", () => {
      const retry = right(Retry.from(false))
      expect(retry.total).toBe(false)
      expect(retry.redirect).toBe(0)
      expect(retry.raiseOnRedirect).toBe(false)
    })

    it("returns a Retry as is and builds options, ignoring redirect for both", () => {
      const retry = Retry.make(7)
      expect(right(Retry.from(retry, undefined, false))).toBe(retry)
      expect(right(Retry.from({ total: 2, redirect: 4 }, undefined, false)).redirect).toBe(4)
    })

    it("rejects values of the wrong kind with a ValueError naming the option", () => {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [true, "retries was true"],
        ["3", 'retries was "3"'],
        [Number.NaN, "retries was NaN"],
        [{ total: "3" }, 'Retry option total was "3"'],
        [{ connect: true }, "Retry option connect was true"],
        [{ status: false }, "Retry option status was false"],
        [{ allowedMethods: "GET" }, 'Retry option allowedMethods was "GET"'],
        [{ statusForcelist: [500, "502"] }, "Retry option statusForcelist was"],
        [{ backoffFactor: -1 }, "Retry option backoffFactor was -1"],
        [{ backoffMax: "-2 seconds" }, "Retry option backoffMax was"],
        [{ raiseOnStatus: "no" }, "Retry option raiseOnStatus was"],
        [{ removeHeadersOnRedirect: null }, "Retry option removeHeadersOnRedirect was null"]
      ]
      for (const [input, message] of cases) {
        const error = left(Retry.from(input as Retry.Input))
        expect(error).toBeInstanceOf(ValueError)
        expect(error.message).toContain(message)
      }
    })

    it.effect("is yieldable in Effect.gen", () =>
      Effect.gen(function* () {
        const retry = yield* Retry.from(2)
        expect(retry.total).toBe(2)
      })
    )
  })

  describe("increment (items 60, 61, 68, 69)", () => {
    it.each(scenarios.map((scenario, index) => [index, scenario] as const))(
      "follows urllib3 through scenario %i",
      (_index, scenario) => {
        let retry = Retry.make(scenario.options)
        scenario.events.forEach(([kind, method], step) => {
          const result = Retry.increment(retry, { method, url: "/u", pool, ...attempt(kind) })
          const expected = scenario.expected[step]
          if ("max" in expected) {
            const error = left(result)
            expect(error._tag).toBe("MaxRetryError")
            const max = error as MaxRetryError
            expect(max.reason?._tag).toBe(expected.max)
            if (expected.message !== null) expect(max.reason?.message).toBe(expected.message)
            expect(max.url).toBe("/u")
            expect(max.pool).toStrictEqual(pool)
          } else if ("reraise" in expected) {
            expect(left(result)._tag).toBe(expected.reraise)
          } else {
            retry = right(result)
            expect(counters(retry)).toStrictEqual(expected)
          }
        })
        if (scenario.history !== undefined) {
          expect(retry.history.map((h) => [h.status, h.redirectLocation, h.error?._tag ?? null])).toStrictEqual(
            scenario.history
          )
        }
      }
    )

    it("fails at once for Retry(0) with 'too many error responses'", () => {
      const error = left(Retry.increment(Retry.make(0), {}))
      expect(error).toBeInstanceOf(MaxRetryError)
      expect(error.reason).toBeInstanceOf(ResponseError)
      expect(error.reason?.message).toBe("too many error responses")
      expect(error.pool).toBeNull()
    })

    it("fails on the third connect error for { connect: 3, total: 2 }", () => {
      let retry = Retry.make({ connect: 3, total: 2 })
      retry = right(Retry.increment(retry, { method: "GET", url: "/", error: connectError() }))
      retry = right(Retry.increment(retry, { method: "GET", url: "/", error: connectError() }))
      const error = left(Retry.increment(retry, { method: "GET", url: "/", error: connectError() }))
      expect(error).toBeInstanceOf(MaxRetryError)
      expect((error as MaxRetryError).reason).toBeInstanceOf(ConnectTimeoutError)
    })

    it("counts connection failures, including through a proxy, against connect", () => {
      const retry = Retry.make({ total: null, connect: 5, other: 5 })
      for (const error of [
        connectError(),
        new NewConnectionError({ message: "refused" }),
        new NameResolutionError({ host: "nowhere.invalid", reason: "ENOTFOUND" }),
        new ProxyError({ message: "proxy", error: new NewConnectionError({ message: "refused" }) })
      ]) {
        const next = right(Retry.increment(retry, { method: "POST", url: "/", error }))
        expect([next.connect, next.other]).toStrictEqual([4, 5])
      }
      const viaProxy = right(
        Retry.increment(retry, { method: "GET", url: "/", error: new ProxyError({ message: "p", error: null }) })
      )
      expect([viaProxy.connect, viaProxy.other]).toStrictEqual([5, 4])
    })

    it("raises read errors unwrapped for methods not allowed, read: false, or no method", () => {
      const retry = Retry.make({ read: 2 })
      const error = readError()
      expect(left(Retry.increment(retry, { method: "POST", url: "/", error }))).toBe(error)
      expect(left(Retry.increment(retry, { url: "/", error }))).toBe(error)
      expect(left(Retry.increment(Retry.make({ read: false }), { method: "GET", url: "/", error }))).toBe(error)
      expect(right(Retry.increment(retry, { method: "get", url: "/", error })).read).toBe(1)
      expect(
        right(Retry.increment(Retry.make({ allowedMethods: null }), { method: "POST", url: "/", error })).read
      ).toBe(null)
    })

    it("raises connect errors unwrapped for connect: false, and every error for total: false", () => {
      const error = connectError()
      expect(left(Retry.increment(Retry.make({ connect: false }), { method: "GET", url: "/", error }))).toBe(error)
      const ssl = sslError()
      expect(left(Retry.increment(Retry.make(false), { method: "GET", url: "/", error: ssl }))).toBe(ssl)
    })

    it("counts other errors against other", () => {
      const next = right(Retry.increment(Retry.make({ other: 1 }), { method: "POST", url: "/", error: sslError() }))
      expect([next.total, next.other]).toStrictEqual([9, 0])
      const error = left(Retry.increment(next, { method: "POST", url: "/", error: sslError() }))
      expect((error as MaxRetryError).reason?._tag).toBe("SSLError")
    })

    it("ends a redirect chain with 'too many redirects' and records it in order", () => {
      let retry = Retry.make({ redirect: 2 })
      retry = right(
        Retry.increment(retry, { method: "GET", url: "/a", response: { status: 301, redirectLocation: "/b" } })
      )
      retry = right(
        Retry.increment(retry, { method: "GET", url: "/b", response: { status: 307, redirectLocation: "/c" } })
      )
      expect(retry.history).toStrictEqual([
        Retry.makeRequestHistory({ method: "GET", url: "/a", status: 301, redirectLocation: "/b" }),
        Retry.makeRequestHistory({ method: "GET", url: "/b", status: 307, redirectLocation: "/c" })
      ])
      expect(
        Equal.equals(
          retry.history[0],
          Retry.makeRequestHistory({ method: "GET", url: "/a", status: 301, redirectLocation: "/b" })
        )
      ).toBe(true)
      const error = left(
        Retry.increment(retry, { method: "GET", url: "/c", pool, response: { status: 302, redirectLocation: "/d" } })
      )
      expect(error.reason).toStrictEqual(new ResponseError({ message: "too many redirects", status: 302 }))
      expect(error.message).toBe(
        `HTTPConnectionPool(host='localhost', port=8080): Max retries exceeded with url: /c (Caused by ResponseError("too many redirects"))`
      )
    })

    it("ends status retries with 'too many 500 error responses'", () => {
      const retry = right(
        Retry.increment(Retry.make({ status: 1, total: null }), { method: "GET", url: "/", response: { status: 500 } })
      )
      expect(retry.status).toBe(0)
      const error = left(Retry.increment(retry, { method: "GET", url: "/", response: { status: 500 } }))
      expect(error.reason?.message).toBe("too many 500 error responses")
    })

    it("infers the error type it can return", () => {
      const result: Either.Either<Retry.Retry, MaxRetryError | ReadTimeoutError> = Retry.increment(Retry.DEFAULT, {
        method: "GET",
        error: readError()
      })
      const none: Either.Either<Retry.Retry, MaxRetryError> = pipe(
        Retry.DEFAULT,
        Retry.increment({ response: { status: 500 } })
      )
      expect(Either.isRight(result) && Either.isRight(none)).toBe(true)
    })

    it("is exhausted exactly when some set counter is below zero (property)", () => {
      fc.assert(
        fc.property(arbitraryOptions, (options) => {
          const retry = Retry.make(options)
          const negative = counters(retry).some((count) => typeof count === "number" && count < 0)
          return Retry.isExhausted(retry) === negative
        })
      )
    })

    it("gives MaxRetryError exactly when the next policy would be exhausted (property)", () => {
      fc.assert(
        fc.property(arbitraryOptions, arbitraryAttempt, (options, [kind, method]) => {
          const retry = Retry.make(options)
          const result = Retry.increment(retry, { method, url: "/x", ...attempt(kind) })
          if (Either.isRight(result)) {
            return !Retry.isExhausted(result.right) && result.right.history.length === retry.history.length + 1
          }
          if (result.left._tag === "MaxRetryError") return true
          // Otherwise the attempt's own error came back unwrapped.
          return result.left === attempt(kind).error || result.left._tag === attempt(kind).error?._tag
        })
      )
    })
  })

  describe("isRetry (items 63, 64)", () => {
    // For each policy, the (method, status, Retry-After) triples urllib3 2.7.0 retries; all others it does not.
    const table: ReadonlyArray<readonly [Retry.RetryOptions, ReadonlyArray<string>]> = [
      [{}, ["GET 503 RA", "GET 429 RA", "GET 413 RA"]],
      [{ statusForcelist: [500, 502] }, ["GET 500", "GET 502 RA", "GET 503 RA", "GET 429 RA", "GET 413 RA"]],
      [
        { allowedMethods: null, statusForcelist: [500] },
        [
          "GET 500",
          "GET 503 RA",
          "GET 429 RA",
          "GET 413 RA",
          "post 500",
          "post 503 RA",
          "post 429 RA",
          "post 413 RA",
          "POST 500",
          "POST 503 RA",
          "POST 429 RA",
          "POST 413 RA",
          "PATCH 500",
          "PATCH 503 RA",
          "PATCH 429 RA",
          "PATCH 413 RA"
        ]
      ],
      [{ total: null }, []],
      [{ total: 0 }, []],
      [{ respectRetryAfterHeader: false }, []],
      [
        { allowedMethods: [] },
        [
          "GET 503 RA",
          "GET 429 RA",
          "GET 413 RA",
          "post 503 RA",
          "post 429 RA",
          "post 413 RA",
          "POST 503 RA",
          "POST 429 RA",
          "POST 413 RA",
          "PATCH 503 RA",
          "PATCH 429 RA",
          "PATCH 413 RA"
        ]
      ],
      [{ total: false }, []]
    ]
    const grid: ReadonlyArray<readonly [number, boolean]> = [
      [500, false],
      [502, true],
      [503, true],
      [503, false],
      [429, true],
      [413, true],
      [418, true]
    ]
    it.each(table)("%o retries exactly %o", (options, expected) => {
      const retry = Retry.make(options)
      const retried: Array<string> = []
      for (const method of ["GET", "post", "POST", "PATCH"]) {
        for (const [status, hasRetryAfter] of grid) {
          if (Retry.isRetry(retry, method, status, hasRetryAfter)) {
            retried.push(`${method} ${status}${hasRetryAfter ? " RA" : ""}`)
          }
        }
      }
      expect(retried).toStrictEqual(expected)
    })

    it("checks methods upper-cased", () => {
      expect(Retry.isMethodRetryable(Retry.DEFAULT, "get")).toBe(true)
      expect(pipe(Retry.DEFAULT, Retry.isMethodRetryable("POST"))).toBe(false)
      expect(pipe(Retry.make({ statusForcelist: [500] }), Retry.isRetry("delete", 500))).toBe(true)
    })
  })

  describe("parseRetryAfter (item 65)", () => {
    const now = NOW_SECONDS * 1000

    it.each(RETRY_AFTER)("reads %j as %d seconds, as urllib3 does", (value, expected) => {
      expect(Duration.toSeconds(right(Retry.parseRetryAfter(Retry.DEFAULT, value, now)))).toBe(expected)
    })

    it("reads the three HTTP-date forms of one instant alike", () => {
      const instant = Date.UTC(1994, 10, 6, 8, 49, 37)
      for (const value of [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "sun, 06 nov 1994 08:49:37 gmt",
        "Sun, 06 Nov 1994 09:49:37 +0100",
        "Sun, 06 Nov 1994 03:49:37 EST"
      ]) {
        expect(Duration.toSeconds(right(Retry.parseRetryAfter(Retry.DEFAULT, value, instant - 30_000)))).toBe(30)
      }
    })

    it("reads two-digit years as Python does: 69-99 are 19xx, 00-68 are 20xx", () => {
      const retry = Retry.make({ retryAfterMax: Duration.infinity })
      const at = (value: string) => Duration.toMillis(right(Retry.parseRetryAfter(retry, value, 0)))
      expect(at("Thursday, 01-Jan-70 00:00:10 GMT")).toBe(10_000)
      expect(at("Saturday, 01-Jan-00 00:00:00 GMT")).toBe(Date.UTC(2000, 0, 1))
      expect(at("Sunday, 01-Jan-68 00:00:00 GMT")).toBe(Date.UTC(2068, 0, 1))
      expect(at("Wednesday, 01-Jan-69 00:00:00 GMT")).toBe(0)
    })

    it("waits 0 for a date in the past and caps every wait at retryAfterMax", () => {
      expect(Duration.isZero(right(Retry.parseRetryAfter(Retry.DEFAULT, "Sun, 06 Nov 1994 08:49:37 GMT", now)))).toBe(
        true
      )
      const short = Retry.make({ retryAfterMax: 60 })
      expect(Duration.toSeconds(right(Retry.parseRetryAfter(short, "3600", now)))).toBe(60)
      expect(Duration.toSeconds(right(pipe(short, Retry.parseRetryAfter("30", now))))).toBe(30)
    })

    it.each([
      "-1",
      "+1",
      "1.0",
      "",
      "   ",
      "soon",
      "1e3",
      "Sun, 30 Feb 2025 00:00:00 GMT",
      "Sun, 06 Nov 1994 24:00:00 GMT",
      "Sun, 06 Nov 1994 08:60:00 GMT",
      "Sun, 06 Nov 1994 08:49:37 CET",
      "Sun, 06 Foo 1994 08:49:37 GMT",
      "Sun, 06 Nov 94a 08:49:37 GMT",
      "2025-11-23T12:00:00Z",
      "Sun, 06 Nov 1994"
    ])("rejects %j with InvalidHeader", (value) => {
      const error = left(Retry.parseRetryAfter(Retry.DEFAULT, value, now))
      expect(error).toBeInstanceOf(InvalidHeader)
      expect(error.message).toContain("Retry-After")
    })
  })

  describe("backoff (item 67)", () => {
    it.each(BACKOFF)(
      "factor $factor, max $max, jitter $jitter: waits as urllib3 does",
      ({ factor, max, jitter, random, expected }) => {
        let retry = Retry.make({ total: null, backoffFactor: factor, backoffMax: max, backoffJitter: jitter })
        const waits = [Duration.toSeconds(Retry.backoffTime(retry, random))]
        for (let i = 0; i < expected.length - 1; i++) {
          retry = right(Retry.increment(retry, { method: "GET", url: "/", error: readError() }))
          waits.push(Duration.toSeconds(Retry.backoffTime(retry, random)))
        }
        for (const [i, wait] of waits.entries()) expect(wait).toBeCloseTo(expected[i], 9)
      }
    )

    it("starts counting again after a redirect", () => {
      let retry = Retry.make({ total: null, backoffFactor: 0.2 })
      for (let i = 0; i < 3; i++) retry = right(Retry.increment(retry, { method: "GET", url: "/", error: readError() }))
      expect(Duration.toSeconds(Retry.backoffTime(retry))).toBeCloseTo(0.8)
      retry = right(
        Retry.increment(retry, { method: "GET", url: "/", response: { status: 302, redirectLocation: "/x" } })
      )
      expect(Duration.isZero(Retry.backoffTime(retry))).toBe(true)
      for (let i = 0; i < 2; i++) retry = right(Retry.increment(retry, { method: "GET", url: "/", error: readError() }))
      expect(Duration.toSeconds(Retry.backoffTime(retry))).toBeCloseTo(0.4)
    })
  })

  describe("sleep (item 66)", () => {
    const afterErrors = (retry: Retry.Retry, n: number): Retry.Retry => {
      for (let i = 0; i < n; i++) retry = right(Retry.increment(retry, { method: "GET", url: "/", error: readError() }))
      return retry
    }

    it.effect("waits the Retry-After seconds", () =>
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(Retry.sleep(Retry.DEFAULT, { status: 503, retryAfter: "5" }))
        yield* TestClock.adjust("4999 millis")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("1 millis")
        yield* Fiber.join(fiber)
      })
    )

    it.effect("waits until a Retry-After date read against the Clock", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(Date.UTC(1994, 10, 6, 8, 49, 0))
        const fiber = yield* Effect.fork(
          Retry.sleep(Retry.DEFAULT, { status: 429, retryAfter: "Sun, 06 Nov 1994 08:49:37 GMT" })
        )
        yield* TestClock.adjust("36 seconds")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(fiber)
      })
    )

    it.effect("falls back to the backoff without a Retry-After, for 0, or when told to ignore it", () =>
      Effect.gen(function* () {
        const retry = afterErrors(Retry.make({ total: null, backoffFactor: 1 }), 2)
        for (const [policy, response] of [
          [retry, undefined],
          [retry, { status: 503, retryAfter: "0" }],
          [Retry.make({ ...retry, respectRetryAfterHeader: false }), { status: 503, retryAfter: "100" }]
        ] as const) {
          const fiber = yield* Effect.fork(Retry.sleep(policy, response))
          yield* TestClock.adjust("1999 millis")
          expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
          yield* TestClock.adjust("1 millis")
          yield* Fiber.join(fiber)
        }
      })
    )

    it.effect("draws the jitter from Effect's Random", () =>
      Effect.gen(function* () {
        const retry = afterErrors(Retry.make({ total: null, backoffJitter: 2 }), 2)
        const fiber = yield* Effect.fork(Retry.sleep(retry).pipe(Effect.withRandom(Random.fixed([0.25]))))
        yield* TestClock.adjust("499 millis")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("1 millis")
        yield* Fiber.join(fiber)
      })
    )

    it.effect("does not wait at all for the first retry", () =>
      Effect.gen(function* () {
        const retry = afterErrors(Retry.make({ backoffFactor: 10 }), 1)
        expect(Duration.toMillis(right(Retry.sleepDuration(retry, { now: 0, random: 0 })))).toBe(0)
        // Forked, so that a sleep on the TestClock fails this test instead of hanging it: with
        // the clock never moved, the fiber must be done once it has had its turn.
        const fiber = yield* Effect.fork(Retry.sleep(retry))
        yield* Effect.yieldNow()
        const done = yield* Fiber.poll(fiber)
        expect(Option.isSome(done) && Exit.isSuccess(done.value)).toBe(true)
        // and the second retry does wait (backoffFactor 10 s, doubled): the check above can fail
        const second = yield* Effect.fork(Retry.sleep(afterErrors(retry, 1)))
        yield* Effect.yieldNow()
        expect(Option.isNone(yield* Fiber.poll(second))).toBe(true)
        yield* Fiber.interrupt(second)
      })
    )

    it.effect("fails with InvalidHeader for a malformed Retry-After", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Retry.sleep(Retry.DEFAULT, { status: 503, retryAfter: "-1" }))
        expect(error).toBeInstanceOf(InvalidHeader)
      })
    )

    it("computes the same waits purely with sleepDuration", () => {
      const retry = afterErrors(Retry.make({ total: null, backoffFactor: 0.5, backoffJitter: 1 }), 3)
      expect(Duration.toSeconds(right(Retry.sleepDuration(retry, { now: 0, random: 0.5 })))).toBeCloseTo(2.5)
      expect(
        Duration.toSeconds(right(Retry.sleepDuration(retry, { now: 0, response: { status: 503, retryAfter: "7" } })))
      ).toBe(7)
    })
  })
})

// ---------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------

const count = fc.oneof(fc.constant(null), fc.integer({ min: -2, max: 4 }))
const switchable = fc.oneof(count, fc.constant(false as const))

const arbitraryOptions: fc.Arbitrary<Retry.RetryOptions> = fc.record(
  {
    total: switchable,
    connect: switchable,
    read: switchable,
    redirect: switchable,
    status: count,
    other: count,
    allowedMethods: fc.oneof(fc.constant(null), fc.subarray(["GET", "POST", "PUT", "DELETE"])),
    statusForcelist: fc.subarray([500, 502, 503, 429])
  },
  { requiredKeys: [] }
)

const arbitraryAttempt = fc.tuple(
  fc.constantFrom<Kind>(
    "connect",
    "newconn",
    "proxyconn",
    "proxyother",
    "read",
    "protocol",
    "ssl",
    "redirect",
    "redirect_noloc",
    "status500",
    "status503",
    "none"
  ),
  fc.constantFrom("GET", "POST", "get")
)
