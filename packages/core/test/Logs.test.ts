import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as PoolManager from "../src/PoolManager.js"
import * as TestConnector from "../src/TestConnector.js"

interface Line {
  readonly level: string
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** Runs `self` with every log line (Debug included) captured instead of printed. */
const captured = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const lines: Array<Line> = []
    const capture = Logger.make(({ annotations, logLevel, message }) => {
      lines.push({
        level: logLevel.label,
        message: String(Array.isArray(message) ? message.join(" ") : message),
        annotations: Object.fromEntries(HashMap.toEntries(annotations))
      })
    })
    yield* self.pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      Logger.withMinimumLogLevel(LogLevel.All)
    )
    return lines
  })

const managerOver = (routes: ReadonlyArray<TestConnector.Route>) =>
  PoolManager.layer().pipe(Layer.provideMerge(TestConnector.layer(routes)))

describe("logs", () => {
  it.effect("a retry logs at Warning, annotated with the event, the pool, the error and the URL", () =>
    Effect.gen(function* () {
      const lines = yield* captured(
        Effect.flatMap(PoolManager.PoolManager, (m) => m.request("GET", "http://user:secret@a.test/x"))
      )
      const retry = lines.filter((l) => l.annotations["httpool.event"] === "retry")
      expect(retry).toHaveLength(1)
      expect(retry[0]!.level).toBe("WARN")
      expect(retry[0]!.annotations).toMatchObject({
        "httpool.pool": "http://a.test:80",
        "httpool.error": "NewConnectionError"
      })
      expect(String(retry[0]!.annotations["httpool.url"])).not.toContain("secret")
    }).pipe(
      Effect.provide(
        managerOver([
          TestConnector.route("GET", "http://a.test/x", TestConnector.refused, { times: 1 }),
          TestConnector.route("GET", "http://a.test/x", TestConnector.text("ok"))
        ])
      )
    )
  )

  it.live("a connection discarded by a full pool logs at Debug, annotated", () =>
    Effect.gen(function* () {
      const lines = yield* captured(
        Effect.flatMap(PoolManager.PoolManager, (m) =>
          Effect.all([m.request("GET", "http://b.test/"), m.request("GET", "http://b.test/")], { concurrency: 2 })
        )
      )
      const full = lines.filter((l) => l.annotations["httpool.event"] === "pool.full")
      expect(full).toHaveLength(1)
      expect(full[0]!.level).toBe("DEBUG")
      expect(full[0]!.annotations).toMatchObject({ "httpool.pool": "http://b.test:80", "httpool.pool.maxsize": 1 })
      expect(lines.every((l) => typeof l.annotations["httpool.event"] === "string")).toBe(true)
    }).pipe(
      Effect.provide(
        managerOver([TestConnector.route("GET", "http://b.test/", TestConnector.text("ok", { delay: "10 millis" }))])
      )
    )
  )
})
