import * as Connector from "@httpool/core/Connector"
import type * as ContentDecoder from "@httpool/core/ContentDecoder"
import * as Errors from "@httpool/core/Errors"
import * as Resolver from "@httpool/core/Resolver"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { NodeConnection } from "./connection.js"
import { ServerKeeping } from "./h1.js"
import * as decoder from "./decoder.js"
import type { Dial } from "./dial/dial.js"
import { type DialOptions, dialRoute } from "./dial/route.js"
import { messageOf } from "./errors.js"
import { dnsLookup } from "./resolver.js"
import { defaultSettings, type Options, type Settings, settingsOf } from "./settings.js"

export { defaultSettings, type Options, type Settings, settingsOf } from "./settings.js"

/**
 * The Node `Connector`: each connection an HTTP/1.1 engine of its own (`h1.ts`) whose sockets are
 * dialed along the connection's route (`dial/route.ts`), names resolved by `resolver` (null:
 * Node's `dns.lookup`, called by `net.connect` itself).
 *
 * @internal
 */
export const makeService = (settings: Settings, resolver: Resolver.Service | null = null): Connector.Service => {
  const options: DialOptions = {
    tcp: {
      resolver,
      autoSelectFamily: settings.autoSelectFamily,
      autoSelectFamilyAttemptTimeout: settings.autoSelectFamilyAttemptTimeout
    },
    tls: settings.tls
  }
  // One per pool (a pool opens every connection with the same target), gone with it.
  const servers = new WeakMap<Connector.ConnectionTarget, ServerKeeping>()
  return {
    open: (target, events) => {
      let server = servers.get(target)
      if (server === undefined) {
        server = new ServerKeeping()
        servers.set(target, server)
      }
      const connection: NodeConnection = new NodeConnection(
        target,
        events,
        settings,
        (to) => reported(connection.id, to, options),
        server
      )
      return connection
    }
  }
}

/** How names are resolved: overrides over an optional cache over a base resolver. @internal */
export interface Resolution {
  /** curl `--resolve` entries, `host:port:address[,address]`. */
  readonly resolve?: ReadonlyArray<string> | undefined
  readonly dnsCache?: Resolver.CacheOptions | undefined
}

/**
 * The resolver of a connector: the `Resolver` in the context when the layer is built (else
 * null, Node's own lookup), cached and overridden as `resolution` says.
 */
const resolverOf = (resolution: Resolution): Effect.Effect<Resolver.Service | null, Errors.ValueError> =>
  Effect.gen(function* () {
    const provided = Option.getOrNull(yield* Effect.serviceOption(Resolver.Resolver))
    let resolver = provided
    if (resolution.dnsCache !== undefined) resolver = yield* Resolver.cached(resolver ?? dnsLookup, resolution.dnsCache)
    if (resolution.resolve !== undefined && resolution.resolve.length > 0) {
      resolver = yield* Resolver.withOverrides(resolver ?? dnsLookup, resolution.resolve)
    }
    return resolver
  })

/**
 * A connection's report, made by `new`: an object literal's site may be moved to the old
 * generation by V8 once its objects live long (connections usually do), and a dead report
 * there would keep what it reaches through young collections (see core's `record`).
 */
class OpenedReportOf implements Connector.OpenedReport {
  constructor(
    readonly id: number,
    readonly scheme: "http" | "https",
    readonly host: string,
    readonly port: number,
    readonly started: number,
    readonly connected: number,
    readonly ready: number,
    readonly remoteAddress: string | null
  ) {}
}

/**
 * Dials `to` and reports how the socket came up, and when it closes (`Connector.reportOpened`,
 * `reportClosed`): a request's span gets connect and TLS events, and the connection's
 * lifetime is recorded as `http.client.connection.duration`.
 */
const reported =
  (id: number, to: Connector.ConnectionTarget, options: DialOptions): Dial =>
  (callback) => {
    const started = performance.now()
    let connected = started
    let remoteAddress: string | null = null
    return dialRoute(to, options, (socket) => {
      connected = performance.now()
      remoteAddress = socket.remoteAddress ?? null
    })((error, socket) => {
      if (error === null && socket !== null) {
        const report = new OpenedReportOf(
          id,
          to.scheme,
          to.host,
          to.port,
          started,
          connected,
          performance.now(),
          remoteAddress
        )
        Connector.reportOpened(report)
        socket.once("close", () => Connector.reportClosed(report))
      }
      callback(error, socket)
    })
  }

/** @internal */
export const make = (options: Options & Resolution = {}): Effect.Effect<Connector.Service, Errors.ValueError> =>
  Effect.gen(function* () {
    const settings = yield* Effect.try({
      try: () => settingsOf(options),
      catch: (error) =>
        error instanceof Errors.ValueError ? error : new Errors.ValueError({ message: messageOf(error) })
    })
    return makeService(settings, yield* resolverOf(options))
  })

/** @internal */
export const layer: Layer.Layer<Connector.Connector | ContentDecoder.ContentDecoder> = Layer.merge(
  Layer.effect(
    Connector.Connector,
    Effect.map(Effect.serviceOption(Resolver.Resolver), (resolver) =>
      makeService(defaultSettings, Option.getOrNull(resolver))
    )
  ),
  decoder.layer
)

/** @internal */
export const layerWith = (
  options: Options & Resolution
): Layer.Layer<Connector.Connector | ContentDecoder.ContentDecoder, Errors.ValueError> =>
  Layer.merge(Layer.effect(Connector.Connector, make(options)), decoder.layer)
