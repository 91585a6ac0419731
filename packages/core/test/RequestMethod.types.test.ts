// Type-level test: `npm run check` compiles this file, so the wrappers below must type-check.
// Forwarding a `RequestOptions` value, or a `preloadContent` that is a plain boolean, used to
// fail overload resolution (TS2769).
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as ConnectionPool from "../src/ConnectionPool.js"
import type * as Errors from "../src/Errors.js"
import type * as PoolManager from "../src/PoolManager.js"
import * as Response from "../src/Response.js"

type Manager = PoolManager.Service

/** A user's wrapper that forwards whatever options it is given. */
const forward = (manager: Manager, url: string, options?: ConnectionPool.RequestOptions) =>
  manager.request("GET", url, options)

const withFlag = (manager: Manager, url: string, preloadContent: boolean) =>
  manager.request("GET", url, { preloadContent, headers: { accept: "application/json" } })

const onPool = (pool: ConnectionPool.ConnectionPool, options: ConnectionPool.UrlopenOptions) =>
  pool.urlopen("GET", "/", options)

describe("RequestMethod", () => {
  it("accepts forwarded options and a non-literal preloadContent, returning the union", () => {
    type Either<E> = Effect.Effect<Response.Response | Response.StreamingResponse, E, Scope.Scope>
    expectTypeOf(forward).returns.toEqualTypeOf<Either<PoolManager.UrlopenError>>()
    expectTypeOf(withFlag).returns.toEqualTypeOf<Either<PoolManager.UrlopenError>>()
    expectTypeOf(onPool).returns.toEqualTypeOf<Either<ConnectionPool.UrlopenError>>()
    // literals still pick the precise overloads
    const preloaded = (manager: Manager) => manager.request("GET", "/", { preloadContent: true })
    const streamed = (manager: Manager) => manager.request("GET", "/", { preloadContent: false })
    const plain = (manager: Manager) => manager.request("GET", "/")
    expectTypeOf(preloaded).returns.toEqualTypeOf<Effect.Effect<Response.Response, PoolManager.UrlopenError>>()
    expectTypeOf(plain).returns.toEqualTypeOf<Effect.Effect<Response.Response, PoolManager.UrlopenError>>()
    expectTypeOf(streamed).returns.toEqualTypeOf<
      Effect.Effect<Response.StreamingResponse, PoolManager.UrlopenError, Scope.Scope>
    >()
  })

  it("retries: false takes MaxRetryError out of the channel; other or forwarded retries keep it", () => {
    type WithoutMax = Exclude<PoolManager.UrlopenError, Errors.MaxRetryError>
    const preloaded = (manager: Manager) => manager.request("GET", "/", { retries: false, timeout: 1 })
    const streamed = (manager: Manager) => manager.request("GET", "/", { retries: false, preloadContent: false })
    const withFlag = (manager: Manager, preloadContent: boolean) =>
      manager.request("GET", "/", { retries: false, preloadContent })
    const onPool = (pool: ConnectionPool.ConnectionPool) => pool.urlopen("GET", "/", { retries: false })
    expectTypeOf(preloaded).returns.toEqualTypeOf<Effect.Effect<Response.Response, WithoutMax>>()
    expectTypeOf(streamed).returns.toEqualTypeOf<Effect.Effect<Response.StreamingResponse, WithoutMax, Scope.Scope>>()
    expectTypeOf(withFlag).returns.toEqualTypeOf<
      Effect.Effect<Response.Response | Response.StreamingResponse, WithoutMax, Scope.Scope>
    >()
    expectTypeOf(onPool).returns.toEqualTypeOf<
      Effect.Effect<Response.Response, Exclude<ConnectionPool.UrlopenError, Errors.MaxRetryError>>
    >()
    // the cause is caught by its own tag; a handler for MaxRetryError does not compile
    const refused = (manager: Manager) =>
      manager
        .request("GET", "/", { retries: false })
        .pipe(Effect.catchTag("NewConnectionError", (error) => Effect.succeed(error.message)))
    expectTypeOf(refused).returns.toEqualTypeOf<
      Effect.Effect<Response.Response | string, Exclude<WithoutMax, Errors.NewConnectionError>>
    >()
    const maxRetry = (manager: Manager) =>
      // @ts-expect-error MaxRetryError is not in the channel of a call with retries off
      manager.request("GET", "/", { retries: false }).pipe(Effect.catchTag("MaxRetryError", () => Effect.void))
    expect(typeof maxRetry).toBe("function")
    // a policy, a count or a forwarded value keeps MaxRetryError
    const counted = (manager: Manager) => manager.request("GET", "/", { retries: 0 })
    const forwarded = (manager: Manager, retries: ConnectionPool.RequestOptions["retries"]) =>
      manager.request("GET", "/", { retries })
    expectTypeOf(counted).returns.toEqualTypeOf<Effect.Effect<Response.Response, PoolManager.UrlopenError>>()
    expectTypeOf(forwarded).returns.toEqualTypeOf<Effect.Effect<Response.Response, PoolManager.UrlopenError>>()
  })

  it("tells the two kinds of response apart", () => {
    const head = { status: 200, headers: {} } as never
    expect(Response.isStreamingResponse({ ...(head as object), stream: null } as never)).toBe(true)
    expect(Response.isStreamingResponse({ ...(head as object), data: new Uint8Array() } as never)).toBe(false)
  })
})
