/**
 * A small JSON API on 127.0.0.1 for the jsonApi example and its test: an in-memory todo list
 * (`GET /todos`, `GET /todos/:id`, `POST /todos`) that can misbehave on purpose. `failNext`
 * makes the next requests of a path answer 503 with `Retry-After: 0`; `GET /todos/999` is a
 * todo of the wrong shape. Every request is recorded.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as Effect from "effect/Effect"

/** A request as the server received it. */
export interface Received {
  readonly method: string
  readonly path: string
  readonly contentType: string | null
  readonly body: string
}

/** The running server. */
export interface TodoServer {
  readonly url: string
  readonly received: ReadonlyArray<Received>
  /** The next `times` requests for `path` answer 503 (Retry-After: 0). */
  readonly failNext: (path: string, times: number) => void
}

interface TodoRecord {
  readonly id: number
  readonly title: string
  readonly completed: boolean
}

/** Starts the server in the current Scope; closing the Scope closes it and its sockets. */
export const start = Effect.acquireRelease(
  Effect.async<{ readonly api: TodoServer; readonly server: http.Server }>((resume) => {
    const todos: Array<TodoRecord> = [
      { id: 1, title: "read urllib3's PoolManager page", completed: true },
      { id: 2, title: "replay it with httpool", completed: false }
    ]
    const received: Array<Received> = []
    const failures = new Map<string, number>()
    const send = (res: http.ServerResponse, status: number, value: unknown, headers: http.OutgoingHttpHeaders = {}) => {
      const body = JSON.stringify(value)
      res.writeHead(status, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
        ...headers
      })
      res.end(body)
    }
    const server = http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const path = (req.url ?? "/").split("?")[0]!
        const body = Buffer.concat(chunks).toString()
        received.push({ method: req.method ?? "", path, contentType: req.headers["content-type"] ?? null, body })
        const failing = failures.get(path) ?? 0
        if (failing > 0) {
          failures.set(path, failing - 1)
          return send(res, 503, { error: "try again" }, { "Retry-After": "0" })
        }
        const match = /^\/todos\/(\d+)$/.exec(path)
        if (req.method === "GET" && path === "/todos") return send(res, 200, todos)
        if (req.method === "GET" && match?.[1] === "999") return send(res, 200, { id: "999", done: "maybe" })
        if (req.method === "GET" && match) {
          const todo = todos.find((t) => t.id === Number(match[1]))
          return todo === undefined ? send(res, 404, { error: "no such todo" }) : send(res, 200, todo)
        }
        if (req.method === "POST" && path === "/todos") {
          const input = JSON.parse(body) as { title: string; completed?: boolean }
          const todo = { id: todos.length + 1, title: input.title, completed: input.completed ?? false }
          todos.push(todo)
          return send(res, 201, todo)
        }
        send(res, 404, { error: "not found" })
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(
        Effect.succeed({
          api: {
            url: `http://127.0.0.1:${port}`,
            received,
            failNext: (path, times) => failures.set(path, times)
          },
          server
        })
      )
    })
  }),
  ({ server }) =>
    Effect.sync(() => {
      server.closeAllConnections()
      server.close()
    })
).pipe(Effect.map(({ api }) => api))
