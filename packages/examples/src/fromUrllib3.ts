/**
 * The runnable examples of docs/pool-manager.md and docs/from-urllib3.md: one Effect per
 * urllib3 feature, each taking the URLs of test servers (`http://127.0.0.1:port`, no
 * trailing slash) and returning the values it demonstrates. The pages quote each export with
 * the imports it needs (scripts/docs-blocks.mjs type-checks every block on its own);
 * packages/examples/test/fromUrllib3.test.ts runs every example against loopback servers
 * and checks that the quotes, imports aside, are still identical to the code.
 *
 * The test servers answer `/redirect?status=N&to=L` with status N (302 when absent) and
 * `Location: L`, `/loop` with a 302 to itself, and anything else with 200 and the request
 * they received as JSON (method, url, headers with lower-case names, body), with a `Server`
 * header naming the server: `JSON.parse(response.text)` shows what was sent.
 */
import { ConnectionPool, Fields, Headers, PoolKey, PoolManager, Retry, Timeout } from "@httpool/core"
import { NodeConnector, NodePoolManager, NodeProxyManager } from "@httpool/node"
import { Effect, Option } from "effect"

// --- the smallest example ---------------------------------------------------------------

export const smallest = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const response = yield* manager.request("GET", url)
    return response.status
  }).pipe(Effect.provide(NodePoolManager.layer({ numPools: 10 })))

// --- urllib3's PoolManager page, in order ------------------------------------------------

/** `PoolManager(10)`, `request`, `r.headers['server']`, `len(manager.pools)`, `connection_from_host`, `num_requests`. */
export const poolManager = (exampleUrl: string, httpbinUrl: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const r1 = yield* manager.request("GET", exampleUrl)
    const r2 = yield* manager.request("GET", `${httpbinUrl}/`)
    const r3 = yield* manager.request("POST", `${httpbinUrl}/headers`)
    const r4 = yield* manager.request("HEAD", `${httpbinUrl}/cookies`)
    const pools = yield* manager.pools // len(manager.pools)

    const httpbin = new URL(httpbinUrl)
    const conn = yield* manager.connectionFromHost(httpbin.hostname, Number(httpbin.port))
    const { numRequests } = yield* conn.stats // conn.num_requests

    return {
      servers: [
        Option.getOrNull(Headers.get(r1.headers, "server")),
        Option.getOrNull(Headers.get(r2.headers, "server"))
      ],
      statuses: [r1.status, r2.status, r3.status, r4.status],
      pools: pools.size,
      numRequests
    }
  }).pipe(Effect.scoped, Effect.provide(NodePoolManager.layer({ numPools: 10 })))

/** `PoolManager(10, my_field='wheat')`: a field outside the key does not make new pools. */
export const connectionPoolKw = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    yield* manager.connectionFromUrl(url)
    yield* manager.updateConnectionPoolKw((kw) => ({ ...kw, myField: "barley" }))
    yield* manager.connectionFromUrl(url)
    const kw = yield* manager.connectionPoolKw
    return { myField: kw.myField, pools: (yield* manager.pools).size }
  }).pipe(
    Effect.scoped,
    Effect.provide(NodePoolManager.layer({ numPools: 10, connectionPoolKw: { myField: "wheat" } }))
  )

/** `CustomKey = namedtuple(...)`, `functools.partial(default_key_normalizer, CustomKey)`. */
export const customKey = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const CustomKey = PoolKey.shape([...PoolKey.defaultFields, "myField"])
    yield* manager.setKeyFn("http", (context) => PoolKey.defaultKeyNormalizer(CustomKey, context))
    yield* manager.connectionFromUrl(url)
    yield* manager.updateConnectionPoolKw((kw) => ({ ...kw, myField: "barley" }))
    yield* manager.connectionFromUrl(url)
    const { size, keys } = yield* manager.pools
    return { pools: size, myFields: keys.map((key) => PoolKey.get(key, "myField")) }
  }).pipe(
    Effect.scoped,
    Effect.provide(NodePoolManager.layer({ numPools: 10, connectionPoolKw: { myField: "wheat" } }))
  )

/** `with PoolManager(10) as manager:` is a Scope. */
export const withPoolManager = (exampleUrl: string, httpbinUrl: string) =>
  Effect.gen(function* () {
    const [manager, inside] = yield* Effect.scoped(
      Effect.gen(function* () {
        const manager = yield* PoolManager.make({ numPools: 10 })
        yield* manager.request("GET", exampleUrl)
        yield* manager.request("GET", `${httpbinUrl}/`)
        return [manager, (yield* manager.pools).size] as const
      })
    )
    // the Scope is closed: every pool and socket is closed
    return { inside, after: (yield* manager.pools).size }
  }).pipe(Effect.provide(NodeConnector.layer))

/** `PoolManager(num_pools=2)` and three URLs on two hosts. */
export const numPools = (googleUrl: string, yahooUrl: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    yield* manager.request("GET", `${googleUrl}/`)
    yield* manager.request("GET", `${googleUrl}/mail`)
    yield* manager.request("GET", `${yahooUrl}/`)
    return (yield* manager.pools).size
  }).pipe(Effect.provide(NodePoolManager.layer({ numPools: 2 })))

/** `RecentlyUsedContainer`: the least recently used pool goes first. */
export const recentlyUsedContainer = (a: string, b: string, c: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    for (const url of [a, b, a, c]) yield* manager.request("GET", url)
    const { keys } = yield* manager.pools // least recently used first
    return keys.map((key) => `http://${key.host}:${key.port}`)
  }).pipe(Effect.provide(NodePoolManager.layer({ numPools: 2 })))

// --- the API section: constructor options --------------------------------------------------

/** `headers=`: the manager's headers go with every request that gives none of its own. */
export const defaultHeaders = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const plain = JSON.parse((yield* manager.request("GET", url)).text)
    const own = JSON.parse((yield* manager.request("GET", url, { headers: { "X-Request": "mine" } })).text)
    return {
      plain: [plain.headers["x-team"] ?? null, plain.headers["x-request"] ?? null],
      own: [own.headers["x-team"] ?? null, own.headers["x-request"] ?? null]
    }
  }).pipe(Effect.provide(NodePoolManager.layer({ headers: { "X-Team": "pools" } })))

/** `key_fn_by_scheme` given up front, and per-call pool options. */
export const keyFnByScheme = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    yield* manager.connectionFromUrl(url, { myField: "wheat" })
    yield* manager.connectionFromUrl(url, { myField: "barley" })
    yield* manager.connectionFromUrl(url, { myField: "wheat" })
    return (yield* manager.pools).size
  }).pipe(
    Effect.scoped,
    Effect.provide(
      NodePoolManager.layer({
        keyFnByScheme: { http: PoolKey.keyFn(PoolKey.shape(["myField"])) }
      })
    )
  )

/** `pool_classes_by_scheme`: how the pool of a scheme is made. */
export const poolClassesByScheme = (url: string) =>
  Effect.gen(function* () {
    const created: Array<string> = []
    const manager = yield* PoolManager.make({
      poolClassesByScheme: {
        http: (options) => {
          created.push(`${options.host}:${options.port}`)
          return ConnectionPool.make({ ...options, maxsize: 4 })
        }
      }
    })
    yield* manager.request("GET", `${url}/a`)
    yield* manager.request("GET", `${url}/b`)
    return created
  }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))

/** `BasePoolKey`, `HTTPPoolKey`, `HTTPSPoolKey`: one `PoolKey` with every field. */
export const poolKeyFields = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const response = yield* manager.request("GET", url)
    const key = (yield* manager.pools).keys[0]!
    const { scheme, host, port, timeout, retries, block, sourceAddress, caCerts, certFile } = key
    return {
      status: response.status,
      key: { scheme, host, port, timeout, retries, block, sourceAddress, caCerts, certFile }
    }
  }).pipe(
    Effect.provide(
      NodePoolManager.layer({
        connectionPoolKw: { retries: 3, block: true, maxsize: 2, caCerts: "/etc/ssl/certs/ca-certificates.crt" }
      })
    )
  )

// --- the API section: methods ----------------------------------------------------------

/** `connection_from_host / url / context / pool_key`: four ways to the same pool. */
export const connectionFrom = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const { hostname, port } = new URL(url)
    const byHost = yield* manager.connectionFromHost(hostname, Number(port), "http")
    const byUrl = yield* manager.connectionFromUrl(`${url}/any/path?q=1`)
    const byContext = yield* manager.connectionFromContext({ scheme: "http", host: hostname, port: Number(port) })
    const byKey = yield* manager.connectionFromPoolKey(
      PoolKey.make({ scheme: "HTTP", host: hostname, port: Number(port) })
    )
    const response = yield* byKey.request("GET", "/via-the-pool")
    return {
      samePool: [byUrl, byContext, byKey].every((pool) => pool === byHost),
      pools: (yield* manager.pools).size,
      path: JSON.parse(response.text).url
    }
  }).pipe(Effect.scoped, Effect.provide(NodePoolManager.layer()))

/** `clear()`: pools leave at once; a leased pool closes when its last lease ends. */
export const clear = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const [pool, result] = yield* Effect.scoped(
      Effect.gen(function* () {
        const pool = yield* manager.connectionFromUrl(url) // a lease, held until this Scope closes
        const streaming = yield* manager.request("GET", `${url}/stream`, { preloadContent: false })
        yield* manager.clear
        const poolsAfterClear = (yield* manager.pools).size
        const body = yield* streaming.text // the request in flight is not broken
        const statsWhileLeased = yield* pool.stats
        return [pool, { poolsAfterClear, method: JSON.parse(body).method, statsWhileLeased }] as const
      })
    )
    // the last lease ended: the pool is closed
    const afterLeases = yield* Effect.flip(pool.request("GET", "/"))
    return { ...result, idleAfterLeases: (yield* pool.stats).idle, afterLeases: afterLeases._tag }
  }).pipe(Effect.provide(NodePoolManager.layer()))

/** `request_encode_url`: fields in the query string. */
export const requestEncodeUrl = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const response = yield* manager.requestEncodeUrl("GET", `${url}/search`, {
      fields: { q: "café au lait", page: "2" }
    })
    return JSON.parse(response.text).url
  }).pipe(Effect.provide(NodePoolManager.layer()))

/** `request_encode_body` with urllib3's own `fields` example: filetuples, multipart. */
export const requestEncodeBody = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const fields: Fields.Input = {
      foo: "bar",
      fakefile: ["foofile.txt", "contents of foofile"],
      typedfile: ["bazfile.bin", new TextEncoder().encode("contents of bazfile"), "image/jpeg"],
      nonamefile: "contents of nonamefile field"
    }
    const multipart = yield* manager.requestEncodeBody("POST", `${url}/upload`, {
      fields,
      multipartBoundary: "boundary"
    })
    const form = yield* manager.requestEncodeBody("POST", `${url}/form`, {
      fields: { foo: "bar", q: "a b" },
      encodeMultipart: false
    })
    // the test server answers with the request it received
    const [sentMultipart, sentForm] = [JSON.parse(multipart.text), JSON.parse(form.text)]
    return {
      multipart: { contentType: sentMultipart.headers["content-type"], body: sentMultipart.body },
      form: { contentType: sentForm.headers["content-type"], body: sentForm.body }
    }
  }).pipe(Effect.provide(NodePoolManager.layer()))

/** `request`: fields go in the query for GET, HEAD, DELETE, OPTIONS, in the body otherwise. */
export const request = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    // the test server answers with the request it received
    const get = JSON.parse((yield* manager.request("GET", url, { fields: { q: "pools" } })).text)
    const post = JSON.parse(
      (yield* manager.request("POST", url, { fields: { q: "pools" }, encodeMultipart: false })).text
    )
    const json = JSON.parse((yield* manager.request("PUT", url, { json: { q: "pools" } })).text)
    return {
      get: [get.url, get.body],
      post: [post.url, post.body],
      json: [json.headers["content-type"], json.body]
    }
  }).pipe(Effect.provide(NodePoolManager.layer()))

/** `urlopen`: the lowest level, body and headers as given. */
export const urlopen = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const response = yield* manager.urlopen("PUT", `${url}/notes/1#fragment`, {
      body: "raw text",
      headers: { "Content-Type": "text/plain" }
    })
    const { method, url: target, headers, body } = JSON.parse(response.text)
    return { method, target, contentType: headers["content-type"], body }
  }).pipe(Effect.provide(NodePoolManager.layer()))

// --- redirects ----------------------------------------------------------------------------

/** Across hosts: a 303 turns a POST into a GET without body; `url` and `retries.history`. */
export const redirect303 = (a: string, b: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    // `a` answers 303 with `Location: <b>/landing`
    const redirect = `${a}/redirect?status=303&to=${encodeURIComponent(`${b}/landing`)}`
    const response = yield* manager.request("POST", redirect, {
      body: "name=value",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    })
    const landed = JSON.parse(response.text)
    return {
      url: response.url,
      method: landed.method,
      body: landed.body,
      contentType: landed.headers["content-type"] ?? null,
      history: response.retries?.history.map((h) => [h.method, h.status, h.redirectLocation])
    }
  }).pipe(Effect.provide(NodePoolManager.layer()))

/** 301, 302, 307, 308 keep method and body; a relative Location is resolved. */
export const redirect307 = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const redirect = `${url}/redirect?status=307&to=${encodeURIComponent("/moved?x=1")}`
    const response = yield* manager.request("POST", redirect, { body: "payload" })
    const { method, url: target, body } = JSON.parse(response.text)
    return { url: response.url, method, target, body }
  }).pipe(Effect.provide(NodePoolManager.layer()))

/** `Authorization`, `Cookie`, `Proxy-Authorization` do not follow a redirect to another host. */
export const removeHeadersOnRedirect = (a: string, b: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const headers = { Authorization: "Bearer secret", Cookie: "id=1", "X-Trace": "t1" }
    const toB = `${a}/redirect?to=${encodeURIComponent(`${b}/`)}` // a 302 to the other host
    const toA = `${a}/redirect?to=/` // a 302 on the same host
    const otherHost = yield* manager.request("GET", toB, { headers })
    const sameHost = yield* manager.request("GET", toA, { headers })
    const custom = yield* manager.request("GET", toB, {
      headers,
      retries: Retry.make({ removeHeadersOnRedirect: ["x-trace"] })
    })
    // the header names the last server received (it answers with the request as JSON)
    const names = (response: { readonly text: string }) =>
      ["authorization", "cookie", "x-trace"].filter((name) => name in JSON.parse(response.text).headers)
    return { otherHost: names(otherHost), sameHost: names(sameHost), custom: names(custom) }
  }).pipe(Effect.provide(NodePoolManager.layer()))

/** One `Retry` counts every redirect of a chain, whatever the hosts. */
export const redirectChain = (a: string, b: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const redirect = (from: string, to: string) => `${from}/redirect?to=${encodeURIComponent(to)}`
    const chain = redirect(a, redirect(b, redirect(a, `${b}/end`)))
    const followed = yield* manager.request("GET", chain, { retries: 3 })
    const exhausted = yield* Effect.flip(manager.request("GET", chain, { retries: 2 }))
    return {
      status: followed.status,
      redirects: followed.retries?.history.length,
      exhausted: exhausted._tag === "MaxRetryError" ? exhausted.reason?.message : exhausted._tag
    }
  }).pipe(Effect.provide(NodePoolManager.layer()))

/** `raise_on_redirect` and `redirect=False`. */
export const raiseOnRedirect = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const failed = yield* Effect.flip(manager.request("GET", `${url}/loop`, { retries: 2 }))
    const returned = yield* manager.request("GET", `${url}/loop`, {
      retries: Retry.make({ total: 2, raiseOnRedirect: false })
    })
    const unfollowed = yield* manager.request("GET", `${url}/loop`, { redirect: false })
    return {
      failed: failed._tag === "MaxRetryError" ? failed.reason?.message : failed._tag,
      returned: [returned.status, returned.retries?.history.length],
      unfollowed: [unfollowed.status, unfollowed.redirectLocation, unfollowed.retries?.history.length]
    }
  }).pipe(Effect.provide(NodePoolManager.layer()))

/** A redirect to a scheme without a key function and a pool class. */
export const unknownScheme = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const direct = yield* Effect.flip(manager.request("GET", "ftp://127.0.0.1/file"))
    const redirect = `${url}/redirect?to=${encodeURIComponent("ftp://127.0.0.1/file")}`
    const redirected = yield* Effect.flip(manager.request("GET", redirect))
    return [direct, redirected].map((error) => (error._tag === "URLSchemeUnknown" ? error.scheme : error._tag))
  }).pipe(Effect.provide(NodePoolManager.layer()))

// --- differences from urllib3 ---------------------------------------------------------

/** A URL without a scheme is an error (urllib3 warns and assumes http). */
export const schemelessUrl = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    const error = yield* Effect.flip(manager.request("GET", url.replace("http://", "")))
    return [error._tag, error.message]
  }).pipe(Effect.provide(NodePoolManager.layer()))

/** Equal `Timeout` and `Retry` values share a pool (urllib3 compares them by identity). */
export const keysByValue = (url: string) =>
  Effect.gen(function* () {
    const manager = yield* PoolManager.PoolManager
    yield* manager.connectionFromUrl(url, { timeout: Timeout.unsafeMake(5), retries: Retry.make(2) })
    yield* manager.connectionFromUrl(url, { timeout: Timeout.unsafeMake(5), retries: Retry.make(2) })
    const same = (yield* manager.pools).size
    yield* manager.connectionFromUrl(url, { timeout: Timeout.unsafeMake(6), retries: Retry.make(2) })
    return [same, (yield* manager.pools).size]
  }).pipe(Effect.scoped, Effect.provide(NodePoolManager.layer()))

// --- helpers urllib3 users reach for ----------------------------------------------------

/** `ProxyManager(proxy_url, proxy_headers=make_headers(proxy_basic_auth=...))` and its pools. */
export const proxyManager = (proxyUrl: string, exampleUrl: string, httpbinUrl: string) =>
  Effect.gen(function* () {
    const proxy = yield* PoolManager.PoolManager // a ProxyManager is provided under this tag
    const r = yield* proxy.request("GET", `${exampleUrl}/`)
    yield* proxy.request("GET", `${httpbinUrl}/`)
    const httpPools = (yield* proxy.pools).size // every http:// target: one pool on the proxy
    // one tunnel pool per https host:port; looking them up makes them without connecting
    yield* proxy.connectionFromUrl(exampleUrl.replace("http:", "https:"))
    yield* proxy.connectionFromUrl(httpbinUrl.replace("http:", "https:"))
    return { status: r.status, httpPools, pools: (yield* proxy.pools).size }
  }).pipe(
    Effect.scoped,
    Effect.provide(
      NodeProxyManager.layer(proxyUrl, {
        proxyHeaders: Headers.makeHeaders({ proxyBasicAuth: "myusername:mypassword" })
      })
    )
  )

/** `make_headers(proxy_basic_auth='myusername:mypassword')`. */
export const makeHeaders = () =>
  Effect.sync(() => Headers.toRecord(Headers.makeHeaders({ proxyBasicAuth: "myusername:mypassword" })))

/** `encode_multipart_formdata` and `urlencode`, without sending anything. */
export const encodeFields = () =>
  Effect.sync(() => {
    const { contentType, body } = Fields.encodeMultipart({ name: "report", file: ["a.txt", "hello"] }, "xyz")
    return {
      contentType,
      body: new TextDecoder().decode(body),
      urlencoded: Fields.encodeUrlencoded({ q: "café au lait", page: "2" })
    }
  })
