/**
 * Hostile input: requests a caller should never be able to smuggle onto the wire, and peers
 * that answer with abuse. Each case ends in a typed error (an Effect failure with an httpool
 * error, never a defect), the server sees nothing it should not, and no socket stays open.
 */
import type * as net from "node:net"
import { inspect } from "node:util"
import * as zlib from "node:zlib"
import { Errors, PoolManager, ProxyManager } from "@httpool/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { generate } from "selfsigned"
import * as NodeConnector from "../src/NodeConnector.js"
import * as Certs from "./utils/certs.js"
import * as Servers from "./utils/servers.js"

/** A PoolManager in its own Scope, so a test can close it and then count sockets. */
const managerIn = (scope: Scope.Scope, options: PoolManager.Options = {}) =>
  PoolManager.make(options).pipe(Effect.provide(NodeConnector.layer), Scope.extend(scope))

/** Runs `f` with a fresh manager, closes it, and returns the failure `f` gave. */
const failureOf = <A>(
  f: (manager: PoolManager.Service) => Effect.Effect<A, Errors.HttpoolError>,
  options: PoolManager.Options = {}
) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const manager = yield* managerIn(scope, options)
    const exit = yield* Effect.exit(f(manager))
    yield* Scope.close(scope, Exit.void)
    if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
    const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
    // A typed failure, never a defect or an interruption.
    expect(failure, String(exit.cause)).toBeDefined()
    expect(Errors.isHttpoolError(failure)).toBe(true)
    return failure as Errors.HttpoolError
  })

const recordingServer = Servers.http(Servers.echo)

describe("hostile requests", () => {
  it.scopedLive("CR, LF or NUL in a method is a ValueError and nothing is sent", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      for (const method of ["GET\r\nX-Injected: 1", "GE\nT", "GET\u0000", "GET /x HTTP/1.1\r\n\r\nGET", ""]) {
        const error = yield* failureOf((m) => m.request(method, `${server.url}/`))
        expect(error._tag).toBe("ValueError")
      }
      expect(server.requests.length).toBe(0)
      expect(server.socketsOpened()).toBe(0)
    })
  )

  it.scopedLive("CR, LF or NUL in a header name or value is InvalidHeader and nothing is sent", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      const cases: ReadonlyArray<Record<string, string>> = [
        { "X-Ok": "a\r\nX-Injected: 1" },
        { "X-Ok": "a\nb" },
        { "X-Ok": "a\u0000b" },
        { "X-Bad\r\nX-Injected": "1" },
        { "X Bad": "1" },
        { "": "1" }
      ]
      for (const headers of cases) {
        const error = yield* failureOf((m) => m.request("GET", `${server.url}/`, { headers }))
        expect(error._tag).toBe("InvalidHeader")
      }
      expect(server.requests.length).toBe(0)
      expect(server.socketsOpened()).toBe(0)
    })
  )

  it.scopedLive("CR, LF and NUL in a path or query are percent-encoded: no header is ever injected", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      const scope = yield* Scope.make()
      const manager = yield* managerIn(scope)
      yield* manager.request("GET", `${server.url}/a\r\nX-Injected: 1?q=\r\nX-Also: 2&n=\u0000`)
      yield* Scope.close(scope, Exit.void)
      expect(server.requests.length).toBe(1)
      const received = server.requests[0]
      expect(received.headers["x-injected"]).toBeUndefined()
      expect(received.headers["x-also"]).toBeUndefined()
      expect(received.url).not.toMatch(/[\r\n\u0000 ]/)
      expect(received.url).toContain("%0D%0A")
      yield* server.waitForOpenSockets(0)
    })
  )

  it.scopedLive("CR, LF, NUL or spaces in a host, and absurd or negative ports, fail before any socket", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      const urls = [
        "http://exa\r\nmple.com/",
        "http://exa\u0000mple.com/",
        "http://exa mple.com/",
        `http://127.0.0.1:-1/`,
        `http://127.0.0.1:65536/`,
        `http://127.0.0.1:99999999999999999999/`,
        `http://127.0.0.1:8o/`,
        "http://:80/",
        "http:///path"
      ]
      for (const url of urls) {
        const error = yield* failureOf((m) => m.request("GET", url))
        expect(["LocationParseError", "LocationValueError", "ValueError"]).toContain(error._tag)
      }
      expect(yield* failureOf((m) => m.connectionFromHost("127.0.0.1", 70000).pipe(Effect.scoped))).toMatchObject({
        _tag: "ValueError"
      })
      expect(server.socketsOpened()).toBe(0)
    })
  )

  it.scopedLive("CR, LF or NUL in a file field's content type is a ValueError and nothing is sent", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      for (const type of ["text/plain\r\nX-Injected: 1", "text/plain\nX-Injected: 1", "text/plain\u0000"]) {
        const error = yield* failureOf((m) =>
          m.request("POST", `${server.url}/upload`, { fields: { upload: ["a.txt", "hello", type] } })
        )
        expect(error._tag).toBe("ValueError")
        expect(error.message).toContain('file field "upload"')
      }
      expect(server.requests.length).toBe(0)
      expect(server.socketsOpened()).toBe(0)
    })
  )

  it.scopedLive("credentials in a URL appear in no error message and no printed error", () =>
    Effect.gen(function* () {
      const port = yield* Servers.closedPort
      const timeoutServer = yield* Servers.http(Servers.slowHeaders(2_000))
      const cases = [
        `http://user:s3cr3t-pass@127.0.0.1:${port}/`,
        `http://user:s3cr3t-pass@127.0.0.1:${timeoutServer.port}/`,
        "http://user:s3cr3t-pass@exa mple.com/",
        `ftp://user:s3cr3t-pass@127.0.0.1:${port}/`
      ]
      for (const url of cases) {
        const error = yield* failureOf((m) => m.request("GET", url, { retries: 1, timeout: 0.2 }))
        for (const text of [error.message, String(error), JSON.stringify(error), inspect(error, { depth: 5 })]) {
          expect(text).not.toContain("s3cr3t-pass")
        }
      }
    })
  )
})

describe("hostile servers", () => {
  it.scopedLive("a megabyte of response headers is a typed error and the socket is closed", () =>
    Effect.gen(function* () {
      const server = yield* Servers.raw((socket) => {
        socket.once("data", () => {
          socket.write("HTTP/1.1 200 OK\r\n")
          const line = `X-Big: ${"a".repeat(1000)}\r\n`
          for (let i = 0; i < 1000; i++) socket.write(line)
          socket.write("Content-Length: 0\r\n\r\n")
        })
      })
      const error = yield* failureOf((m) => m.request("GET", `http://127.0.0.1:${server.port}/`, { retries: false }))
      expect(error._tag).toBe("ProtocolError")
      yield* server.waitForOpenSockets(0)
    })
  )

  it.scopedLive("a Location loop ends in MaxRetryError after the redirect budget", () =>
    Effect.gen(function* () {
      const server = yield* Servers.http((_req, res) => {
        res.writeHead(302, { Location: "/loop", "Content-Length": 0 })
        res.end()
      })
      const error = yield* failureOf((m) => m.request("GET", `${server.url}/loop`, { retries: 5 }))
      expect(error._tag).toBe("MaxRetryError")
      expect(server.requests.length).toBe(6)
      yield* server.waitForOpenSockets(0)
    })
  )

  it.scopedLive("redirects to file:, data:, javascript: and unknown schemes are refused, never followed", () =>
    Effect.gen(function* () {
      for (const location of ["file:///etc/passwd", "data:text/plain,hi", "javascript:alert(1)", "gopher://x/"]) {
        const server = yield* Servers.http((_req, res) => {
          res.writeHead(302, { Location: location, "Content-Length": 0 })
          res.end()
        })
        const error = yield* failureOf((m) => m.request("GET", `${server.url}/`))
        expect(["URLSchemeUnknown", "LocationValueError", "LocationParseError"]).toContain(error._tag)
        expect(server.requests.length).toBe(1)
        yield* server.waitForOpenSockets(0)
      }
    })
  )

  it.scopedLive("an https to http redirect to another host drops Authorization, Cookie and Proxy-Authorization", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const plain = yield* recordingServer
      const secure = yield* Servers.https((_req, res) => {
        res.writeHead(307, { Location: `${plain.url}/landed`, "Content-Length": 0 })
        res.end()
      })
      const scope = yield* Scope.make()
      const manager = yield* managerIn(scope, { connectionPoolKw: { caCerts: certs.ca.certPath } })
      const response = yield* manager.request("GET", `https://localhost:${secure.port}/start`, {
        headers: {
          Authorization: "Bearer secret",
          Cookie: "session=secret",
          "Proxy-Authorization": "Basic x",
          "X-Kept": "1"
        }
      })
      yield* Scope.close(scope, Exit.void)
      expect(response.status).toBe(200)
      const landed = plain.requests[0]
      expect(landed.url).toBe("/landed")
      expect(landed.headers.authorization).toBeUndefined()
      expect(landed.headers.cookie).toBeUndefined()
      expect(landed.headers["proxy-authorization"]).toBeUndefined()
      expect(landed.headers["x-kept"]).toBe("1")
      yield* plain.waitForOpenSockets(0)
      yield* secure.waitForOpenSockets(0)
    })
  )

  it.scopedLive("a gzip bomb is a DecodeError past maxDecodedSize, preloaded or streamed", () =>
    Effect.gen(function* () {
      const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024))
      expect(bomb.length).toBeLessThan(100 * 1024)
      const server = yield* Servers.http(Servers.fixed(bomb, { headers: [["Content-Encoding", "gzip"]] }))
      const options = { connectionPoolKw: { maxDecodedSize: 1024 * 1024 } }
      const preloaded = yield* failureOf((m) => m.request("GET", `${server.url}/`), options)
      expect(preloaded._tag).toBe("DecodeError")
      const streamed = yield* failureOf(
        (m) =>
          Effect.scoped(
            Effect.flatMap(m.request("GET", `${server.url}/`, { preloadContent: false }), (response) => response.data)
          ),
        options
      )
      expect(streamed._tag).toBe("DecodeError")
      yield* server.waitForOpenSockets(0)
    })
  )

  it.scopedLive("TLS: expired, self-signed, wrong-host and weak-key certificates are rejected by default", () =>
    Effect.gen(function* () {
      const certs = yield* Certs.certs
      const signer = { ca: { key: certs.ca.key, cert: certs.ca.cert } }
      const altNames = () => [{ name: "subjectAltName" as const, altNames: [{ type: 7 as const, ip: "127.0.0.1" }] }]
      const expired = yield* Effect.promise(() =>
        generate([{ name: "commonName", value: "127.0.0.1" }], {
          keyType: "ec",
          algorithm: "sha256",
          ...signer,
          notBeforeDate: new Date(Date.now() - 3 * 86_400_000),
          notAfterDate: new Date(Date.now() - 86_400_000),
          extensions: altNames()
        })
      )
      // A 512-bit RSA key, under an RSA CA trusted alongside the test CA.
      const rsaCa = yield* Effect.promise(() =>
        generate([{ name: "commonName", value: "httpool weak-key CA" }], {
          keyType: "rsa",
          keySize: 2048,
          algorithm: "sha256",
          extensions: [{ name: "basicConstraints", cA: true, critical: true }]
        })
      )
      const weak = yield* Effect.promise(() =>
        generate([{ name: "commonName", value: "127.0.0.1" }], {
          keyType: "rsa",
          keySize: 512,
          algorithm: "sha256",
          ca: { key: rsaCa.private, cert: rsaCa.cert },
          extensions: altNames()
        })
      )
      const cases = [
        ["expired", { key: expired.private, cert: expired.cert }],
        ["self-signed", { key: certs.selfSigned.key, cert: certs.selfSigned.cert }],
        ["wrong host", { key: certs.otherHost.key, cert: certs.otherHost.cert }],
        // The server lowers its own security level to load the key; the client keeps the default.
        ["weak key", { key: weak.private, cert: weak.cert, ciphers: "DEFAULT@SECLEVEL=0" }]
      ] as const
      for (const [name, tls] of cases) {
        const server = yield* Servers.https(Servers.fixed("secret page"), { tls })
        const error = yield* failureOf(
          (m) => m.request("GET", `https://127.0.0.1:${server.port}/`, { retries: false }),
          { connectionPoolKw: { caCertData: `${certs.ca.cert}\n${rsaCa.cert}` } }
        )
        expect([name, error._tag]).toEqual([name, "SSLError"])
        expect(server.requests.length).toBe(0)
        yield* server.waitForOpenSockets(0)
      }
    })
  )

  it.scopedLive("a proxy that answers CONNECT with 200 and then garbage is a typed error; no socket stays", () =>
    Effect.gen(function* () {
      const proxy = yield* Servers.raw((socket: net.Socket) => {
        socket.once("data", () => {
          socket.write("HTTP/1.1 200 Connection established\r\n\r\n")
          socket.write(Buffer.from("\u0016\u0003\u0001garbage that is not TLS and not HTTP\r\n\r\n"))
        })
      })
      const target = yield* Servers.raw((socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
      for (const scheme of ["https", "http"] as const) {
        const scope = yield* Scope.make()
        const manager = yield* ProxyManager.make(`http://127.0.0.1:${proxy.port}`).pipe(
          Effect.provide(NodeConnector.layer),
          Scope.extend(scope)
        )
        const url = scheme === "https" ? `https://127.0.0.1:${target.port}/` : `http://127.0.0.1:${target.port}/` // forwarded
        // The forwarded http request gets a 200 with no length: its body runs until the proxy
        // closes, so a read timeout ends it.
        const exit = yield* Effect.exit(manager.request("GET", url, { retries: false, timeout: 1 }))
        yield* Scope.close(scope, Exit.void)
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          expect(exit.cause._tag).toBe("Fail")
          if (exit.cause._tag === "Fail") expect(Errors.isHttpoolError(exit.cause.error)).toBe(true)
        }
      }
      yield* proxy.waitForOpenSockets(0)
      expect(target.socketsOpened()).toBe(0)
    })
  )
})
