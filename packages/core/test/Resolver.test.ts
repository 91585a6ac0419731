import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as Errors from "../src/Errors.js"
import * as Resolver from "../src/Resolver.js"

const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.either(effect), (result) =>
    Either.isLeft(result) ? Effect.succeed(result.left) : Effect.dieMessage("expected a failure, got a success")
  )

/** A resolver answering every name with 127.0.0.1 (or failing for `bad.test`), counting questions. */
const counting = () => {
  const asked: Array<string> = []
  const service = Resolver.make((host) =>
    Effect.suspend(() => {
      asked.push(host)
      return host === "bad.test"
        ? Effect.fail(new Errors.NameResolutionError({ host, reason: "no such name" }))
        : Effect.succeed([{ address: "127.0.0.1", family: 4 as const }])
    })
  )
  return { asked, service }
}

const any = { family: 0, port: 443 } as const

describe("Resolver", () => {
  describe("withOverrides (curl's --resolve)", () => {
    it.effect("answers a pinned host:port from the entry and asks the resolver for the rest", () =>
      Effect.gen(function* () {
        const base = counting()
        const resolver = yield* Resolver.withOverrides(base.service, ["Example.Test:443:10.0.0.1,[::1]"])
        expect(yield* resolver.lookup("example.test", any)).toEqual([
          { address: "10.0.0.1", family: 4 },
          { address: "::1", family: 6 }
        ])
        // the name is matched in any case and without a trailing dot
        expect((yield* resolver.lookup("EXAMPLE.test.", any)).length).toBe(2)
        // another port is not pinned
        yield* resolver.lookup("example.test", { family: 0, port: 80 })
        expect(base.asked).toEqual(["example.test"])
      })
    )

    it.effect("a * host or port matches every one; the first matching entry wins", () =>
      Effect.gen(function* () {
        const resolver = yield* Resolver.fromOverrides(["api.test:*:127.0.0.2", "*:*:127.0.0.1"])
        expect((yield* resolver.lookup("api.test", { family: 0, port: 8080 }))[0]?.address).toBe("127.0.0.2")
        expect((yield* resolver.lookup("other.test", any))[0]?.address).toBe("127.0.0.1")
      })
    )

    it.effect("the family hint keeps the addresses of that family, or fails when there are none", () =>
      Effect.gen(function* () {
        const resolver = yield* Resolver.fromOverrides(["dual.test:*:::1,127.0.0.1", "v4.test:*:127.0.0.1"])
        expect(yield* resolver.lookup("dual.test", { family: 6, port: 1 })).toEqual([{ address: "::1", family: 6 }])
        expect(yield* resolver.lookup("dual.test", { family: 4, port: 1 })).toEqual([
          { address: "127.0.0.1", family: 4 }
        ])
        const error = yield* failure(resolver.lookup("v4.test", { family: 6, port: 1 }))
        expect(error).toBeInstanceOf(Errors.NameResolutionError)
        expect(error.host).toBe("v4.test")
      })
    )

    it.effect("fromOverrides fails every other name with NameResolutionError", () =>
      Effect.gen(function* () {
        const resolver = yield* Resolver.fromOverrides(["known.test:443:127.0.0.1"])
        const error = yield* failure(resolver.lookup("unknown.test", any))
        expect(error._tag).toBe("NameResolutionError")
        expect(error.message).toContain("unknown.test")
      })
    )

    it.effect("an entry that does not parse is a ValueError naming it", () =>
      Effect.gen(function* () {
        for (const entry of [
          "example.test",
          "example.test:443",
          ":443:127.0.0.1",
          "h:70000:127.0.0.1",
          "h:1:not-an-ip",
          "h:1:"
        ]) {
          const error = yield* failure(Resolver.fromOverrides([entry]))
          expect(error._tag).toBe("ValueError")
          expect(error.message).toContain(JSON.stringify(entry))
        }
      })
    )
  })

  describe("cached", () => {
    it.effect("keeps an answer for its time to live, then asks again", () =>
      Effect.gen(function* () {
        const base = counting()
        const resolver = yield* Resolver.cached(base.service, { timeToLive: 30 })
        yield* resolver.lookup("a.test", any)
        yield* resolver.lookup("A.TEST", any)
        expect(base.asked).toEqual(["a.test"])
        yield* TestClock.adjust("29 seconds")
        yield* resolver.lookup("a.test", any)
        expect(base.asked.length).toBe(1)
        yield* TestClock.adjust("2 seconds")
        yield* resolver.lookup("a.test", any)
        expect(base.asked.length).toBe(2)
      })
    )

    it.effect("asks again for another family, and never keeps a failure", () =>
      Effect.gen(function* () {
        const base = counting()
        const resolver = yield* Resolver.cached(base.service, { timeToLive: "1 minute" })
        yield* resolver.lookup("a.test", { family: 4, port: 1 })
        yield* resolver.lookup("a.test", { family: 0, port: 1 })
        expect(base.asked.length).toBe(2)
        yield* failure(resolver.lookup("bad.test", any))
        yield* failure(resolver.lookup("bad.test", any))
        expect(base.asked.filter((host) => host === "bad.test").length).toBe(2)
      })
    )

    it.effect("concurrent lookups of one name share one question", () =>
      Effect.gen(function* () {
        const asked: Array<string> = []
        const slow = Resolver.make((host) =>
          Effect.zipRight(
            Effect.sync(() => asked.push(host)),
            Effect.as(Effect.sleep("1 second"), [{ address: "127.0.0.1", family: 4 as const }])
          )
        )
        const resolver = yield* Resolver.cached(slow, { timeToLive: 60 })
        const fiber = yield* Effect.fork(
          Effect.all([resolver.lookup("a.test", any), resolver.lookup("a.test", any)], { concurrency: 2 })
        )
        yield* TestClock.adjust("1 second")
        const [a, b] = yield* Fiber.join(fiber)
        expect(a).toEqual(b)
        expect(asked).toEqual(["a.test"])
      })
    )

    it.effect("a time to live or capacity out of range is a ValueError", () =>
      Effect.gen(function* () {
        const base = counting()
        expect((yield* failure(Resolver.cached(base.service, { timeToLive: 0 })))._tag).toBe("ValueError")
        expect((yield* failure(Resolver.cached(base.service, { timeToLive: 1, capacity: 0 })))._tag).toBe("ValueError")
      })
    )

    it.effect("overrides outside the cache still match on the port", () =>
      Effect.gen(function* () {
        const base = counting()
        const resolver = yield* Resolver.withOverrides(yield* Resolver.cached(base.service, { timeToLive: 60 }), [
          "a.test:8443:127.0.0.9"
        ])
        expect((yield* resolver.lookup("a.test", { family: 0, port: 8443 }))[0]?.address).toBe("127.0.0.9")
        expect((yield* resolver.lookup("a.test", { family: 0, port: 443 }))[0]?.address).toBe("127.0.0.1")
        expect(base.asked).toEqual(["a.test"])
      })
    )
  })
})
