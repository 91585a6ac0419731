/**
 * A JSON API client (`node packages/examples/dist/jsonApi.js` after `npm run build`): a typed
 * client for a todo service, as a service of its own over httpool's PoolManager.
 *
 * - Responses are decoded with effect's `Schema`: a payload of the wrong shape is a
 *   `ParseError`, never a value of the wrong type.
 * - Transient failures are retried by httpool's `Retry`, with backoff: refused or dropped
 *   connections, and 429/502/503/504 answers (waiting what their `Retry-After` says). Only
 *   idempotent methods are retried on a response, so a POST is sent once.
 * - Every failure is typed: `ApiError` for an answer the API should not give (a 404 here),
 *   `ParseError` for a payload of the wrong shape, and httpool's own errors (`DecodeError` for
 *   a body that is not JSON, `MaxRetryError` when the retries run out).
 *
 * `main` runs it against the local server of ./todoServer.ts, which fails on purpose.
 */
import { PoolManager, type Response, Retry } from "@httpool/core"
import { NodePoolManager } from "@httpool/node"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as TodoServer from "./todoServer.js"

/** A todo as the API sends it. */
export class Todo extends Schema.Class<Todo>("Todo")({
  id: Schema.Number,
  title: Schema.String,
  completed: Schema.Boolean
}) {}

/** An answer outside what the API promises (a 4xx or 5xx that was not retried). */
export class ApiError extends Data.TaggedError("ApiError")<{
  readonly method: string
  readonly url: string
  readonly status: number
  readonly body: string
}> {
  override get message() {
    return `${this.method} ${this.url} answered ${this.status}: ${this.body}`
  }
}

/**
 * The retry policy of every call: up to 4 retries, waiting 0.1 s, 0.2 s, 0.4 s ... between
 * them (or what `Retry-After` says), on connection errors and on 429, 502, 503 and 504.
 */
export const retries = Retry.make({ total: 4, backoffFactor: 0.1, statusForcelist: [429, 502, 503, 504] })

/** The client, as a service. */
export class TodoClient extends Context.Tag("@httpool/examples/TodoClient")<
  TodoClient,
  Effect.Effect.Success<ReturnType<typeof make>>
>() {}

/** Builds the client for the API at `baseUrl` from the PoolManager in context. */
export const make = (baseUrl: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const headers = { Accept: "application/json", "User-Agent": "todo-client/1.0" }

    // The end of a call: check the status, then decode the JSON body with `schema`.
    const decode =
      <A, I>(schema: Schema.Schema<A, I>, method: string, url: string) =>
      (response: Response.Response) =>
        Effect.gen(function* () {
          if (response.status < 200 || response.status >= 300) {
            return yield* new ApiError({ method, url, status: response.status, body: response.text })
          }
          return yield* Schema.decodeUnknown(schema)(yield* response.json)
        })

    const get = <A, I>(schema: Schema.Schema<A, I>, path: string) =>
      Effect.flatMap(
        manager.request("GET", `${baseUrl}${path}`, { headers, retries }),
        decode(schema, "GET", `${baseUrl}${path}`)
      )

    return {
      list: get(Schema.Array(Todo), "/todos"),
      get: (id: number) => get(Todo, `/todos/${id}`),
      create: (title: string) =>
        Effect.flatMap(
          manager.request("POST", `${baseUrl}/todos`, { headers, retries, json: { title, completed: false } }),
          decode(Todo, "POST", `${baseUrl}/todos`)
        )
    }
  })

/** The client for `baseUrl`, with a PoolManager of its own. */
export const layer = (baseUrl: string): Layer.Layer<TodoClient> =>
  Layer.effect(TodoClient, make(baseUrl)).pipe(
    Layer.provide(NodePoolManager.layer({ connectionPoolKw: { maxsize: 4 } }))
  )

/** The demo: a few calls against the local todo server, which fails on purpose. */
export const main = (log: (line: string) => void) =>
  Effect.gen(function* () {
    const server = yield* TodoServer.start
    log(`the todo API is played by ${server.url}`)
    const program = Effect.gen(function* () {
      const todos = yield* TodoClient
      server.failNext("/todos", 2) // two 503s: retried, then the list
      const list = yield* todos.list
      log(`GET /todos after two 503s -> ${list.length} todos: ${list.map((t) => t.title).join("; ")}`)
      const created = yield* todos.create("try httpool")
      log(`POST /todos -> created #${created.id} "${created.title}"`)
      const missing = yield* Effect.flip(todos.get(42))
      log(`GET /todos/42 -> ${missing._tag}: ${missing.message}`)
      const malformed = yield* Effect.flip(todos.get(999))
      log(`GET /todos/999 -> ${malformed._tag} (the payload has the wrong shape)`)
      return { list, created, missing, malformed }
    })
    const result = yield* program.pipe(Effect.provide(layer(server.url)))
    log(`the server received ${server.received.length} requests`)
    return result
  })

if (import.meta.url === `file://${process.argv[1]}`) {
  Effect.runPromise(Effect.scoped(main(console.log))).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
