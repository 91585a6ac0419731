import { describe, expect, it } from "@effect/vitest"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import * as fc from "fast-check"
import * as Lru from "../src/Lru.js"

/** Applies several sets, keeping the final container. */
const fill = <K, V>(lru: Lru.Lru<K, V>, entries: ReadonlyArray<readonly [K, V]>): Lru.Lru<K, V> =>
  entries.reduce((acc, [k, v]) => Lru.set(acc, k, v)[1], lru)

/** A recorder of disposed entries. */
const recorder = <K, V>() =>
  Effect.map(Ref.make<ReadonlyArray<readonly [K, V]>>([]), (disposed) => ({
    disposed,
    dispose: (key: K, value: V) => Ref.update(disposed, (all) => [...all, [key, value] as const])
  }))

describe("Lru (pure)", () => {
  it("starts empty with its capacity", () => {
    const lru = Lru.empty<string, number>(3)
    expect(Lru.size(lru)).toBe(0)
    expect(lru.capacity).toBe(3)
    expect(Lru.keys(lru)).toEqual([])
    expect(Lru.isLru(lru)).toBe(true)
    expect(Lru.isLru({})).toBe(false)
  })

  it("normalizes the capacity: negative or NaN keeps nothing, fractions round down", () => {
    expect(Lru.empty(-1).capacity).toBe(0)
    expect(Lru.empty(Number.NaN).capacity).toBe(0)
    expect(Lru.empty(2.7).capacity).toBe(2)
    expect(Lru.empty(Number.POSITIVE_INFINITY).capacity).toBe(Number.POSITIVE_INFINITY)
  })

  it("get returns the value and refreshes the key; a miss changes nothing", () => {
    const lru = fill(Lru.empty<string, number>(3), [
      ["a", 1],
      ["b", 2],
      ["c", 3]
    ])
    const [found, refreshed] = Lru.get(lru, "a")
    expect(found).toEqual(Option.some(1))
    expect(Lru.keys(refreshed)).toEqual(["b", "c", "a"])
    const [missing, same] = Lru.get(refreshed, "zz")
    expect(Option.isNone(missing)).toBe(true)
    expect(same).toBe(refreshed)
    // the most recently used key needs no move
    expect(Lru.get(refreshed, "a")[1]).toBe(refreshed)
  })

  it("peek and has do not refresh", () => {
    const lru = fill(Lru.empty<string, number>(2), [
      ["a", 1],
      ["b", 2]
    ])
    expect(Lru.peek(lru, "a")).toEqual(Option.some(1))
    expect(Lru.has(lru, "a")).toBe(true)
    expect(Lru.has(lru, "zz")).toBe(false)
    expect(Lru.peek(lru, "zz")).toEqual(Option.none())
    const [evicted] = Lru.set(lru, "c", 3)
    expect(evicted).toEqual(Option.some(["a", 1]))
  })

  it("evicts the least recently used past capacity: n=2, a, b, a, c leaves a and c", () => {
    let lru = fill(Lru.empty<string, number>(2), [
      ["a", 1],
      ["b", 2]
    ])
    lru = Lru.get(lru, "a")[1]
    const [evicted, next] = Lru.set(lru, "c", 3)
    expect(evicted).toEqual(Option.some(["b", 2]))
    expect(Lru.keys(next)).toEqual(["a", "c"])
    expect(Lru.entries(next)).toEqual([
      ["a", 1],
      ["c", 3]
    ])
    expect(Lru.values(next)).toEqual([1, 3])
    expect(Array.from(next)).toEqual([
      ["a", 1],
      ["c", 3]
    ])
  })

  it("setting an existing key replaces it without evicting, returning the old value", () => {
    const lru = fill(Lru.empty<string, number>(2), [
      ["a", 1],
      ["b", 2]
    ])
    const [replaced, next] = Lru.set(lru, "a", 10)
    expect(replaced).toEqual(Option.some(["a", 1]))
    expect(Lru.size(next)).toBe(2)
    expect(Lru.entries(next)).toEqual([
      ["b", 2],
      ["a", 10]
    ])
  })

  it("setting the value a key already holds only refreshes it", () => {
    const value = { pool: 1 }
    const lru = fill(Lru.empty<string, { pool: number }>(2), [
      ["a", value],
      ["b", { pool: 2 }]
    ])
    const [left, next] = Lru.set(lru, "a", value)
    expect(Option.isNone(left)).toBe(true)
    expect(Lru.keys(next)).toEqual(["b", "a"])
  })

  it("capacity 0 keeps nothing: the entry set is what leaves", () => {
    const lru = Lru.empty<string, number>(0)
    const [left, next] = Lru.set(lru, "a", 1)
    expect(left).toEqual(Option.some(["a", 1]))
    expect(Lru.size(next)).toBe(0)
  })

  it("remove returns the value; clear returns everything, least recently used first", () => {
    const lru = fill(Lru.empty<string, number>(3), [
      ["a", 1],
      ["b", 2],
      ["c", 3]
    ])
    const [removed, without] = Lru.remove(lru, "b")
    expect(removed).toEqual(Option.some(2))
    expect(Lru.keys(without)).toEqual(["a", "c"])
    expect(Lru.remove(without, "b")[0]).toEqual(Option.none())
    const [all, cleared] = Lru.clear(Lru.get(without, "a")[1])
    expect(all).toEqual([
      ["c", 3],
      ["a", 1]
    ])
    expect(Lru.size(cleared)).toBe(0)
    expect(cleared.capacity).toBe(3)
  })

  it("is immutable: an operation leaves its input unchanged", () => {
    const lru = fill(Lru.empty<string, number>(2), [
      ["a", 1],
      ["b", 2]
    ])
    Lru.set(lru, "c", 3)
    Lru.get(lru, "a")
    Lru.remove(lru, "a")
    Lru.clear(lru)
    expect(Lru.entries(lru)).toEqual([
      ["a", 1],
      ["b", 2]
    ])
  })

  it("compares keys by Equal: Data keys built separately are one key", () => {
    const key = (host: string) => Data.struct({ scheme: "http", host, port: 80 })
    const lru = fill(Lru.empty<{ scheme: string; host: string; port: number }, number>(2), [
      [key("a"), 1],
      [key("b"), 2]
    ])
    expect(Lru.peek(lru, key("a"))).toEqual(Option.some(1))
    const [replaced, next] = Lru.set(lru, key("a"), 3)
    expect(Option.map(replaced, ([, v]) => v)).toEqual(Option.some(1))
    expect(Lru.size(next)).toBe(2)
  })

  it("supports pipe and data-last forms", () => {
    const [found] = Lru.empty<string, number>(1).pipe(Lru.set("a", 1))[1].pipe(Lru.get("a"))
    expect(found).toEqual(Option.some(1))
    const lru = fill(Lru.empty<string, number>(1), [["a", 1]])
    expect(Lru.has("a")(lru)).toBe(true)
    expect(Lru.peek("a")(lru)).toEqual(Option.some(1))
    expect(Lru.remove("a")(lru)[0]).toEqual(Option.some(1))
    expect(String(lru)).toContain('"_id": "Lru"')
  })

  describe("against a reference model", () => {
    type Op =
      | { readonly _tag: "get"; readonly key: number }
      | { readonly _tag: "peek"; readonly key: number }
      | { readonly _tag: "set"; readonly key: number; readonly value: number }
      | { readonly _tag: "remove"; readonly key: number }
      | { readonly _tag: "clear" }

    /** Operations on keys up to `maxKey`; `clear` (which starts a container afresh) at `clears` weight. */
    const opWith = (maxKey: number, clears: number): fc.Arbitrary<Op> =>
      fc.oneof(
        { weight: 3, arbitrary: fc.record({ _tag: fc.constant("get" as const), key: fc.nat(maxKey) }) },
        { weight: 1, arbitrary: fc.record({ _tag: fc.constant("peek" as const), key: fc.nat(maxKey) }) },
        {
          weight: 5,
          arbitrary: fc.record({ _tag: fc.constant("set" as const), key: fc.nat(maxKey), value: fc.nat(4) })
        },
        { weight: 1, arbitrary: fc.record({ _tag: fc.constant("remove" as const), key: fc.nat(maxKey) }) },
        { weight: clears, arbitrary: fc.record({ _tag: fc.constant("clear" as const) }) }
      )
    const op = opWith(6, 1)

    /** The naive model: a list, least recently used first; keys compared by value. */
    class Model {
      entries: Array<[number, number]> = []
      constructor(readonly capacity: number) {}
      private find(key: number) {
        return this.entries.findIndex(([k]) => k === key)
      }
      get(key: number): number | undefined {
        const i = this.find(key)
        if (i < 0) return undefined
        const [entry] = this.entries.splice(i, 1)
        this.entries.push(entry!)
        return entry![1]
      }
      peek(key: number): number | undefined {
        const i = this.find(key)
        return i < 0 ? undefined : this.entries[i]![1]
      }
      set(key: number, value: number): Array<readonly [number, number]> {
        const i = this.find(key)
        if (i >= 0) {
          const [old] = this.entries.splice(i, 1)
          this.entries.push([key, value])
          return old![1] === value ? [] : [old!]
        }
        this.entries.push([key, value])
        return this.entries.length > this.capacity ? [this.entries.shift()!] : []
      }
      remove(key: number): Array<readonly [number, number]> {
        const i = this.find(key)
        return i < 0 ? [] : this.entries.splice(i, 1)
      }
      clear(): Array<readonly [number, number]> {
        const all = this.entries
        this.entries = []
        return all
      }
    }

    /** Keys are fresh Data values each time, so only Equal can match them. */
    const k = (n: number) => Data.tuple("key", n)
    type K = ReturnType<typeof k>

    // Long runs too: entries a refresh or removal leaves queued are dropped as they reach the
    // front or when the queue is rebuilt, which takes tens of operations on one container.
    it.each([
      { capacity: 4, length: 60, runs: 300, ops: op },
      { capacity: 12, length: 500, runs: 60, ops: opWith(20, 0) }
    ])("matches the model in contents, order and what leaves (capacity <= $capacity, $length operations)", (bounds) => {
      fc.assert(
        fc.property(fc.nat(bounds.capacity), fc.array(bounds.ops, { maxLength: bounds.length }), (capacity, ops) => {
          const model = new Model(capacity)
          let lru = Lru.empty<K, number>(capacity)
          for (const o of ops) {
            switch (o._tag) {
              case "get": {
                const [found, next] = Lru.get(lru, k(o.key))
                lru = next
                expect(Option.getOrUndefined(found)).toBe(model.get(o.key))
                break
              }
              case "peek": {
                expect(Option.getOrUndefined(Lru.peek(lru, k(o.key)))).toBe(model.peek(o.key))
                break
              }
              case "set": {
                const [left, next] = Lru.set(lru, k(o.key), o.value)
                lru = next
                expect(Option.toArray(left).map(([key, v]) => [key[1], v])).toEqual(model.set(o.key, o.value))
                break
              }
              case "remove": {
                const [removed, next] = Lru.remove(lru, k(o.key))
                lru = next
                expect(Option.toArray(removed)).toEqual(model.remove(o.key).map(([, v]) => v))
                break
              }
              case "clear": {
                const [all, next] = Lru.clear(lru)
                lru = next
                expect(all.map(([key, v]) => [key[1], v])).toEqual(model.clear())
                break
              }
            }
            expect(Lru.entries(lru).map(([key, v]) => [key[1], v])).toEqual(model.entries)
            expect(Lru.size(lru)).toBe(model.entries.length)
            expect(Lru.size(lru)).toBeLessThanOrEqual(capacity)
          }
        }),
        { numRuns: bounds.runs }
      )
    })

    it("LruRef disposes exactly what the model says leaves", async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(4), fc.array(op, { maxLength: 40 }), (capacity, ops) =>
          Effect.runPromise(
            Effect.gen(function* () {
              const model = new Model(capacity)
              const expected: Array<readonly [number, number]> = []
              const { dispose, disposed } = yield* recorder<K, number>()
              const ref = yield* Lru.makeRef<K, number>({ capacity, dispose })
              for (const o of ops) {
                switch (o._tag) {
                  case "get": {
                    const found = yield* ref.get(k(o.key))
                    expect(Option.getOrUndefined(found)).toBe(model.get(o.key))
                    break
                  }
                  case "peek": {
                    expect(Option.getOrUndefined(yield* ref.peek(k(o.key)))).toBe(model.peek(o.key))
                    break
                  }
                  case "set": {
                    // getOrCreate for a missing key, set otherwise: both paths are checked
                    if (model.peek(o.key) === undefined && o.value % 2 === 0) {
                      const value = yield* ref.getOrCreate(k(o.key), Effect.succeed(o.value))
                      expect(value).toBe(o.value)
                    } else {
                      yield* ref.set(k(o.key), o.value)
                    }
                    expected.push(...model.set(o.key, o.value))
                    break
                  }
                  case "remove": {
                    const removed = yield* ref.remove(k(o.key))
                    const left = model.remove(o.key)
                    expect(Option.toArray(removed)).toEqual(left.map(([, v]) => v))
                    expected.push(...left)
                    break
                  }
                  case "clear": {
                    yield* ref.clear
                    expected.push(...model.clear())
                    break
                  }
                }
                const keys = yield* ref.keys
                expect(keys.map((key) => key[1])).toEqual(model.entries.map(([key]) => key))
                expect(yield* ref.size).toBe(model.entries.length)
                expect((yield* Ref.get(disposed)).map(([key, v]) => [key[1], v])).toEqual(expected)
              }
            })
          )
        ),
        { numRuns: 150 }
      )
    })
  })
})

describe("LruRef", () => {
  it.effect("getOrCreate creates once and then returns the stored value", () =>
    Effect.gen(function* () {
      const ref = yield* Lru.makeRef<string, number>({ capacity: 2 })
      const created = yield* Ref.make(0)
      const create = Effect.as(
        Ref.update(created, (n) => n + 1),
        42
      )
      expect(yield* ref.getOrCreate("a", create)).toBe(42)
      expect(yield* ref.getOrCreate("a", create)).toBe(42)
      expect(yield* Ref.get(created)).toBe(1)
      expect(yield* ref.size).toBe(1)
      expect(ref.capacity).toBe(2)
    })
  )

  it.effect("50 fibers asking for one key concurrently run create once", () =>
    Effect.gen(function* () {
      const ref = yield* Lru.makeRef<string, { readonly id: number }>({ capacity: 10 })
      const created = yield* Ref.make(0)
      const create = Effect.gen(function* () {
        const id = yield* Ref.updateAndGet(created, (n) => n + 1)
        for (let i = 0; i < 5; i++) yield* Effect.yieldNow()
        return { id }
      })
      const results = yield* Effect.all(
        Array.from({ length: 50 }, () => ref.getOrCreate("example.com", create)),
        { concurrency: "unbounded" }
      )
      expect(yield* Ref.get(created)).toBe(1)
      expect(new Set(results).size).toBe(1)
      expect(yield* ref.keys).toEqual(["example.com"])
    })
  )

  it.effect("get refreshes, and a new key past capacity evicts and disposes the least recently used", () =>
    Effect.gen(function* () {
      const { dispose, disposed } = yield* recorder<string, number>()
      const ref = yield* Lru.makeRef<string, number>({ capacity: 2, dispose })
      yield* ref.set("a", 1)
      yield* ref.set("b", 2)
      expect(yield* ref.get("a")).toEqual(Option.some(1))
      expect(yield* ref.getOrCreate("c", Effect.succeed(3))).toBe(3)
      expect(yield* ref.keys).toEqual(["a", "c"])
      expect(yield* Ref.get(disposed)).toEqual([["b", 2]])
      // peek does not refresh
      expect(yield* ref.peek("a")).toEqual(Option.some(1))
      yield* ref.set("d", 4)
      expect(yield* Ref.get(disposed)).toEqual([
        ["b", 2],
        ["a", 1]
      ])
    })
  )

  it.effect("setting an existing key disposes the replaced value but evicts nothing", () =>
    Effect.gen(function* () {
      const { dispose, disposed } = yield* recorder<string, object>()
      const ref = yield* Lru.makeRef<string, object>({ capacity: 2, dispose })
      const first = { n: 1 }
      const second = { n: 2 }
      yield* ref.set("a", first)
      yield* ref.set("b", { n: 3 })
      yield* ref.set("a", second)
      expect(yield* Ref.get(disposed)).toEqual([["a", first]])
      expect(yield* ref.size).toBe(2)
      yield* ref.set("a", second)
      expect(yield* Ref.get(disposed)).toHaveLength(1)
    })
  )

  it.effect("capacity 0 returns a created value, keeps nothing and disposes it", () =>
    Effect.gen(function* () {
      const { dispose, disposed } = yield* recorder<string, number>()
      const ref = yield* Lru.makeRef<string, number>({ capacity: 0, dispose })
      expect(yield* ref.getOrCreate("a", Effect.succeed(1))).toBe(1)
      expect(yield* ref.size).toBe(0)
      expect(yield* Ref.get(disposed)).toEqual([["a", 1]])
    })
  )

  it.effect("remove and clear dispose what they take out", () =>
    Effect.gen(function* () {
      const { dispose, disposed } = yield* recorder<string, number>()
      const ref = yield* Lru.makeRef<string, number>({ capacity: 3, dispose })
      yield* ref.set("a", 1)
      yield* ref.set("b", 2)
      yield* ref.set("c", 3)
      expect(yield* ref.remove("b")).toEqual(Option.some(2))
      expect(yield* ref.remove("b")).toEqual(Option.none())
      yield* ref.get("a")
      yield* ref.clear
      expect(yield* Ref.get(disposed)).toEqual([
        ["b", 2],
        ["c", 3],
        ["a", 1]
      ])
      expect(yield* ref.size).toBe(0)
      expect(Lru.size(yield* ref.snapshot)).toBe(0)
    })
  )

  it.effect("a failing or throwing dispose never fails the caller", () =>
    Effect.gen(function* () {
      const ref = yield* Lru.makeRef<string, number>({
        capacity: 1,
        dispose: (key) => (key === "a" ? Effect.fail("boom") : Effect.die(new Error("defect")))
      })
      yield* ref.set("a", 1)
      yield* ref.set("b", 2)
      yield* ref.set("c", 3)
      const throwing = yield* Lru.makeRef<string, number>({
        capacity: 0,
        dispose: () => {
          throw new Error("thrown")
        }
      })
      yield* throwing.set("a", 1)
      expect(yield* ref.keys).toEqual(["c"])
    })
  )

  it.effect("dispose runs after the lock is released, so it may use the container", () =>
    Effect.gen(function* () {
      const seen = yield* Ref.make<Array<ReadonlyArray<string>>>([])
      const holder: { ref?: Lru.LruRef<string, number> } = {}
      const ref = yield* Lru.makeRef<string, number>({
        capacity: 2,
        dispose: (key) =>
          key === "a"
            ? Effect.gen(function* () {
                const keys = yield* holder.ref!.keys
                yield* Ref.update(seen, (all) => [...all, keys])
                yield* holder.ref!.remove("b")
              })
            : Ref.update(seen, (all) => [...all, [key]])
      })
      holder.ref = ref
      yield* ref.set("a", 1)
      yield* ref.set("b", 2)
      yield* ref.set("c", 3)
      expect(yield* Ref.get(seen)).toEqual([["b", "c"], ["b"]])
      expect(yield* ref.keys).toEqual(["c"])
    })
  )

  it.effect("getOrCreateWith acquires the value before anything it evicted is disposed", () =>
    Effect.gen(function* () {
      const log = yield* Ref.make<Array<string>>([])
      const ref = yield* Lru.makeRef<string, number>({
        capacity: 0,
        dispose: (key) => Ref.update(log, (all) => [...all, `dispose ${key}`])
      })
      const acquired: Array<string> = []
      const lease = yield* ref.getOrCreateWith("a", Effect.succeed(1), (value) => {
        acquired.push(`acquire a at ${value}`)
        return `lease of ${value}`
      })
      yield* Ref.update(log, (all) => [...acquired, ...all])
      expect(lease).toBe("lease of 1")
      expect(yield* Ref.get(log)).toEqual(["acquire a at 1", "dispose a"])
    })
  )

  it.effect("getOrMakeWith makes a missing value once, leases it in the same step, and finds it after", () =>
    Effect.gen(function* () {
      const { dispose, disposed } = yield* recorder<string, number>()
      const ref = yield* Lru.makeRef<string, number>({ capacity: 2, dispose })
      let made = 0
      const make = (value: number) => () => {
        made++
        return Either.right(value)
      }
      const leases: Array<string> = []
      const lease = (value: number) => {
        leases.push(`lease ${value}`)
        return value
      }
      expect(yield* ref.getOrMakeWith("a", make(1), lease)).toBe(1)
      expect(yield* ref.getOrMakeWith("a", make(9), lease)).toBe(1)
      expect(made).toBe(1)
      yield* ref.getOrMakeWith("b", make(2), lease)
      // A third key evicts the least recently used, "a", and disposes it after the lease.
      expect(yield* ref.getOrMakeWith("c", make(3), lease)).toBe(3)
      expect(leases).toEqual(["lease 1", "lease 1", "lease 2", "lease 3"])
      expect(yield* Ref.get(disposed)).toEqual([["a", 1]])
      expect(yield* ref.keys).toEqual(["b", "c"])
    })
  )

  it.effect("getOrMakeWith: a Left fails the call, stores nothing and leases nothing", () =>
    Effect.gen(function* () {
      const ref = yield* Lru.makeRef<string, number>({ capacity: 2 })
      let leased = 0
      const exit = yield* Effect.exit(
        ref.getOrMakeWith(
          "a",
          () => Either.left("refused"),
          (value) => {
            leased++
            return value
          }
        )
      )
      expect(exit).toEqual(Exit.fail("refused"))
      expect(leased).toBe(0)
      expect(yield* ref.size).toBe(0)
    })
  )

  it.effect("getOrMakeWith with capacity 0 returns the leased value and disposes it at once", () =>
    Effect.gen(function* () {
      const { dispose, disposed } = yield* recorder<string, number>()
      const ref = yield* Lru.makeRef<string, number>({ capacity: 0, dispose })
      expect(
        yield* ref.getOrMakeWith(
          "a",
          () => Either.right(1),
          (value) => value * 10
        )
      ).toBe(10)
      expect(yield* Ref.get(disposed)).toEqual([["a", 1]])
      expect(yield* ref.size).toBe(0)
    })
  )

  it.effect("concurrent getOrMakeWith and set under the lock lose no entry", () =>
    Effect.gen(function* () {
      const { dispose, disposed } = yield* recorder<number, number>()
      const ref = yield* Lru.makeRef<number, number>({ capacity: 1000, dispose })
      yield* Effect.forEach(
        Array.from({ length: 400 }, (_, i) => i),
        (i) =>
          i % 2 === 0
            ? ref.getOrMakeWith(
                i,
                () => Either.right(i),
                (value) => value
              )
            : ref.set(i, i),
        { concurrency: "unbounded", discard: true }
      )
      expect(yield* ref.size).toBe(400)
      expect(yield* Ref.get(disposed)).toEqual([])
    })
  )

  it.effect("a failing create stores nothing and releases the lock", () =>
    Effect.gen(function* () {
      const ref = yield* Lru.makeRef<string, number>({ capacity: 2 })
      const exit = yield* Effect.exit(ref.getOrCreate("a", Effect.fail("refused")))
      expect(exit).toEqual(Exit.fail("refused"))
      expect(yield* ref.size).toBe(0)
      expect(yield* ref.getOrCreate("a", Effect.succeed(1))).toBe(1)
    })
  )

  it.effect("a create made interruptible and interrupted leaves no entry and frees the lock", () =>
    Effect.gen(function* () {
      const ref = yield* Lru.makeRef<string, number>({ capacity: 2 })
      const started = yield* Deferred.make<void>()
      const create = Effect.zipRight(Deferred.succeed(started, undefined), Effect.interruptible(Effect.never))
      const fiber = yield* Effect.fork(ref.getOrCreate("a", create))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      expect(yield* ref.size).toBe(0)
      expect(yield* ref.getOrCreate("a", Effect.succeed(2))).toBe(2)
      expect(yield* ref.keys).toEqual(["a"])
    })
  )

  it.effect("create runs uninterruptibly: interrupting its caller does not lose the value it makes", () =>
    Effect.gen(function* () {
      const { dispose, disposed } = yield* recorder<string, number>()
      const ref = yield* Lru.makeRef<string, number>({ capacity: 1, dispose })
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        ref.getOrCreate(
          "a",
          Effect.zipRight(Deferred.succeed(started, undefined), Effect.as(Deferred.await(release), 1))
        )
      )
      yield* Deferred.await(started)
      const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(release, undefined)
      const exit = yield* Fiber.join(interrupting)
      expect(Exit.isInterrupted(exit)).toBe(true)
      // the created value is owned by the container, so it is disposed when it leaves
      expect(yield* ref.peek("a")).toEqual(Option.some(1))
      yield* ref.set("b", 2)
      expect(yield* Ref.get(disposed)).toEqual([["a", 1]])
    })
  )

  it.effect("a fiber waiting for the lock can be interrupted while another creates", () =>
    Effect.gen(function* () {
      const ref = yield* Lru.makeRef<string, number>({ capacity: 2 })
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const creating = yield* Effect.fork(
        ref.getOrCreate(
          "a",
          Effect.zipRight(Deferred.succeed(started, undefined), Effect.as(Deferred.await(release), 1))
        )
      )
      yield* Deferred.await(started)
      const ranB = yield* Ref.make(false)
      const waiting = yield* Effect.fork(ref.getOrCreate("b", Effect.as(Ref.set(ranB, true), 2)))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(waiting)
      expect(yield* Ref.get(ranB)).toBe(false)
      yield* Deferred.succeed(release, undefined)
      expect(yield* Fiber.join(creating)).toBe(1)
      expect(yield* ref.keys).toEqual(["a"])
    })
  )

  it.effect("makeRefScoped disposes everything when its Scope closes", () =>
    Effect.gen(function* () {
      const { dispose, disposed } = yield* recorder<string, number>()
      const scope = yield* Scope.make()
      const ref = yield* Scope.extend(Lru.makeRefScoped<string, number>({ capacity: 3, dispose }), scope)
      yield* ref.set("a", 1)
      yield* ref.set("b", 2)
      yield* Scope.close(scope, Exit.void)
      expect(yield* Ref.get(disposed)).toEqual([
        ["a", 1],
        ["b", 2]
      ])
      expect(yield* ref.size).toBe(0)
    })
  )
})
