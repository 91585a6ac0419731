import { describe, expect, it } from "@effect/vitest"
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import * as HashSet from "effect/HashSet"
import * as fc from "fast-check"
import * as PoolKey from "../src/PoolKey.js"

/** Stand-ins for the Timeout and Retry values (Data classes compared by value). */
class Timeout extends Data.Class<{ readonly connect: number | null; readonly read: number | null }> {}
class Retry extends Data.Class<{ readonly total: number; readonly redirect: number | null }> {}

const expectSameKey = (a: PoolKey.PoolKey, b: PoolKey.PoolKey) => {
  expect(Equal.equals(a, b)).toBe(true)
  expect(Equal.equals(b, a)).toBe(true)
  expect(Hash.hash(a)).toBe(Hash.hash(b))
}

const expectDistinctKeys = (a: PoolKey.PoolKey, b: PoolKey.PoolKey) => {
  expect(Equal.equals(a, b)).toBe(false)
  expect(Equal.equals(b, a)).toBe(false)
}

const key = (context: PoolKey.RequestContext) => PoolKey.defaultKeyNormalizer(PoolKey.defaultShape, context)

/** What urllib3 2.7.0 prints for `PoolKey._fields`, without the `key_` prefix. */
const urllib3Fields = [
  "scheme",
  "host",
  "port",
  "timeout",
  "retries",
  "block",
  "source_address",
  "key_file",
  "key_password",
  "cert_file",
  "cert_reqs",
  "ca_certs",
  "ca_cert_data",
  "ssl_version",
  "ssl_minimum_version",
  "ssl_maximum_version",
  "ca_cert_dir",
  "ssl_context",
  "maxsize",
  "headers",
  "_proxy",
  "_proxy_headers",
  "_proxy_config",
  "socket_options",
  "_socks_options",
  "assert_hostname",
  "assert_fingerprint",
  "server_hostname",
  "blocksize"
]

const camel = (name: string) => name.replace(/^_+/, "").replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())

describe("PoolKey", () => {
  describe("fields (item 1)", () => {
    it("has urllib3 2.7.0's fields, camelCased, in its order, then httpool's socketPath", () => {
      expect(PoolKey.defaultFields).toEqual([...urllib3Fields.map(camel), "socketPath"])
      expect(PoolKey.defaultShape.fields).toEqual(PoolKey.defaultFields)
    })

    it("holds every field, an absent option as null, never undefined", () => {
      const k = key({ scheme: "http", host: "example.com" })
      for (const field of PoolKey.defaultFields) {
        expect(Object.hasOwn(k, field)).toBe(true)
        expect(k[field]).not.toBeUndefined()
      }
      expect(k.timeout).toBeNull()
      expect(k.headers).toBeNull()
      expect(k.sslContext).toBeNull()
      expect(Object.keys(k)).toEqual(PoolKey.defaultFields)
    })

    it("treats an explicit null or undefined option as absent", () => {
      expectSameKey(
        key({ scheme: "http", host: "h", timeout: null, headers: undefined }),
        key({ scheme: "http", host: "h" })
      )
    })

    it("gives a distinct key for each differing option and one key for equal options", () => {
      const base = { scheme: "https", host: "example.com", port: 443, maxsize: 1, block: false, caCerts: "/ca.pem" }
      expectSameKey(key(base), key({ ...base }))
      const variants: ReadonlyArray<PoolKey.RequestContext> = [
        { ...base, scheme: "http" },
        { ...base, host: "example.org" },
        { ...base, port: 8443 },
        { ...base, maxsize: 2 },
        { ...base, block: true },
        { ...base, caCerts: "/other.pem" },
        { ...base, certReqs: "CERT_NONE" },
        { ...base, assertHostname: false },
        { ...base, serverHostname: "other" },
        { ...base, sourceAddress: ["127.0.0.1", 0] },
        { ...base, blocksize: 8192 },
        { ...base, proxy: "http://proxy:3128" },
        { ...base, headers: { Accept: "*/*" } }
      ]
      for (const variant of variants) expectDistinctKeys(key(base), key(variant))
    })
  })

  describe("scheme and host (items 2 and 4)", () => {
    it("lower-cases scheme and host", () => {
      const upper = key({ scheme: "HTTP", host: "EXAMPLE.COM" })
      expect(upper.scheme).toBe("http")
      expect(upper.host).toBe("example.com")
      expectSameKey(upper, key({ scheme: "http", host: "example.com" }))
      expectSameKey(upper, PoolKey.make({ scheme: "Http", host: "Example.Com", port: 80 }))
    })

    it("keeps a trailing dot: localhost. and localhost are different pools", () => {
      expectDistinctKeys(key({ scheme: "http", host: "localhost." }), key({ scheme: "http", host: "localhost" }))
    })
  })

  describe("port (item 3)", () => {
    it("defaults the port by scheme", () => {
      expect(key({ scheme: "http", host: "h" }).port).toBe(80)
      expect(key({ scheme: "HTTPS", host: "h" }).port).toBe(443)
      expect(key({ scheme: "http", host: "h", port: null }).port).toBe(80)
      expectSameKey(key({ scheme: "http", host: "h", port: 80 }), key({ scheme: "http", host: "h" }))
      expectSameKey(key({ scheme: "https", host: "h", port: 443 }), key({ scheme: "https", host: "h" }))
      expectDistinctKeys(key({ scheme: "http", host: "h", port: 443 }), key({ scheme: "https", host: "h" }))
    })

    it("leaves the port of an unknown scheme null", () => {
      expect(key({ scheme: "ftp", host: "h" }).port).toBeNull()
    })
  })

  describe("mappings and lists (item 5)", () => {
    it("keys headers as an unordered set of pairs, whatever form they come in", () => {
      const record = key({ scheme: "http", host: "h", headers: { Accept: "*/*", "X-Id": "1" } })
      const pairs = key({
        scheme: "http",
        host: "h",
        headers: [
          ["X-Id", "1"],
          ["Accept", "*/*"]
        ]
      })
      const map = key({
        scheme: "http",
        host: "h",
        headers: new Map([
          ["Accept", "*/*"],
          ["X-Id", "1"]
        ])
      })
      function* generated(): Generator<readonly [string, string]> {
        yield ["X-Id", "1"]
        yield ["Accept", "*/*"]
      }
      const iterable = key({ scheme: "http", host: "h", headers: generated() })
      expectSameKey(record, pairs)
      expectSameKey(record, map)
      expectSameKey(record, iterable)
      expect(HashSet.isHashSet(record.headers)).toBe(true)
      expect(HashSet.size(record.headers!)).toBe(2)
    })

    it("accepts an immutable Headers-like value (Equal and iterable of pairs), converting it once", () => {
      class FakeHeaders implements Iterable<readonly [string, string]> {
        reads = 0
        constructor(readonly pairs: ReadonlyArray<readonly [string, string]>) {}
        [Symbol.iterator]() {
          this.reads++
          return this.pairs[Symbol.iterator]()
        }
        [Equal.symbol](that: unknown) {
          return that instanceof FakeHeaders && Equal.equals(Data.array(this.pairs), Data.array(that.pairs))
        }
        [Hash.symbol]() {
          return Hash.array(this.pairs.map(([n, v]) => `${n}:${v}`))
        }
      }
      const headers = new FakeHeaders([
        ["Accept", "*/*"],
        ["X-Id", "1"]
      ])
      const a = key({ scheme: "http", host: "h", headers })
      const b = key({ scheme: "http", host: "h", headers })
      expectSameKey(a, b)
      expectSameKey(a, key({ scheme: "http", host: "h", headers: { "X-Id": "1", Accept: "*/*" } }))
      expect(headers.reads).toBe(1)
      expect(PoolKey.toContext(a).headers).toBe(headers)
    })

    it("keeps header names in the case given, as urllib3's frozenset does", () => {
      expectDistinctKeys(
        key({ scheme: "http", host: "h", headers: { Accept: "*/*" } }),
        key({ scheme: "http", host: "h", headers: { accept: "*/*" } })
      )
    })

    it("keys a multi-valued name as one pair per value", () => {
      const k = key({
        scheme: "http",
        host: "h",
        headers: [
          ["Accept", "a"],
          ["Accept", "b"]
        ]
      })
      expect(HashSet.size(k.headers!)).toBe(2)
      expectDistinctKeys(k, key({ scheme: "http", host: "h", headers: { Accept: "a" } }))
    })

    it("does the same for proxy headers and socks options", () => {
      expectSameKey(
        key({ scheme: "http", host: "h", proxyHeaders: { A: "1", B: "2" }, socksOptions: { rdns: true, port: 1080 } }),
        key({
          scheme: "http",
          host: "h",
          proxyHeaders: [
            ["B", "2"],
            ["A", "1"]
          ],
          socksOptions: [
            ["port", 1080],
            ["rdns", true]
          ]
        })
      )
    })

    it("keys list options as ordered tuples", () => {
      const a = key({
        scheme: "http",
        host: "h",
        socketOptions: [
          [6, 1, 1],
          [1, 9, 1]
        ],
        sourceAddress: ["127.0.0.1", 0]
      })
      const b = key({
        scheme: "http",
        host: "h",
        socketOptions: [
          [6, 1, 1],
          [1, 9, 1]
        ],
        sourceAddress: ["127.0.0.1", 0]
      })
      expectSameKey(a, b)
      expectDistinctKeys(
        a,
        key({
          scheme: "http",
          host: "h",
          socketOptions: [
            [1, 9, 1],
            [6, 1, 1]
          ],
          sourceAddress: ["127.0.0.1", 0]
        })
      )
    })

    it("keys nested plain objects by value, in any key order", () => {
      expectSameKey(
        key({ scheme: "http", host: "h", proxyConfig: { useForwardingForHttps: false, sslContext: null } }),
        key({ scheme: "http", host: "h", proxyConfig: { sslContext: null, useForwardingForHttps: false } })
      )
      expectDistinctKeys(
        key({ scheme: "http", host: "h", proxyConfig: { useForwardingForHttps: false } }),
        key({ scheme: "http", host: "h", proxyConfig: { useForwardingForHttps: true } })
      )
    })

    it("keys bytes by content and never as equal to a string", () => {
      const pem = "-----BEGIN CERTIFICATE-----"
      const bytes = () => new TextEncoder().encode(pem)
      expectSameKey(
        key({ scheme: "https", host: "h", caCertData: bytes() }),
        key({ scheme: "https", host: "h", caCertData: bytes() })
      )
      expectDistinctKeys(
        key({ scheme: "https", host: "h", caCertData: bytes() }),
        key({ scheme: "https", host: "h", caCertData: pem })
      )
      expectDistinctKeys(
        key({ scheme: "https", host: "h", caCertData: new Uint8Array([1, 2]) }),
        key({ scheme: "https", host: "h", caCertData: new Uint8Array([1, 3]) })
      )
    })
  })

  describe("object-valued options (item 6)", () => {
    it("compares Timeout and Retry by value (urllib3 compares them by identity)", () => {
      expectSameKey(
        key({
          scheme: "http",
          host: "h",
          timeout: new Timeout({ connect: 1, read: 2 }),
          retries: new Retry({ total: 3, redirect: null })
        }),
        key({
          scheme: "http",
          host: "h",
          timeout: new Timeout({ connect: 1, read: 2 }),
          retries: new Retry({ total: 3, redirect: null })
        })
      )
      expectDistinctKeys(
        key({ scheme: "http", host: "h", timeout: new Timeout({ connect: 1, read: 2 }) }),
        key({ scheme: "http", host: "h", timeout: new Timeout({ connect: 1, read: 3 }) })
      )
    })

    it("keeps values that implement Equal as they are", () => {
      const timeout = new Timeout({ connect: 1, read: 2 })
      expect(key({ scheme: "http", host: "h", timeout }).timeout).toBe(timeout)
    })

    it("compares other objects (a TLS context) by identity", () => {
      class SecureContext {}
      const context = new SecureContext()
      expectSameKey(
        key({ scheme: "https", host: "h", sslContext: context }),
        key({ scheme: "https", host: "h", sslContext: context })
      )
      expectDistinctKeys(
        key({ scheme: "https", host: "h", sslContext: new SecureContext() }),
        key({ scheme: "https", host: "h", sslContext: new SecureContext() })
      )
    })
  })

  describe("blocksize (item 7)", () => {
    it("defaults blocksize to 16384", () => {
      expect(PoolKey.defaultBlocksize).toBe(16384)
      expect(key({ scheme: "http", host: "h" }).blocksize).toBe(16384)
      expect(key({ scheme: "http", host: "h", blocksize: null }).blocksize).toBe(16384)
      expect(key({ scheme: "http", host: "h", blocksize: 1024 }).blocksize).toBe(1024)
      expectSameKey(key({ scheme: "http", host: "h", blocksize: 16384 }), key({ scheme: "http", host: "h" }))
      expect(PoolKey.toContext(key({ scheme: "http", host: "h" })).blocksize).toBe(16384)
    })
  })

  describe("key functions (items 8-10)", () => {
    it("maps http and https to the default shape, in a frozen record a manager copies", () => {
      expect(Object.keys(PoolKey.defaultKeyFnByScheme).sort()).toEqual(["http", "http+unix", "https"])
      expect(Object.isFrozen(PoolKey.defaultKeyFnByScheme)).toBe(true)
      const context = { scheme: "http", host: "h", myField: 1 }
      expectSameKey(PoolKey.defaultKeyFnByScheme["http"]!(context), key(context))
      const custom = PoolKey.keyFn(PoolKey.shape(["myField"]))
      const mine = { ...PoolKey.defaultKeyFnByScheme, http: custom }
      expect(mine["http"]).toBe(custom)
      expect(PoolKey.defaultKeyFnByScheme["http"]).not.toBe(custom)
    })

    it("keys an http+unix origin by its socket path, percent-decoded and case kept", () => {
      const unix = PoolKey.defaultKeyFnByScheme["http+unix"]!
      const a = unix({ scheme: "http+unix", host: "%2Ftmp%2FA.sock", port: 80 })
      const b = unix({ scheme: "http+unix", host: "%2Ftmp%2Fa.sock", port: 80 })
      expect(a.socketPath).toBe("/tmp/A.sock")
      expect(b.socketPath).toBe("/tmp/a.sock")
      expect(Equal.equals(a, b)).toBe(false)
      expect(key({ scheme: "http", host: "h" }).socketPath).toBeNull()
      expect(
        Equal.equals(
          key({ scheme: "http", host: "h", socketPath: "/a" }),
          key({ scheme: "http", host: "h", socketPath: "/b" })
        )
      ).toBe(false)
    })

    it("derives a key with the key function of the context's scheme", () => {
      const result = PoolKey.fromContext(PoolKey.defaultKeyFnByScheme, { scheme: "HTTPS", host: "h" })
      expect(Either.isRight(result)).toBe(true)
      expectSameKey(Either.getOrThrow(result), key({ scheme: "https", host: "h" }))
    })

    it("fails with URLSchemeUnknown for a scheme without a key function", () => {
      const result = PoolKey.fromContext(PoolKey.defaultKeyFnByScheme, { scheme: "FTP", host: "h" })
      expect(Either.isLeft(result) && result.left._tag).toBe("URLSchemeUnknown")
      expect(Either.isLeft(result) && result.left.message).toBe("Not supported URL scheme ftp")
      const inherited = PoolKey.fromContext(PoolKey.defaultKeyFnByScheme, { scheme: "constructor", host: "h" })
      expect(Either.isLeft(inherited) && inherited.left._tag).toBe("URLSchemeUnknown")
      const none = PoolKey.fromContext(PoolKey.defaultKeyFnByScheme, { scheme: "", host: "h" })
      expect(Either.isLeft(none) && none.left.message).toBe("Not supported URL scheme None")
    })

    it("fails with LocationValueError when there is no host", () => {
      const result = PoolKey.fromContext(PoolKey.defaultKeyFnByScheme, { scheme: "http", host: "" })
      expect(Either.isLeft(result) && result.left._tag).toBe("LocationValueError")
      expect(Either.isLeft(result) && result.left.message).toBe("No host specified.")
    })
  })

  describe("custom key shapes", () => {
    it("always includes the default fields and sorts the extra ones", () => {
      expect(PoolKey.shape(["myField"]).fields).toEqual([...PoolKey.defaultFields, "myField"])
      expect(PoolKey.shape(["b", "a", "scheme", "a"]).fields).toEqual([...PoolKey.defaultFields, "a", "b"])
      expect(PoolKey.shape(PoolKey.defaultFields)).toBe(PoolKey.defaultShape)
      expect(PoolKey.isKeyShape(PoolKey.shape(["x"]))).toBe(true)
    })

    it("the seed's my_field example: the default key ignores myField, a custom one does not", () => {
      const contexts = [
        { scheme: "http", host: "example.com", myField: "wheat" },
        { scheme: "http", host: "example.com", myField: "barley" }
      ]
      const distinct = (fn: PoolKey.KeyFn) => HashSet.size(HashSet.fromIterable(contexts.map(fn)))
      expect(distinct(PoolKey.defaultKeyFnByScheme["http"]!)).toBe(1)
      const customShape = PoolKey.shape([...PoolKey.defaultFields, "myField"])
      expect(distinct((context) => PoolKey.defaultKeyNormalizer(customShape, context))).toBe(2)
    })

    it("reads an extra field with get; a field outside the shape reads as undefined", () => {
      const withField = PoolKey.shape([...PoolKey.defaultFields, "myField"])
      const k = PoolKey.defaultKeyNormalizer(withField, { scheme: "HTTP", host: "Example.com", myField: "wheat" })
      expect(PoolKey.get(k, "myField")).toBe("wheat")
      expect(PoolKey.get(k, "host")).toBe("example.com")
      expect(PoolKey.get(key({ scheme: "http", host: "h", myField: 1 }), "myField")).toBeUndefined()
      expect(PoolKey.shapeOf(k)).toBe(withField)
      expect(PoolKey.get(PoolKey.defaultKeyNormalizer(withField, { scheme: "http", host: "h" }), "myField")).toBeNull()
    })

    it("makes extra fields structural too", () => {
      const withField = PoolKey.shape(["myField"])
      expectSameKey(
        PoolKey.defaultKeyNormalizer(withField, { scheme: "http", host: "h", myField: { grain: ["wheat"] } }),
        PoolKey.defaultKeyNormalizer(withField, { scheme: "http", host: "h", myField: { grain: ["wheat"] } })
      )
    })

    it("a key of another shape is another key", () => {
      const context = { scheme: "http", host: "h" }
      expectDistinctKeys(key(context), PoolKey.defaultKeyNormalizer(PoolKey.shape(["myField"]), context))
    })
  })

  describe("make and toContext", () => {
    it("make keys every field it is given, normalized", () => {
      const k = PoolKey.make({ scheme: "HTTP", host: "H", myField: "wheat" })
      expect(k.port).toBe(80)
      expect(PoolKey.get(k, "myField")).toBe("wheat")
      expectSameKey(
        k,
        PoolKey.defaultKeyNormalizer(PoolKey.shape(["myField"]), { scheme: "http", host: "h", myField: "wheat" })
      )
      expect(PoolKey.isPoolKey(k)).toBe(true)
      expect(PoolKey.isPoolKey({ ...k })).toBe(false)
    })

    it("toContext gives back the options as the request gave them, normalized where the key is", () => {
      const headers: ReadonlyArray<readonly [string, string]> = [
        ["X-B", "2"],
        ["X-A", "1"]
      ]
      const bytes = new Uint8Array([1, 2, 3])
      const timeout = new Timeout({ connect: 1, read: null })
      const k = key({
        scheme: "HTTPS",
        host: "Example.com",
        headers,
        caCertData: bytes,
        timeout,
        retries: null,
        myField: "kept"
      })
      expect(PoolKey.toContext(k)).toEqual({
        scheme: "https",
        host: "example.com",
        port: 443,
        blocksize: 16384,
        headers,
        caCertData: bytes,
        timeout,
        myField: "kept"
      })
      expect(PoolKey.toContext(k).headers).toBe(headers)
    })

    it("is not affected by later changes to the context object it was made from", () => {
      const context: Record<string, unknown> = { scheme: "http", host: "h", maxsize: 1 }
      const k = key(context as PoolKey.RequestContext)
      context["maxsize"] = 5
      context["caCerts"] = "/ca.pem"
      expect(k.maxsize).toBe(1)
      expect(PoolKey.toContext(k)).toEqual({ scheme: "http", host: "h", port: 80, blocksize: 16384, maxsize: 1 })
    })

    it("is a value: pipeable, printable, usable in a HashSet", () => {
      const k = key({ scheme: "http", host: "h", headers: { A: "1" } })
      expect(k.pipe((self) => self.host)).toBe("h")
      const json = k.toJSON() as Record<string, unknown>
      expect(json["_id"]).toBe("PoolKey")
      expect(json["host"]).toBe("h")
      expect(String(k)).toContain('"scheme": "http"')
      expect(HashSet.has(HashSet.make(k), key({ scheme: "HTTP", host: "H", headers: [["A", "1"]] }))).toBe(true)
    })
  })

  describe("the docs example", () => {
    it("runs as docs/pool-keys.md shows it", () => {
      const a = PoolKey.make({ scheme: "HTTP", host: "Example.com" })
      const b = PoolKey.make({ scheme: "http", host: "example.com", port: 80, blocksize: 16384 })
      expect(Equal.equals(a, b)).toBe(true)
      expect(a.port).toBe(80)
      expect(a.timeout).toBeNull()
    })
  })

  describe("properties", () => {
    /** A description of option values from which equal values are built twice, separately. */
    const spec = fc.record(
      {
        scheme: fc.constantFrom("http", "https", "HTTP", "Https"),
        host: fc.stringMatching(/^[A-Za-z0-9.-]{1,12}$/),
        port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        timeout: fc.option(fc.record({ connect: fc.option(fc.nat()), read: fc.option(fc.nat()) }), { nil: undefined }),
        retries: fc.option(
          fc.oneof(fc.nat(), fc.boolean(), fc.record({ total: fc.nat(), redirect: fc.option(fc.nat()) })),
          {
            nil: undefined
          }
        ),
        block: fc.option(fc.boolean(), { nil: undefined }),
        maxsize: fc.option(fc.nat(), { nil: undefined }),
        headers: fc.option(fc.uniqueArray(fc.tuple(fc.string(), fc.string()), { selector: ([name]) => name }), {
          nil: undefined
        }),
        proxyHeaders: fc.option(fc.uniqueArray(fc.tuple(fc.string(), fc.string()), { selector: ([name]) => name }), {
          nil: undefined
        }),
        sourceAddress: fc.option(fc.tuple(fc.ipV4(), fc.nat(65535)), { nil: undefined }),
        socketOptions: fc.option(fc.array(fc.tuple(fc.nat(10), fc.nat(10), fc.nat(10))), { nil: undefined }),
        proxyConfig: fc.option(fc.dictionary(fc.string(), fc.oneof(fc.boolean(), fc.string(), fc.array(fc.nat(5)))), {
          nil: undefined
        }),
        caCertData: fc.option(fc.uint8Array({ maxLength: 16 }), { nil: undefined }),
        certReqs: fc.option(fc.constantFrom("CERT_NONE", "CERT_REQUIRED"), { nil: undefined }),
        blocksize: fc.option(fc.integer({ min: 1, max: 65536 }), { nil: undefined })
      },
      { requiredKeys: ["scheme", "host"] }
    )
    type Spec = typeof spec extends fc.Arbitrary<infer A> ? A : never

    const shuffle = <A>(items: ReadonlyArray<A>, seed: number): Array<A> => {
      const out = [...items]
      let s = seed
      for (let i = out.length - 1; i > 0; i--) {
        s = (s * 1103515245 + 12345) % 2147483648
        const j = s % (i + 1)
        ;[out[i], out[j]] = [out[j]!, out[i]!]
      }
      return out
    }

    /** Builds a context from a spec with fresh objects, choosing among equivalent forms by `seed`. */
    const build = (s: Spec, seed: number): PoolKey.RequestContext => {
      const context: Record<string, unknown> = { scheme: s.scheme, host: s.host }
      const flip = (n: number) => ((seed >> n) & 1) === 1
      if (s.port !== undefined) context["port"] = s.port
      if (s.timeout !== undefined) context["timeout"] = new Timeout({ ...s.timeout })
      if (s.retries !== undefined) {
        context["retries"] = typeof s.retries === "object" ? new Retry({ ...s.retries }) : s.retries
      }
      if (s.block !== undefined) context["block"] = s.block
      if (s.maxsize !== undefined) context["maxsize"] = s.maxsize
      for (const field of ["headers", "proxyHeaders"] as const) {
        const pairs = s[field]
        if (pairs === undefined) continue
        const shuffled = shuffle(pairs, seed)
        context[field] = flip(0)
          ? Object.fromEntries(shuffled)
          : flip(1)
            ? new Map(shuffled)
            : shuffled.map(([n, v]) => [n, v] as const)
      }
      if (s.sourceAddress !== undefined) context["sourceAddress"] = [...s.sourceAddress]
      if (s.socketOptions !== undefined) context["socketOptions"] = s.socketOptions.map((option) => [...option])
      if (s.proxyConfig !== undefined) {
        context["proxyConfig"] = Object.fromEntries(
          shuffle(Object.entries(s.proxyConfig), seed).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])
        )
      }
      if (s.caCertData !== undefined) context["caCertData"] = new Uint8Array(s.caCertData)
      if (s.certReqs !== undefined) context["certReqs"] = s.certReqs
      if (s.blocksize !== undefined) context["blocksize"] = s.blocksize
      return context as PoolKey.RequestContext
    }

    it("keys built separately from equal option values are equal and hash alike", () => {
      fc.assert(
        fc.property(spec, fc.nat(), fc.nat(), (s, seedA, seedB) => {
          const a = key(build(s, seedA))
          const b = key(build(s, seedB))
          expect(Equal.equals(a, b)).toBe(true)
          expect(Hash.hash(a)).toBe(Hash.hash(b))
        }),
        { numRuns: 300 }
      )
    })

    it("any single differing field gives unequal keys", () => {
      const changes: ReadonlyArray<readonly [string, (s: Spec) => Spec]> = [
        [
          "scheme",
          (s) => ({ ...s, scheme: s.scheme.toLowerCase() === "http" ? "https" : "http", port: s.port ?? 8080 })
        ],
        ["host", (s) => ({ ...s, host: `${s.host}x` })],
        ["port", (s) => ({ ...s, port: ((s.port ?? (s.scheme.toLowerCase() === "http" ? 80 : 443)) % 65535) + 1 })],
        [
          "timeout",
          (s) => ({ ...s, timeout: { connect: (s.timeout?.connect ?? 0) + 1, read: s.timeout?.read ?? null } })
        ],
        ["retries", (s) => ({ ...s, retries: s.retries === undefined ? 3 : undefined })],
        ["block", (s) => ({ ...s, block: s.block === undefined ? true : s.block ? false : undefined })],
        ["maxsize", (s) => ({ ...s, maxsize: (s.maxsize ?? 0) + 1 })],
        [
          "headers",
          (s) => ({ ...s, headers: [...(s.headers ?? []).filter(([n]) => n !== "\u0000"), ["\u0000", "x"]] })
        ],
        ["proxyHeaders", (s) => ({ ...s, proxyHeaders: s.proxyHeaders === undefined ? [] : undefined })],
        ["sourceAddress", (s) => ({ ...s, sourceAddress: ["10.0.0.1", ((s.sourceAddress?.[1] ?? 0) + 1) % 65536] })],
        ["socketOptions", (s) => ({ ...s, socketOptions: [...(s.socketOptions ?? []), [11, 11, 11]] })],
        ["proxyConfig", (s) => ({ ...s, proxyConfig: { ...s.proxyConfig, "\u0000": true } })],
        ["caCertData", (s) => ({ ...s, caCertData: new Uint8Array([...(s.caCertData ?? []), 7]) })],
        ["certReqs", (s) => ({ ...s, certReqs: s.certReqs === "CERT_NONE" ? "CERT_REQUIRED" : "CERT_NONE" })],
        ["blocksize", (s) => ({ ...s, blocksize: (s.blocksize ?? 16384) === 1 ? 2 : 1 })]
      ]
      fc.assert(
        fc.property(spec, fc.constantFrom(...changes), fc.nat(), (s, [, change], seed) => {
          const a = key(build(s, seed))
          const b = key(build(change(s), seed))
          expect(Equal.equals(a, b)).toBe(false)
          expect(Equal.equals(b, a)).toBe(false)
        }),
        { numRuns: 500 }
      )
    })
  })
})
