// Type-level test: `npm run check` compiles this file, so the wrappers below must type-check.
// Forwarding a `RequestOptions` value, or a `preloadContent` that is a plain boolean, used to
// fail overload resolution (TS2769).
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as ConnectionPool from "../src/ConnectionPool.js"
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

  it("tells the two kinds of response apart", () => {
    const head = { status: 200, headers: {} } as never
    expect(Response.isStreamingResponse({ ...(head as object), stream: null } as never)).toBe(true)
    expect(Response.isStreamingResponse({ ...(head as object), data: new Uint8Array() } as never)).toBe(false)
  })
})
