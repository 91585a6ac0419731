// Type-level test: `npm run check` compiles this file, so each public method's error channel
// is pinned here (what each error in a channel looks like at run time is
// packages/node/test/ErrorChannels.test.ts).
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as ConnectionPool from "../src/ConnectionPool.js"
import * as Errors from "../src/Errors.js"
import type * as PoolManager from "../src/PoolManager.js"
import type * as ProxyManager from "../src/ProxyManager.js"
import type * as Response from "../src/Response.js"

type ErrorOf<T> = T extends (...args: ReadonlyArray<never>) => Effect.Effect<unknown, infer E, unknown>
  ? E
  : T extends Effect.Effect<unknown, infer E, unknown>
    ? E
    : never

/** The tags of a union of errors, for readable comparisons. */
type Tags<E> = E extends { readonly _tag: infer T } ? T : never

// Only declared: each expression below is inside a function `typeOf` never calls.
declare const pool: ConnectionPool.ConnectionPool
declare const manager: PoolManager.Service

/** The type of what `f` would return, for `expectTypeOf`. */
const typeOf = <A>(_f: () => A) => expectTypeOf<A>()

describe("error channels", () => {
  it("ConnectionPool.make fails only with an invalid option", () => {
    expectTypeOf<Tags<ConnectionPool.MakeError>>().toEqualTypeOf<
      "ValueError" | "LocationValueError" | "LocationParseError" | "InvalidHeader" | "ProxySchemeUnknown"
    >()
    type Make = ErrorOf<(options: ConnectionPool.Options) => ReturnType<typeof import("../src/ConnectionPool.js").make>>
    expectTypeOf<Make>().toEqualTypeOf<ConnectionPool.MakeError>()
  })

  it("a pool's request methods: UrlopenError, without URLSchemeUnknown, ProxySchemeUnknown, FullPoolError, ResponseError", () => {
    expectTypeOf<Tags<ConnectionPool.AttemptError>>().toEqualTypeOf<
      | "ConnectTimeoutError"
      | "NewConnectionError"
      | "NameResolutionError"
      | "SSLError"
      | "ProxyError"
      | "ProtocolError"
      | "ReadTimeoutError"
    >()
    expectTypeOf<Tags<ConnectionPool.UrlopenError>>().toEqualTypeOf<
      Exclude<Tags<Errors.HttpoolError>, "URLSchemeUnknown" | "ProxySchemeUnknown" | "FullPoolError" | "ResponseError">
    >()
    expectTypeOf<ErrorOf<typeof pool.urlopen>>().toEqualTypeOf<ConnectionPool.UrlopenError>()
    typeOf(() => pool.urlopen("GET", "/")).toEqualTypeOf<
      Effect.Effect<Response.Response, ConnectionPool.UrlopenError>
    >()
    typeOf(() => pool.request("GET", "/", { preloadContent: false })).toEqualTypeOf<
      Effect.Effect<Response.StreamingResponse, ConnectionPool.UrlopenError, Scope.Scope>
    >()
    typeOf(() => pool.requestEncodeUrl("GET", "/")).toEqualTypeOf<
      Effect.Effect<Response.Response, ConnectionPool.UrlopenError>
    >()
    typeOf(() => pool.requestEncodeBody("POST", "/")).toEqualTypeOf<
      Effect.Effect<Response.Response, ConnectionPool.UrlopenError>
    >()
    typeOf(() => pool.close).toEqualTypeOf<Effect.Effect<void>>()
    typeOf(() => pool.stats).toEqualTypeOf<Effect.Effect<ConnectionPool.Stats>>()
  })

  it("a manager's request methods: no HostChangedError, plus URLSchemeUnknown and ProxySchemeUnknown", () => {
    expectTypeOf<Tags<PoolManager.UrlopenError>>().toEqualTypeOf<
      Exclude<Tags<Errors.HttpoolError>, "HostChangedError" | "FullPoolError" | "ResponseError">
    >()
    typeOf(() => manager.urlopen("GET", "http://h/")).toEqualTypeOf<
      Effect.Effect<Response.Response, PoolManager.UrlopenError>
    >()
    typeOf(() => manager.request("GET", "http://h/", { preloadContent: false })).toEqualTypeOf<
      Effect.Effect<Response.StreamingResponse, PoolManager.UrlopenError, Scope.Scope>
    >()
    typeOf(() => manager.requestEncodeUrl("GET", "http://h/")).toEqualTypeOf<
      Effect.Effect<Response.Response, PoolManager.UrlopenError>
    >()
    typeOf(() => manager.requestEncodeBody("POST", "http://h/")).toEqualTypeOf<
      Effect.Effect<Response.Response, PoolManager.UrlopenError>
    >()
  })

  it("connectionFrom* cannot fail with a request error", () => {
    expectTypeOf<Tags<PoolManager.ConnectionFromError>>().toEqualTypeOf<
      | "ValueError"
      | "LocationValueError"
      | "LocationParseError"
      | "InvalidHeader"
      | "ProxySchemeUnknown"
      | "URLSchemeUnknown"
      | "ClosedPoolError"
    >()
    type Pooled = Effect.Effect<ConnectionPool.ConnectionPool, PoolManager.ConnectionFromError, Scope.Scope>
    typeOf(() => manager.connectionFromUrl("http://h/")).toEqualTypeOf<Pooled>()
    typeOf(() => manager.connectionFromHost("h")).toEqualTypeOf<Pooled>()
    typeOf(() => manager.connectionFromContext({ scheme: "http", host: "h", port: 80 })).toEqualTypeOf<Pooled>()
    expectTypeOf<ErrorOf<typeof manager.connectionFromPoolKey>>().toEqualTypeOf<PoolManager.ConnectionFromError>()
    expectTypeOf<ErrorOf<PoolManager.PoolFactory>>().toEqualTypeOf<ConnectionPool.MakeError>()
  })

  it("the manager's other methods cannot fail", () => {
    typeOf(() => manager.clear).toEqualTypeOf<Effect.Effect<void>>()
    typeOf(() => manager.updateConnectionPoolKw((kw) => kw)).toEqualTypeOf<Effect.Effect<void>>()
    typeOf(() => manager.pools).toEqualTypeOf<Effect.Effect<PoolManager.Pools>>()
    typeOf(() => manager.connectionPoolKw).toEqualTypeOf<Effect.Effect<PoolManager.ConnectionPoolKw>>()
  })

  it("ProxyManager: only its configuration fails it; its requests are a manager's", () => {
    expectTypeOf<ErrorOf<typeof import("../src/ProxyManager.js").make>>().toEqualTypeOf<ProxyManager.ProxyConfigError>()
    expectTypeOf<
      ErrorOf<typeof import("../src/ProxyManager.js").fromEnv>
    >().toEqualTypeOf<ProxyManager.ProxyConfigError>()
    expectTypeOf<Tags<ProxyManager.ProxyConfigError>>().toEqualTypeOf<
      "ProxySchemeUnknown" | "LocationValueError" | "LocationParseError" | "InvalidHeader"
    >()
  })

  it("a streamed body fails with BodyError; a preloaded body's json with DecodeError", () => {
    expectTypeOf<Tags<Response.BodyError>>().toEqualTypeOf<"ProtocolError" | "ReadTimeoutError" | "DecodeError">()
    expectTypeOf<Response.StreamingResponse["stream"]>().toEqualTypeOf<Stream.Stream<Uint8Array, Response.BodyError>>()
    expectTypeOf<Response.StreamingResponse["drain"]>().toEqualTypeOf<Effect.Effect<void>>()
    expectTypeOf<Response.Response["json"]>().toEqualTypeOf<Effect.Effect<unknown, Errors.DecodeError>>()
  })

  it("Errors.catchReason and unwrapReason work over the narrowed channels", () => {
    const caught = () =>
      Errors.catchReason(manager.request("GET", "http://h/"), "NewConnectionError", (refused) =>
        Effect.succeed(refused)
      )
    typeOf(caught).toEqualTypeOf<
      Effect.Effect<
        Response.Response | Errors.NewConnectionError,
        Exclude<PoolManager.UrlopenError, Errors.NewConnectionError>
      >
    >()
    typeOf(() => Errors.unwrapReason(pool.request("GET", "/"))).toEqualTypeOf<
      Effect.Effect<Response.Response, Errors.HttpoolError>
    >()
    const refused = new Errors.NewConnectionError({ message: "connect ECONNREFUSED" })
    expect(Errors.reason(new Errors.MaxRetryError({ pool: null, url: "/", reason: refused }))).toBe(refused)
  })
})
