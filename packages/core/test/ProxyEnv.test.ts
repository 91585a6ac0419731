import { inspect } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { pipe } from "effect/Function"
import * as Hash from "effect/Hash"
import * as Option from "effect/Option"
import * as fc from "fast-check"
import * as ProxyEnv from "../src/ProxyEnv.js"
import * as Url from "../src/Url.js"

const fromEnv = (env: ProxyEnv.Env): ProxyEnv.ProxyEnv => Either.getOrThrow(ProxyEnv.fromEnv(env))

const leftOf = <A, E>(either: Either.Either<A, E>): E => {
  if (Either.isRight(either)) throw new Error(`expected a Left, got ${String(either.right)}`)
  return either.left
}

const bypass = (noProxy: string, host: string, port: number | null): boolean =>
  ProxyEnv.shouldBypass(ProxyEnv.parseNoProxy(noProxy), host, port)

describe("ProxyEnv", () => {
  describe("NO_PROXY matching", () => {
    // [NO_PROXY, target host, target port, bypassed?]
    const cases: ReadonlyArray<readonly [string, string, number | null, boolean]> = [
      // names: exact and as a domain suffix, with or without a leading dot
      ["example.com", "example.com", 80, true],
      ["example.com", "a.example.com", 80, true],
      ["example.com", "a.b.example.com", 443, true],
      ["example.com", "badexample.com", 80, false],
      ["example.com", "example.com.evil.net", 80, false],
      ["example.com", "com", 80, false],
      [".example.com", "example.com", 80, true],
      [".example.com", "a.example.com", 80, true],
      [".example.com", "badexample.com", 80, false],
      ["*.example.com", "a.example.com", 80, true],
      ["*.example.com", "example.com", 80, true],
      // case and trailing dots
      ["EXAMPLE.Com", "api.example.COM", 80, true],
      ["example.com.", "example.com", 80, true],
      ["example.com", "www.example.com.", 80, true],
      ["müller.example", "xn--mller-kva.example", 80, true],
      ["xn--mller-kva.example", "MÜLLER.example", 80, true],
      ["my_service", "my_service", 80, true],
      // ports
      ["example.com:8080", "example.com", 8080, true],
      ["example.com:8080", "a.example.com", 8080, true],
      ["example.com:8080", "example.com", 80, false],
      ["example.com:8080", "example.com", null, false],
      [".example.com:443", "api.example.com", 443, true],
      // `*`, empty, separators
      ["*", "anything.example", 80, true],
      ["*", "10.1.2.3", null, true],
      ["localhost, *", "example.org", 80, true],
      ["", "example.com", 80, false],
      [" , ,, ", "example.com", 80, false],
      ["a.test b.test\tc.test\nexample.com", "example.com", 80, true],
      ["a.test,,  example.com ,", "www.example.com", 80, true],
      // IPv4
      ["127.0.0.1", "127.0.0.1", 80, true],
      ["127.0.0.1", "127.0.0.2", 80, false],
      ["127.0.0.1", "localhost", 80, false],
      ["localhost", "127.0.0.1", 80, false],
      ["127.0.0.1:8080", "127.0.0.1", 8080, true],
      ["127.0.0.1:8080", "127.0.0.1", 8081, false],
      ["0.0.1", "10.0.0.1", 80, false],
      ["010.0.0.1", "10.0.0.1", 80, false],
      // IPv4 CIDR
      ["10.0.0.0/8", "10.255.1.2", 80, true],
      ["10.0.0.0/8", "11.0.0.1", 80, false],
      ["192.168.1.0/24", "192.168.1.77", 80, true],
      ["192.168.1.0/24", "192.168.2.1", 80, false],
      ["10.1.2.3/8", "10.9.9.9", 80, true],
      ["172.16.0.0/12", "172.31.255.255", 80, true],
      ["172.16.0.0/12", "172.32.0.0", 80, false],
      ["0.0.0.0/0", "203.0.113.9", 80, true],
      ["0.0.0.0/0", "example.com", 80, false],
      ["0.0.0.0/0", "::1", 80, false],
      // IPv6, with or without brackets, on either side
      ["::1", "[::1]", 80, true],
      ["::1", "::1", 80, true],
      ["[::1]", "::1", 80, true],
      ["0:0:0:0:0:0:0:1", "[::1]", 80, true],
      ["::1", "[::2]", 80, false],
      ["2001:DB8::1", "[2001:db8:0:0::1]", 80, true],
      ["[::1]:8080", "[::1]", 8080, true],
      ["[::1]:8080", "[::1]", 80, false],
      ["fe80::1", "[fe80::1%eth0]", 80, true],
      // IPv6 CIDR
      ["::1/128", "[::1]", 80, true],
      ["::1/128", "[::2]", 80, false],
      ["fe80::/10", "[fe80::1]", 80, true],
      ["fe80::/10", "[febf:ffff::1]", 80, true],
      ["fe80::/10", "[fec0::1]", 80, false],
      ["fe80::/10", "[fe80::1%25eth0]", 80, true],
      ["[2001:db8::]/32", "2001:db8:ffff::1", 80, true],
      ["::/0", "[2001:db8::1]", 80, true],
      ["::/0", "127.0.0.1", 80, false],
      ["::ffff:0:0/96", "[::ffff:10.0.0.1]", 80, true],
      ["10.0.0.0/8", "[::ffff:10.0.0.1]", 80, false],
      // entries that do not parse are ignored, the others still count
      ["10.0.0.0/33,::1/129,host:0,host:65536,host:http,http://example.com/,a*b.test,[::1,/8", "10.0.0.1", 80, false],
      ["10.0.0.0/8:80, example.com", "10.0.0.1", 80, false],
      ["bad:entry:here, example.com", "example.com", 80, true],
      ["http://example.com", "example.com", 80, false],
      ["*example.com", "www.example.com", 80, false]
    ]

    for (const [noProxy, host, port, expected] of cases) {
      it(`NO_PROXY=${JSON.stringify(noProxy)} ${expected ? "bypasses" : "proxies"} ${host}:${port}`, () => {
        expect(bypass(noProxy, host, port)).toBe(expected)
      })
    }

    it("the dual form reads the same", () => {
      const noProxy = ProxyEnv.parseNoProxy(".example.com")
      expect(pipe(noProxy, ProxyEnv.shouldBypass("a.example.com", 80))).toBe(true)
      expect(ProxyEnv.shouldBypass("b.test", 80)(noProxy)).toBe(false)
    })
  })

  describe("parseNoProxy", () => {
    it("reads each kind of entry, in order, and skips bad ones", () => {
      const entries = ProxyEnv.parseNoProxy(
        "*.Example.COM:8080 localhost. 10.1.2.3/8 [FE80::1%eth0]:443 ::1 2001:db8::/32 192.168.0.1:80 bogus/x *"
      )
      expect(entries).toEqual([
        { _tag: "Domain", domain: "example.com", port: 8080 },
        { _tag: "Domain", domain: "localhost", port: null },
        { _tag: "Address", family: 4, address: "10.0.0.0", bytes: [10, 0, 0, 0], prefixLength: 8, port: null },
        {
          _tag: "Address",
          family: 6,
          address: "fe80::1",
          bytes: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
          prefixLength: 128,
          port: 443
        },
        {
          _tag: "Address",
          family: 6,
          address: "::1",
          bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
          prefixLength: 128,
          port: null
        },
        {
          _tag: "Address",
          family: 6,
          address: "2001:db8::",
          bytes: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
          prefixLength: 32,
          port: null
        },
        { _tag: "Address", family: 4, address: "192.168.0.1", bytes: [192, 168, 0, 1], prefixLength: 32, port: 80 },
        { _tag: "All" }
      ])
    })

    it("formatNoProxy writes canonical entries that parse back to the same list", () => {
      const entries = ProxyEnv.parseNoProxy(".a.test:81,10.1.2.3/8,[0:0::1]:8080,FE80:0:0::/10,1.2.3.4,*")
      const text = ProxyEnv.formatNoProxy(entries)
      expect(text).toBe("a.test:81,10.0.0.0/8,[::1]:8080,fe80::/10,1.2.3.4,*")
      expect(ProxyEnv.parseNoProxy(text)).toEqual(entries)
    })

    it("writes IPv6 as RFC 5952 does: one zero group is not compressed, the first longest run is", () => {
      expect(ProxyEnv.formatNoProxy(ProxyEnv.parseNoProxy("1:0:2:3:4:5:6:7 1:0:0:2:0:0:0:3 1:0:0:2:0:0:3:4"))).toBe(
        "1:0:2:3:4:5:6:7,1:0:0:2::3,1::2:0:0:3:4"
      )
      expect(ProxyEnv.formatNoProxy(ProxyEnv.parseNoProxy("::ffff:1.2.3.4 :: 1:2:3:4:5:6:7::"))).toBe(
        "::ffff:102:304,::,1:2:3:4:5:6:7:0"
      )
    })

    it("rejects malformed IPv6 text", () => {
      for (const bad of [
        ":::",
        "1::2::3",
        "1:2:3:4:5:6:7:8:9",
        "12345::",
        "1.2.3.4::",
        "::1.2.3.256",
        ":1::2",
        "1::2:"
      ]) {
        expect(ProxyEnv.parseNoProxy(bad), bad).toEqual([])
      }
    })
  })

  describe("fromEnv: variables and precedence", () => {
    // [env, http, https, NO_PROXY as formatted]
    const cases: ReadonlyArray<readonly [string, ProxyEnv.Env, string | null, string | null, string]> = [
      ["nothing set", {}, null, null, ""],
      ["HTTP_PROXY only", { HTTP_PROXY: "http://up:1" }, "http://up:1", null, ""],
      [
        "http_proxy wins over HTTP_PROXY",
        { http_proxy: "http://low:1", HTTP_PROXY: "http://up:1" },
        "http://low:1",
        null,
        ""
      ],
      ["HTTPS_PROXY only", { HTTPS_PROXY: "http://up:2" }, null, "http://up:2", ""],
      [
        "https_proxy wins over HTTPS_PROXY",
        { https_proxy: "http://low:2", HTTPS_PROXY: "http://up:2" },
        null,
        "http://low:2",
        ""
      ],
      ["http_proxy is not used for https targets", { http_proxy: "http://p:1" }, "http://p:1", null, ""],
      ["ALL_PROXY is the fallback for both", { ALL_PROXY: "http://all:3" }, "http://all:3", "http://all:3", ""],
      [
        "all_proxy wins over ALL_PROXY",
        { all_proxy: "http://low:3", ALL_PROXY: "http://up:3" },
        "http://low:3",
        "http://low:3",
        ""
      ],
      [
        "a scheme's own variable wins over ALL_PROXY",
        { ALL_PROXY: "http://all:3", HTTPS_PROXY: "http://s:2" },
        "http://all:3",
        "http://s:2",
        ""
      ],
      ["an empty http_proxy hides HTTP_PROXY", { http_proxy: "", HTTP_PROXY: "http://up:1" }, null, null, ""],
      [
        "an empty http_proxy falls through to ALL_PROXY",
        { http_proxy: "", HTTP_PROXY: "http://up:1", ALL_PROXY: "http://all:3" },
        "http://all:3",
        "http://all:3",
        ""
      ],
      [
        "an empty HTTP_PROXY is not set",
        { HTTP_PROXY: "", ALL_PROXY: "http://all:3" },
        "http://all:3",
        "http://all:3",
        ""
      ],
      ["a blank value is not set", { https_proxy: "   ", HTTPS_PROXY: "http://up:2" }, null, null, ""],
      ["an empty all_proxy hides ALL_PROXY", { all_proxy: "", ALL_PROXY: "http://up:3" }, null, null, ""],
      ["values are trimmed", { https_proxy: "  http://p:2\n" }, null, "http://p:2", ""],
      ["no_proxy wins over NO_PROXY", { no_proxy: "a.test", NO_PROXY: "b.test" }, null, null, "a.test"],
      ["NO_PROXY alone", { NO_PROXY: "b.test,10.0.0.0/8" }, null, null, "b.test,10.0.0.0/8"],
      ["an empty no_proxy hides NO_PROXY", { no_proxy: "", NO_PROXY: "b.test" }, null, null, ""],
      [
        "under CGI (REQUEST_METHOD set) HTTP_PROXY is ignored",
        { REQUEST_METHOD: "GET", HTTP_PROXY: "http://attacker:1", HTTPS_PROXY: "http://s:2" },
        null,
        "http://s:2",
        ""
      ],
      [
        "under CGI http_proxy still counts",
        { REQUEST_METHOD: "GET", http_proxy: "http://p:1", HTTP_PROXY: "http://attacker:1" },
        "http://p:1",
        null,
        ""
      ],
      ["other variables are ignored", { FTP_PROXY: "http://f:1", Http_Proxy: "http://mixed:1" }, null, null, ""]
    ]

    for (const [name, env, http, https, noProxy] of cases) {
      it(name, () => {
        const value = fromEnv(env)
        expect([value.http, value.https, ProxyEnv.formatNoProxy(value.noProxy)]).toEqual([http, https, noProxy])
      })
    }
  })

  describe("proxy URLs", () => {
    const normalized: ReadonlyArray<readonly [string, string]> = [
      ["proxy.internal:3128", "http://proxy.internal:3128"],
      ["proxy.internal", "http://proxy.internal"],
      ["localhost:3128", "http://localhost:3128"],
      ["user:pw@proxy:3128", "http://user:pw@proxy:3128"],
      ["[::1]:3128", "http://[::1]:3128"],
      ["127.0.0.1:3128/", "http://127.0.0.1:3128/"],
      ["HTTPS://Proxy.Example:443", "https://proxy.example:443"],
      ["Http://p", "http://p"]
    ]
    for (const [input, output] of normalized) {
      it(`${input} reads as ${output}`, () => {
        expect(ProxyEnv.normalizeProxyUrl(input)).toEqual(Either.right(output))
        expect(fromEnv({ http_proxy: input }).http).toBe(output)
      })
    }

    it("socks4, socks4a, socks5 and socks5h URLs are proxies like the others", () => {
      for (const [input, output] of [
        ["socks5://proxy:1080", "socks5://proxy:1080"],
        // Only http(s) hosts are lower-cased (urllib3 normalises no other scheme).
        ["SOCKS5H://User:pw@Proxy:1080", "socks5h://User:pw@Proxy:1080"],
        ["socks4a://proxy", "socks4a://proxy"],
        ["socks4://10.0.0.1:1080", "socks4://10.0.0.1:1080"]
      ] as const) {
        expect(ProxyEnv.normalizeProxyUrl(input)).toEqual(Either.right(output))
      }
      const value = fromEnv({ ALL_PROXY: "socks5h://proxy:1080", NO_PROXY: "localhost" })
      expect([value.http, value.https]).toEqual(["socks5h://proxy:1080", "socks5h://proxy:1080"])
      expect(ProxyEnv.proxyFor(value, "https://example.com/")).toEqual(Option.some("socks5h://proxy:1080"))
      expect(ProxyEnv.proxyFor(value, "http://localhost/")).toEqual(Option.none())
    })

    it("a scheme other than http, https or a SOCKS one is ProxySchemeUnknown", () => {
      for (const [input, scheme] of [
        ["socks6://proxy:1080", "socks6"],
        ["SOCKS://proxy:1080", "socks"],
        ["ftp://proxy", "ftp"]
      ] as const) {
        const error = leftOf(ProxyEnv.fromEnv({ HTTPS_PROXY: input }))
        expect(error._tag).toBe("ProxySchemeUnknown")
        expect(error._tag === "ProxySchemeUnknown" && error.scheme).toBe(scheme)
      }
    })

    it("a URL that is never used is not checked", () => {
      const value = fromEnv({ ALL_PROXY: "ftp://proxy:21", http_proxy: "p:1", https_proxy: "p:2" })
      expect([value.http, value.https]).toEqual(["http://p:1", "http://p:2"])
    })

    it("a proxy URL without a host is LocationValueError naming the variable", () => {
      const error = leftOf(ProxyEnv.fromEnv({ HTTPS_PROXY: "http://:3128" }))
      expect(error._tag).toBe("LocationValueError")
      expect(error.message).toBe("No host specified in the proxy URL from HTTPS_PROXY.")
      expect(leftOf(ProxyEnv.make({ http: "http://" })).message).toContain("http option")
    })

    it("a proxy URL that does not parse is LocationParseError without the password", () => {
      const error = leftOf(ProxyEnv.fromEnv({ http_proxy: "http://user:hunter2@proxy:99999" }))
      expect(error._tag).toBe("LocationParseError")
      expect(error._tag === "LocationParseError" && error.location).toBe("http://proxy:99999")
      expect(`${error.message} ${inspect(error)} ${JSON.stringify(error)}`).not.toContain("hunter2")
    })

    it("make reads explicit values as the variables are read", () => {
      const value = Either.getOrThrow(ProxyEnv.make({ http: "p:1", https: " ", noProxy: "localhost" }))
      expect([value.http, value.https, ProxyEnv.formatNoProxy(value.noProxy)]).toEqual([
        "http://p:1",
        null,
        "localhost"
      ])
      expect(Equal.equals(Either.getOrThrow(ProxyEnv.make({})), ProxyEnv.empty)).toBe(true)
    })
  })

  describe("proxyFor", () => {
    const env = fromEnv({
      http_proxy: "http://hp:1",
      https_proxy: "http://sp:2",
      no_proxy: "localhost,.corp.test,10.0.0.0/8,[::1],internal.test:8443"
    })
    // [target, proxy]
    const cases: ReadonlyArray<readonly [string, string | null]> = [
      ["http://example.com/", "http://hp:1"],
      ["https://example.com/", "http://sp:2"],
      ["HTTPS://EXAMPLE.COM:8443/x", "http://sp:2"],
      ["example.com/path", "http://hp:1"],
      ["http://localhost:8080/", null],
      ["https://git.corp.test/", null],
      ["https://corp.test/", null],
      ["http://10.1.2.3/", null],
      ["http://[::1]:8080/", null],
      ["https://internal.test:8443/", null],
      ["https://internal.test/", "http://sp:2"],
      ["http://internal.test:8443/", null],
      ["ftp://example.com/", null],
      ["http:///nohost", null],
      ["http://bad host/", null]
    ]
    for (const [target, proxy] of cases) {
      it(`${target} -> ${proxy ?? "direct"}`, () => {
        expect(ProxyEnv.proxyFor(env, target)).toEqual(Option.fromNullable(proxy))
      })
    }

    it("takes a parsed Url, and has a data-last form", () => {
      const url = Either.getOrThrow(Url.parse("https://example.com/"))
      expect(ProxyEnv.proxyFor(env, url)).toEqual(Option.some("http://sp:2"))
      expect(env.pipe(ProxyEnv.proxyFor("http://x.corp.test/"))).toEqual(Option.none())
    })

    it("default ports decide port-restricted entries", () => {
      const value = fromEnv({ ALL_PROXY: "p:1", NO_PROXY: "a.test:443,b.test:80" })
      expect(ProxyEnv.proxyFor(value, "https://a.test/")).toEqual(Option.none())
      expect(ProxyEnv.proxyFor(value, "http://a.test/")).toEqual(Option.some("http://p:1"))
      expect(ProxyEnv.proxyFor(value, "http://b.test/")).toEqual(Option.none())
    })

    it("NO_PROXY=* sends everything directly; no proxy variables do too", () => {
      expect(ProxyEnv.proxyFor(fromEnv({ ALL_PROXY: "p:1", no_proxy: "*" }), "https://example.com/")).toEqual(
        Option.none()
      )
      expect(ProxyEnv.proxyFor(ProxyEnv.empty, "https://example.com/")).toEqual(Option.none())
    })
  })

  describe("credentials are never shown", () => {
    const env = fromEnv({ http_proxy: "alice:hunter2@proxy:3128", HTTPS_PROXY: "https://bob:s3cret@sproxy:443" })

    it("the fields keep them for Proxy-Authorization", () => {
      expect(env.http).toBe("http://alice:hunter2@proxy:3128")
      expect(env.https).toBe("https://bob:s3cret@sproxy:443")
    })

    it("toString, toJSON, inspect and spreading redact them", () => {
      const shown = [String(env), JSON.stringify(env), inspect(env), inspect({ ...env }), JSON.stringify({ ...env })]
      for (const text of shown) {
        expect(text).not.toContain("hunter2")
        expect(text).not.toContain("s3cret")
        expect(text).not.toContain("alice")
      }
      expect(env.toJSON()).toEqual({
        _id: "ProxyEnv",
        http: "http://<redacted>@proxy:3128",
        https: "https://<redacted>@sproxy:443",
        noProxy: []
      })
    })

    it("a URL without credentials is shown as it is", () => {
      expect(fromEnv({ http_proxy: "p:1", no_proxy: "a.test" }).toJSON()).toEqual({
        _id: "ProxyEnv",
        http: "http://p:1",
        https: null,
        noProxy: ["a.test"]
      })
    })

    it("no password survives printing (property)", () => {
      const secret = fc.stringMatching(/^[A-Za-z0-9]{4,12}$/).map((s) => `pw-${s}`)
      fc.assert(
        fc.property(fc.stringMatching(/^[a-z]{1,8}$/), secret, (user, password) => {
          const value = fromEnv({ HTTPS_PROXY: `http://${user}:${password}@proxy.test:3128` })
          expect(value.https).toContain(password)
          for (const text of [String(value), JSON.stringify(value), inspect(value, { depth: 5 })]) {
            expect(text).not.toContain(password)
          }
        })
      )
    })
  })

  describe("equality", () => {
    it("values read from equivalent environments are Equal and hash alike", () => {
      const a = fromEnv({ http_proxy: "P:1", NO_PROXY: ".A.test 10.1.2.3/8" })
      const b = fromEnv({ HTTP_PROXY: "http://p:1", no_proxy: "a.test,10.0.0.0/8" })
      expect(Equal.equals(a, b)).toBe(true)
      expect(Hash.hash(a)).toBe(Hash.hash(b))
      expect(Equal.equals(a, fromEnv({ http_proxy: "p:2", NO_PROXY: "a.test,10.0.0.0/8" }))).toBe(false)
      expect(ProxyEnv.isProxyEnv(a)).toBe(true)
      expect(ProxyEnv.isProxyEnv({ http: null })).toBe(false)
    })
  })

  describe("properties", () => {
    const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
    const word = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }))
    const ipv6 = fc.array(word, { minLength: 8, maxLength: 8 })
    const v6Bytes = (words: ReadonlyArray<number>) => words.flatMap((w) => [w >> 8, w & 0xff])
    const v6Text = (bytes: ReadonlyArray<number>) => {
      const words: Array<number> = []
      for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1])
      return words.map((w) => w.toString(16)).join(":")
    }

    it("an IPv4 address matches its own /32 and every CIDR containing it", () => {
      fc.assert(
        fc.property(ipv4, fc.integer({ min: 0, max: 32 }), (bytes, prefix) => {
          const address = bytes.join(".")
          expect(bypass(address, address, 80)).toBe(true)
          expect(bypass(`${address}/32`, address, 80)).toBe(true)
          expect(bypass(`${address}/${prefix}`, address, 80)).toBe(true)
          const [entry] = ProxyEnv.parseNoProxy(`${address}/${prefix}`)
          expect(bypass(ProxyEnv.formatNoProxy([entry]), address, null)).toBe(true)
        })
      )
    })

    it("an IPv4 address differing inside the prefix is not in the CIDR", () => {
      fc.assert(
        fc.property(ipv4, fc.integer({ min: 1, max: 32 }), fc.nat(), (bytes, prefix, pick) => {
          const bit = pick % prefix
          const other = [...bytes]
          other[bit >> 3] ^= 0x80 >> (bit & 7)
          expect(bypass(`${bytes.join(".")}/${prefix}`, other.join("."), 80)).toBe(false)
        })
      )
    })

    it("an IPv6 address matches itself in every spelling and every CIDR containing it", () => {
      fc.assert(
        fc.property(ipv6, fc.integer({ min: 0, max: 128 }), (words, prefix) => {
          const bytes = v6Bytes(words)
          const plain = v6Text(bytes)
          const padded = words.map((w) => w.toString(16).padStart(4, "0").toUpperCase()).join(":")
          const whatwg = new URL(`http://[${plain}]/`).hostname
          for (const entry of [plain, padded, whatwg, `${plain}/128`, `${padded}/${prefix}`]) {
            expect(bypass(entry, whatwg, 80)).toBe(true)
            expect(bypass(entry, plain, 80)).toBe(true)
          }
          expect(bypass(`${whatwg}:8080`, whatwg, 8080)).toBe(true)
          expect(bypass(`${whatwg}:8080`, whatwg, 80)).toBe(false)
        })
      )
    })

    it("IPv6 text is written as the WHATWG URL parser writes it", () => {
      fc.assert(
        fc.property(ipv6, (words) => {
          const plain = v6Text(v6Bytes(words))
          const [entry] = ProxyEnv.parseNoProxy(plain)
          expect(entry._tag === "Address" && `[${entry.address}]`).toBe(new URL(`http://[${plain}]/`).hostname)
          expect(entry._tag === "Address" && entry.bytes).toEqual(v6Bytes(words))
        })
      )
    })

    it("an IPv6 address differing inside the prefix is not in the CIDR", () => {
      fc.assert(
        fc.property(ipv6, fc.integer({ min: 1, max: 128 }), fc.nat(), (words, prefix, pick) => {
          const bytes = v6Bytes(words)
          const bit = pick % prefix
          const other = [...bytes]
          other[bit >> 3] ^= 0x80 >> (bit & 7)
          expect(bypass(`${v6Text(bytes)}/${prefix}`, `[${v6Text(other)}]`, 80)).toBe(false)
        })
      )
    })

    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/)
    // The last label starts with a letter, so that neither the name nor a name under it is an
    // IPv4 address ("0.0.0" under "0" would be 0.0.0.0, which only address entries match).
    const topLabel = fc.stringMatching(/^[a-z]([a-z0-9-]{0,8}[a-z0-9])?$/)
    const domain = fc
      .tuple(fc.array(label, { maxLength: 3 }), topLabel)
      .map(([labels, top]) => [...labels, top].join("."))

    it("a name entry matches the name and names under it, in any case, with or without a leading dot", () => {
      fc.assert(
        fc.property(domain, label, fc.constantFrom("", ".", "*."), (name, sub, lead) => {
          const entry = `${lead}${name.toUpperCase()}`
          expect(bypass(entry, name, 80)).toBe(true)
          expect(bypass(entry, `${sub}.${name}`, 80)).toBe(true)
          expect(bypass(entry, `${sub}${name}`, 80)).toBe(false)
        })
      )
    })

    it("parsing never throws and formatNoProxy round-trips", () => {
      const text = fc.string({
        unit: fc.constantFrom(..."ab01:.,/[]* \t%9fF-_é".split(""))
      })
      fc.assert(
        fc.property(text, (value) => {
          const entries = ProxyEnv.parseNoProxy(value)
          expect(ProxyEnv.parseNoProxy(ProxyEnv.formatNoProxy(entries))).toEqual(entries)
        })
      )
    })

    it("fromEnv never throws on any environment", () => {
      const names = fc.constantFrom("http_proxy", "HTTP_PROXY", "https_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")
      fc.assert(
        fc.property(fc.dictionary(names, fc.option(fc.string(), { nil: undefined })), (env) => {
          const result = ProxyEnv.fromEnv(env)
          expect(Either.isLeft(result) || ProxyEnv.isProxyEnv(result.right)).toBe(true)
        })
      )
    })
  })

  describe("docs/proxy-environment.md and the module's examples", () => {
    it("the module example holds", () => {
      const env = Either.getOrThrow(
        ProxyEnv.fromEnv({
          https_proxy: "user:secret@proxy.internal:3128",
          NO_PROXY: "localhost,.corp.example,10.0.0.0/8"
        })
      )
      expect(env.https).toBe("http://user:secret@proxy.internal:3128")
      expect(ProxyEnv.proxyFor(env, "https://example.com/")).toEqual(
        Option.some("http://user:secret@proxy.internal:3128")
      )
      expect(ProxyEnv.proxyFor(env, "https://git.corp.example/")).toEqual(Option.none())
      expect(ProxyEnv.proxyFor(env, "http://example.com/")).toEqual(Option.none())
      expect(String(env)).toContain(`"https": "http://<redacted>@proxy.internal:3128"`)
      expect(String(env)).not.toContain("secret")
    })

    it("the doc comment examples hold", () => {
      expect(Either.getOrThrow(ProxyEnv.make({ http: "proxy:3128", noProxy: "localhost" })).http).toBe(
        "http://proxy:3128"
      )
      expect(ProxyEnv.normalizeProxyUrl("User:pw@Proxy.Example:3128")).toEqual(
        Either.right("http://User:pw@proxy.example:3128")
      )
      expect(ProxyEnv.normalizeProxyUrl("socks5h://proxy:1080")).toEqual(Either.right("socks5h://proxy:1080"))
      expect(leftOf(ProxyEnv.normalizeProxyUrl("ftp://proxy:21"))._tag).toBe("ProxySchemeUnknown")
      const noProxy = ProxyEnv.parseNoProxy(".example.com, 10.0.0.0/8, [::1]:8080")
      expect(ProxyEnv.shouldBypass(noProxy, "api.Example.com", 443)).toBe(true)
      expect(ProxyEnv.shouldBypass(noProxy, "badexample.com", 443)).toBe(false)
      expect(ProxyEnv.shouldBypass(noProxy, "10.20.30.40", 80)).toBe(true)
      expect(ProxyEnv.shouldBypass(noProxy, "[::1]", 80)).toBe(false)
    })
  })
})
