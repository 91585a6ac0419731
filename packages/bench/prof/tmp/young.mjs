// node --allow-natives-syntax: which per-request objects are allocated old (pretenured)?
import * as ConnectionPool from "@httpool/core/ConnectionPool"
import * as Connector from "@httpool/core/Connector"
import * as ContentDecoder from "@httpool/core/ContentDecoder"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
const body = new Uint8Array(64)
const rawHeaders = ["content-type", "text/plain", "content-length", "64", "connection", "keep-alive"]
const answer = () => ({
  status: 200,
  reason: "OK",
  headers: rawHeaders,
  body,
  read: Effect.succeed(null),
  abort: Effect.void
})
const connector = Layer.merge(
  Layer.succeed(Connector.Connector, {
    open: () => ({
      id: 1,
      send: () => Effect.sync(answer),
      begin: (r, resume) => {
        resume(Effect.succeed(answer()))
      },
      isConnected: () => true,
      close: Effect.void
    })
  }),
  Layer.succeed(ContentDecoder.ContentDecoder, ContentDecoder.identity)
)
const isYoung = new Function("o", "return %InYoungGeneration(o)")
const walk = (o, path, depth, seen, out) => {
  if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o)) return
  seen.add(o)
  out.set(o, path)
  if (depth === 0) return
  for (const k of Object.getOwnPropertyNames(o)) {
    let v
    try {
      v = o[k]
    } catch {
      continue
    }
    walk(v, path + "." + k, depth - 1, seen, out)
  }
}
await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function* () {
      const pool = yield* ConnectionPool.make({ host: "127.0.0.1", port: 18081 })
      let prev = new Map()
      const counts = new Map()
      for (let i = 0; i < Number(process.env.N ?? 60000); i++) {
        const r = yield* pool.request("GET", "/x")
        if (i % 1000 === 999) {
          const out = new Map()
          walk(r, "r", 4, new Set(), out)
          for (const [o, p] of out) if (!prev.has(o) && !isYoung(o)) counts.set(p, (counts.get(p) ?? 0) + 1)
          prev = out
        }
      }
      console.log(
        [...counts]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 30)
          .map(([p, n]) => `${n} ${p}`)
          .join("\n")
      )
    })
  ).pipe(Effect.provide(connector))
)
