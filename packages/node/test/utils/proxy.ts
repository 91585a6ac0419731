/**
 * A real forward/CONNECT proxy (the `proxy` package) on a loopback address for tests,
 * recording what it receives; closed with its Scope.
 */
import * as http from "node:http"
import * as https from "node:https"
import type * as net from "node:net"
import type { AddressInfo } from "node:net"
import type { Duplex } from "node:stream"
import type { PoolManager } from "@httpool/core"
import { ProxyManager } from "@httpool/core"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { createProxy } from "proxy"
import * as NodeConnector from "../../src/NodeConnector.js"
import * as Certs from "./certs.js"
import * as Watch from "./watch.js"

export interface TestProxy {
  readonly url: string
  readonly port: number
  /** Request lines the proxy received: `METHOD target`. */
  readonly seen: Array<string>
  /** Headers of every request and CONNECT the proxy received, lower-cased names. */
  readonly headers: Array<http.IncomingHttpHeaders>
  readonly connects: () => number
  /** Destroys every client socket that asked for a tunnel (the proxy dropping its tunnels). */
  readonly dropTunnels: () => void
  /** Client sockets the client has not ended or closed yet. */
  readonly openClients: () => number
  /** The most client sockets open at once. */
  readonly maxOpenClients: () => number
  /** Waits (on the client sockets' events, up to 5 s) until `condition` holds. */
  readonly waitUntil: (condition: () => boolean, what: string) => Effect.Effect<void>
}

/**
 * What the test proxies record of `server` (registered before the proxy's own listeners, so
 * every request is recorded first): request lines, headers, CONNECTs, tunnels, and the client
 * sockets open (until the client ends or closes one, whichever the proxy sees first).
 */
const record = (server: http.Server) => {
  const seen: Array<string> = []
  const headers: Array<http.IncomingHttpHeaders> = []
  const tunnels = new Set<Duplex>()
  let connects = 0
  let open = 0
  let maxOpen = 0
  const watch = Watch.make(() => `${open} client sockets open`)
  server.on("connection", (socket: net.Socket) => {
    open++
    maxOpen = Math.max(maxOpen, open)
    let counted = true
    const gone = () => {
      if (!counted) return
      counted = false
      open--
      watch.changed()
    }
    socket.once("end", gone)
    socket.once("close", gone)
  })
  server.on("request", (req: http.IncomingMessage) => {
    seen.push(`${req.method} ${req.url}`)
    headers.push(req.headers)
  })
  server.on("connect", (req: http.IncomingMessage, socket: Duplex) => {
    connects++
    seen.push(`CONNECT ${req.url}`)
    headers.push(req.headers)
    tunnels.add(socket)
    socket.once("close", () => tunnels.delete(socket))
  })
  return (url: string, port: number): TestProxy => ({
    url,
    port,
    seen,
    headers,
    connects: () => connects,
    dropTunnels: () => {
      for (const socket of tunnels) socket.destroy()
    },
    openClients: () => open,
    maxOpenClients: () => maxOpen,
    waitUntil: (condition, what) => watch.until(condition, what)
  })
}

/** Listens on port 0 of `host` and gives the proxy; closes `server` with the Scope. */
const serve = (
  server: http.Server,
  host: "127.0.0.1" | "::1",
  proxyOf: (port: number) => TestProxy
): Effect.Effect<TestProxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<TestProxy>((resume) => {
      server.listen(0, host, () => resume(Effect.succeed(proxyOf((server.address() as AddressInfo).port))))
    }),
    () =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      }).pipe(Effect.timeout("2 seconds"), Effect.ignore)
  )

/** Starts the proxy; with `credentials` ("user:password") it demands Basic proxy auth. */
export const start = (options: { readonly credentials?: string; readonly host?: "127.0.0.1" | "::1" } = {}) => {
  const server = http.createServer()
  const proxyAt = record(server)
  const proxy = createProxy(server)
  if (options.credentials !== undefined) {
    const expected = `Basic ${Buffer.from(options.credentials).toString("base64")}`
    proxy.authenticate = (req) => req.headers["proxy-authorization"] === expected
  }
  const host = options.host ?? "127.0.0.1"
  return serve(server, host, (port) => proxyAt(`http://${host.includes(":") ? `[${host}]` : host}:${port}`, port))
}

/**
 * An HTTPS proxy: the `proxy` package behind node:https with the test CA's `server`
 * certificate, at `https://localhost:port`. It also forwards absolute-form `https://`
 * requests (for `useForwardingForHttps`), which the package itself refuses, by fetching them
 * with node:https and the test CA.
 */
export const startHttps: Effect.Effect<TestProxy, never, Scope.Scope> = Effect.gen(function* () {
  const certs = yield* Certs.certs
  const server = https.createServer({ key: certs.server.key, cert: certs.server.cert })
  const proxyAt = record(server)
  createProxy(server)
  // The package answers every request; absolute https:// ones are taken over here first.
  const [recording, ...packageListeners] = server.listeners("request") as Array<(...args: Array<unknown>) => void>
  server.removeAllListeners("request")
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    recording?.call(server, req, res)
    if (!(req.url ?? "").startsWith("https://")) {
      for (const listener of packageListeners) listener.call(server, req, res)
      return
    }
    const upstream = https.request(
      req.url!,
      { method: req.method, headers: req.headers, ca: certs.ca.cert },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }
    )
    upstream.on("error", () => res.destroy())
    req.pipe(upstream)
  })
  return yield* serve(server, "127.0.0.1", (port) => proxyAt(`https://localhost:${port}`, port))
})

/** Runs `use` with a ProxyManager for `proxyUrl` over the NodeConnector. */
export const withManager = <A, E>(
  proxyUrl: string,
  options: ProxyManager.Options,
  use: (manager: PoolManager.Service) => Effect.Effect<A, E, Scope.Scope>
) =>
  Effect.gen(function* () {
    const manager = yield* ProxyManager.make(proxyUrl, options)
    return yield* use(manager)
  }).pipe(Effect.provide(NodeConnector.layer))
