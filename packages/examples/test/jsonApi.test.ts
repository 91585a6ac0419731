import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as JsonApi from "../src/jsonApi.js"
import * as TodoServer from "../src/todoServer.js"

describe("the JSON API client example", () => {
  it.scopedLive("decodes the list with Schema after retrying two 503s", () =>
    Effect.gen(function* () {
      const server = yield* TodoServer.start
      server.failNext("/todos", 2)
      const todos = yield* Effect.flatMap(JsonApi.TodoClient, (client) => client.list).pipe(
        Effect.provide(JsonApi.layer(server.url))
      )
      expect(todos.map((todo) => todo instanceof JsonApi.Todo)).toEqual([true, true])
      expect(todos.map((todo) => todo.id)).toEqual([1, 2])
      expect(server.received.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /todos", "GET /todos", "GET /todos"])
    })
  )

  it.scopedLive("POSTs JSON once and decodes the created todo", () =>
    Effect.gen(function* () {
      const server = yield* TodoServer.start
      const created = yield* Effect.flatMap(JsonApi.TodoClient, (client) => client.create("write tests")).pipe(
        Effect.provide(JsonApi.layer(server.url))
      )
      expect(created).toEqual(new JsonApi.Todo({ id: 3, title: "write tests", completed: false }))
      expect(server.received).toEqual([
        {
          method: "POST",
          path: "/todos",
          contentType: "application/json",
          body: '{"title":"write tests","completed":false}'
        }
      ])
    })
  )

  it.scopedLive("a 503 answering a POST is not retried: the POST is not idempotent", () =>
    Effect.gen(function* () {
      const server = yield* TodoServer.start
      server.failNext("/todos", 1)
      const error = yield* Effect.flatMap(JsonApi.TodoClient, (client) => client.create("once")).pipe(
        Effect.flip,
        Effect.provide(JsonApi.layer(server.url))
      )
      expect(error._tag === "ApiError" ? error.status : error._tag).toBe(503)
      expect(server.received.length).toBe(1)
    })
  )

  it.scopedLive("a 404 is an ApiError, a payload of the wrong shape a ParseError", () =>
    Effect.gen(function* () {
      const server = yield* TodoServer.start
      const [missing, malformed] = yield* Effect.flatMap(JsonApi.TodoClient, (client) =>
        Effect.all([Effect.flip(client.get(42)), Effect.flip(client.get(999))])
      ).pipe(Effect.provide(JsonApi.layer(server.url)))
      expect(missing._tag === "ApiError" ? [missing.status, missing.url] : missing._tag).toEqual([
        404,
        `${server.url}/todos/42`
      ])
      expect(malformed._tag).toBe("ParseError")
    })
  )

  it.scopedLive("retries run out after the policy's total: MaxRetryError", () =>
    Effect.gen(function* () {
      const server = yield* TodoServer.start
      server.failNext("/todos/1", 10)
      const error = yield* Effect.flatMap(JsonApi.TodoClient, (client) => client.get(1)).pipe(
        Effect.flip,
        Effect.provide(JsonApi.layer(server.url))
      )
      expect(error._tag).toBe("MaxRetryError")
      expect(server.received.length).toBe(5) // the first attempt and 4 retries
    })
  )

  it.scopedLive("main prints what each call gave", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const result = yield* JsonApi.main((line) => lines.push(line))
      expect(result.list.length).toBe(2)
      expect(result.missing._tag).toBe("ApiError")
      expect(result.malformed._tag).toBe("ParseError")
      expect(lines.at(-1)).toBe("the server received 6 requests")
    })
  )
})
