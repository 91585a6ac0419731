/**
 * The seed tour (`npm start`): replays the examples of urllib3's documentation page
 * "PoolManager" (its PoolManager and ProxyManager examples) with httpool, in order, against
 * servers on 127.0.0.1 that stand in for the hosts the page names. For each example it prints
 * urllib3's Python line, the httpool TypeScript that replays it, and the value next to the one
 * the page shows. Exits non-zero when a value differs.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import * as os from "node:os"
import * as path from "node:path"
import type { AddressInfo } from "node:net"
import { Headers, PoolKey, PoolManager, ProxyManager } from "@httpool/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { createProxy } from "proxy"
import { generate } from "selfsigned"

interface Origin {
  readonly name: string
  readonly url: string
  readonly host: string
  readonly port: number
}

/** Starts an origin answering every request with its own `Server` header. */
const origin = (name: string, server: string) =>
  Effect.acquireRelease(
    Effect.async<{ readonly origin: Origin; readonly close: () => void }>((resume) => {
      const s = http.createServer((req, res) => {
        req.resume()
        req.on("end", () => {
          res.writeHead(200, { Server: server, "Content-Type": "text/plain", "Content-Length": 2 })
          res.end(req.method === "HEAD" ? undefined : "ok")
        })
      })
      s.listen(0, "127.0.0.1", () => {
        const { port } = s.address() as AddressInfo
        resume(
          Effect.succeed({
            origin: { name, url: `http://127.0.0.1:${port}`, host: "127.0.0.1", port },
            close: () => {
              s.closeAllConnections()
              s.close()
            }
          })
        )
      })
    }),
    ({ close }) => Effect.sync(close)
  ).pipe(Effect.map(({ origin }) => origin))

/** A real forward/CONNECT proxy (the `proxy` package) on 127.0.0.1. */
const forwardProxy = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly close: () => void }>((resume) => {
    const server = createProxy(http.createServer())
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(
        Effect.succeed({
          url: `http://127.0.0.1:${port}`,
          close: () => {
            server.closeAllConnections()
            server.close()
          }
        })
      )
    })
  }),
  ({ close }) => Effect.sync(close)
)

let caOnce: ReturnType<typeof makeCa> | undefined

const makeCa = async () => {
  const base = { keyType: "ec", algorithm: "sha256" } as const
  const ca = await generate([{ name: "commonName", value: "httpool tour CA" }], {
    ...base,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
    ]
  })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "httpool-tour-"))
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }))
  const caCerts = path.join(dir, "ca.pem")
  fs.writeFileSync(caCerts, ca.cert)
  return { base, ca, caCerts, dir }
}

/** The tour's own CA, made once; its certificate is written to `caCerts`. */
const tourCa = () => {
  caOnce ??= makeCa()
  return caOnce
}

/** An https origin with a certificate from the tour's CA; `caCerts` is the CA's file. */
const secureOrigin = (name: string, server: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const { base, ca, caCerts } = await tourCa()
      const leaf = await generate([{ name: "commonName", value: "localhost" }], {
        ...base,
        ca: { key: ca.private, cert: ca.cert },
        extensions: [
          { name: "basicConstraints", cA: false },
          { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
          { name: "extKeyUsage", serverAuth: true },
          { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }] }
        ]
      })
      const s = https.createServer({ key: leaf.private, cert: leaf.cert }, (req, res) => {
        req.resume()
        req.on("end", () => {
          res.writeHead(200, { Server: server, "Content-Length": 2 })
          res.end("ok")
        })
      })
      await new Promise<void>((done) => s.listen(0, "127.0.0.1", done))
      const { port } = s.address() as AddressInfo
      return { name, url: `https://localhost:${port}`, caCerts, server: s }
    }),
    ({ server: s }) =>
      Effect.sync(() => {
        s.closeAllConnections()
        s.close()
      })
  )

/** The document the tour replays. */
export const document =
  'urllib3\'s documentation page "PoolManager" (the examples of its PoolManager and ProxyManager sections, in order)'

/** One replayed example: urllib3's line, the httpool call, what httpool gave and what the document shows. */
export interface Check {
  readonly python: string
  readonly typescript: string
  readonly got: unknown
  readonly documented: unknown
  readonly same: boolean
}

const serverOf = (headers: Headers.Headers) => Option.getOrNull(Headers.get(headers, "server"))

/**
 * Replays the seed document's examples; `log` receives each line to print. Needs a
 * `Connector` (NodeConnector.layer) and a Scope for the stand-in servers.
 */
export const tour = (log: (line: string) => void) =>
  Effect.gen(function* () {
    const checks: Array<Check> = []
    const show = (
      lines: { readonly python: string; readonly typescript: string },
      got: unknown,
      documented: unknown
    ) => {
      const same = JSON.stringify(got) === JSON.stringify(documented)
      checks.push({ ...lines, got, documented, same })
      log(`${same ? "✓" : "✗"} urllib3  ${lines.python}`)
      log(`  httpool  ${lines.typescript}`)
      log(`           -> ${JSON.stringify(got)}    documented: ${JSON.stringify(documented)}`)
    }
    const section = (title: string) => log(`\n# ${title}`)

    log(`Replaying ${document}.`)
    log("docs/from-urllib3.md maps every urllib3 name to httpool's; docs/pool-manager.md explains them.")
    const example = yield* origin("example.com", "ECS (iad/182A)")
    const httpbin = yield* origin("httpbin.org", "gunicorn/18.0")
    log(`example.com is played by ${example.url}, httpbin.org by ${httpbin.url}`)

    section("A PoolManager for several hosts")
    yield* Effect.scoped(
      Effect.gen(function* () {
        const manager = yield* PoolManager.make({ numPools: 10 })
        let r = yield* manager.request("GET", `${example.url}`)
        show(
          {
            python: "manager.request('GET', 'http://example.com').headers['server']",
            typescript: 'Headers.get((yield* manager.request("GET", "http://example.com")).headers, "server")'
          },
          r.headers.pipe(serverOf),
          "ECS (iad/182A)"
        )
        r = yield* manager.request("GET", `${httpbin.url}/`)
        show(
          {
            python: "manager.request('GET', 'http://httpbin.org/').headers['server']",
            typescript: 'Headers.get((yield* manager.request("GET", "http://httpbin.org/")).headers, "server")'
          },
          r.headers.pipe(serverOf),
          "gunicorn/18.0"
        )
        yield* manager.request("POST", `${httpbin.url}/headers`)
        yield* manager.request("HEAD", `${httpbin.url}/cookies`)
        show(
          { python: "len(manager.pools)", typescript: "(yield* manager.pools).size" },
          (yield* manager.pools).size,
          2
        )
        const conn = yield* manager.connectionFromHost(httpbin.host, httpbin.port)
        show(
          {
            python: "manager.connection_from_host('httpbin.org').num_requests",
            typescript: '(yield* (yield* manager.connectionFromHost("httpbin.org")).stats).numRequests'
          },
          (yield* conn.stats).numRequests,
          3
        )
      })
    )

    section("connection_pool_kw fields outside the key do not make new pools")
    yield* Effect.scoped(
      Effect.gen(function* () {
        const manager = yield* PoolManager.make({ numPools: 10, connectionPoolKw: { myField: "wheat" } })
        yield* manager.connectionFromUrl(example.url)
        yield* manager.updateConnectionPoolKw((kw) => ({ ...kw, myField: "barley" }))
        yield* manager.connectionFromUrl(example.url)
        show(
          {
            python: "manager.connection_pool_kw['my_field'] = 'barley'; len(manager.pools)",
            typescript:
              'yield* manager.updateConnectionPoolKw((kw) => ({ ...kw, myField: "barley" })); (yield* manager.pools).size'
          },
          (yield* manager.pools).size,
          1
        )
      })
    )

    section("A custom key that includes my_field")
    yield* Effect.scoped(
      Effect.gen(function* () {
        const manager = yield* PoolManager.make({ numPools: 10, connectionPoolKw: { myField: "wheat" } })
        const customKey = PoolKey.shape([...PoolKey.defaultFields, "myField"])
        yield* manager.setKeyFn("http", (context) => PoolKey.defaultKeyNormalizer(customKey, context))
        yield* manager.connectionFromUrl(example.url)
        yield* manager.updateConnectionPoolKw((kw) => ({ ...kw, myField: "barley" }))
        yield* manager.connectionFromUrl(example.url)
        show(
          {
            python:
              "manager.key_fn_by_scheme['http'] = functools.partial(normalizer, CustomKey); ...; len(manager.pools)",
            typescript:
              'yield* manager.setKeyFn("http", (context) => PoolKey.defaultKeyNormalizer(CustomKey, context)); ...; (yield* manager.pools).size'
          },
          (yield* manager.pools).size,
          2
        )
      })
    )

    section("Closing the manager's Scope (urllib3's `with PoolManager(10) as manager:`)")
    const scope = yield* Scope.make()
    const manager = yield* Scope.extend(PoolManager.make({ numPools: 10 }), scope)
    yield* manager.request("GET", example.url)
    yield* manager.request("GET", `${httpbin.url}/`)
    show(
      {
        python: "with PoolManager(10) as manager: ...; len(manager.pools)",
        typescript:
          "Effect.scoped(Effect.gen(function* () { const manager = yield* PoolManager.make({ numPools: 10 }); ...; (yield* manager.pools).size }))"
      },
      (yield* manager.pools).size,
      2
    )
    yield* Scope.close(scope, Exit.void)
    show(
      {
        python: "len(manager.pools)  # after the with block",
        typescript: "(yield* manager.pools).size  // after the Scope closed"
      },
      (yield* manager.pools).size,
      0
    )

    section("num_pools=2 and three URLs")
    yield* Effect.scoped(
      Effect.gen(function* () {
        const manager = yield* PoolManager.make({ numPools: 2 })
        yield* manager.request("GET", `${example.url}/`)
        yield* manager.request("GET", `${example.url}/mail`)
        yield* manager.request("GET", `${httpbin.url}/`)
        show(
          {
            python: "manager = PoolManager(num_pools=2); ...; len(manager.pools)",
            typescript: "const manager = yield* PoolManager.make({ numPools: 2 }); ...; (yield* manager.pools).size"
          },
          (yield* manager.pools).size,
          2
        )
      })
    )

    section("ProxyManager")
    const proxy = yield* forwardProxy
    const google = yield* origin("google.com", "gws")
    const secureHttpbin = yield* secureOrigin("httpbin.org", "gunicorn/18.0")
    const twitter = yield* secureOrigin("twitter.com", "tsa_a")
    log(`the proxy is played by ${proxy.url}; https targets by ${secureHttpbin.url} and ${twitter.url}`)
    yield* Effect.scoped(
      Effect.gen(function* () {
        const headers = Headers.makeHeaders({ proxyBasicAuth: "myusername:mypassword" })
        const authed = yield* ProxyManager.make(proxy.url, { proxyHeaders: headers })
        const r = yield* authed.request("GET", `${example.url}/`)
        show(
          {
            python:
              "urllib3.ProxyManager('http://localhost:3128', proxy_headers=make_headers(proxy_basic_auth='myusername:mypassword')).request('GET', 'http://example.com/').status",
            typescript:
              '(yield* (yield* ProxyManager.make("http://localhost:3128", { proxyHeaders: Headers.makeHeaders({ proxyBasicAuth: "myusername:mypassword" }) })).request("GET", "http://example.com/")).status'
          },
          r.status,
          200
        )
      })
    )
    yield* Effect.scoped(
      Effect.gen(function* () {
        const manager = yield* ProxyManager.make(proxy.url, {
          connectionPoolKw: { caCerts: secureHttpbin.caCerts }
        })
        yield* manager.request("GET", `${google.url}/`)
        yield* manager.request("GET", `${httpbin.url}/`)
        show(
          {
            python:
              "proxy.request('GET', 'http://google.com/'); proxy.request('GET', 'http://httpbin.org/'); len(proxy.pools)",
            typescript: "(yield* proxy.pools).size  // after two http:// targets"
          },
          (yield* manager.pools).size,
          1
        )
        yield* manager.request("GET", `${secureHttpbin.url}/`)
        yield* manager.request("GET", `${twitter.url}/`)
        show(
          {
            python:
              "proxy.request('GET', 'https://httpbin.org/'); proxy.request('GET', 'https://twitter.com/'); len(proxy.pools)",
            typescript: "(yield* proxy.pools).size  // after two https:// targets"
          },
          (yield* manager.pools).size,
          3
        )
      })
    )
    return checks
  })
