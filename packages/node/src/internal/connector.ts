import * as Connector from "@httpool/core/Connector"
import type * as ContentDecoder from "@httpool/core/ContentDecoder"
import * as Errors from "@httpool/core/Errors"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { NodeConnection } from "./connection.js"
import * as decoder from "./decoder.js"
import type { Dial } from "./dial/dial.js"
import { dialRoute } from "./dial/route.js"
import { messageOf } from "./errors.js"
import { defaultSettings, type Options, type Settings, settingsOf } from "./settings.js"

export { defaultSettings, type Options, type Settings, settingsOf } from "./settings.js"

/**
 * The Node `Connector`: each connection an undici `Client` of its own whose sockets are
 * dialed along the connection's route (`dial/route.ts`).
 *
 * @internal
 */
export const makeService = (settings: Settings): Connector.Service => ({
  open: (target, events) => {
    const connection: NodeConnection = new NodeConnection(target, events, settings, (to) => reported(connection.id, to))
    return connection
  }
})

/**
 * Dials `to` and reports how the socket came up, and when it closes (`Connector.reportOpened`,
 * `reportClosed`): a request's span gets connect and TLS events, and the connection's
 * lifetime is recorded as `http.client.connection.duration`.
 */
const reported =
  (id: number, to: Connector.ConnectionTarget): Dial =>
  (callback) => {
    const started = performance.now()
    let connected = started
    let remoteAddress: string | null = null
    return dialRoute(to, (socket) => {
      connected = performance.now()
      remoteAddress = socket.remoteAddress ?? null
    })((error, socket) => {
      if (error === null && socket !== null) {
        const report: Connector.OpenedReport = {
          id,
          scheme: to.scheme,
          host: to.host,
          port: to.port,
          started,
          connected,
          ready: performance.now(),
          remoteAddress
        }
        Connector.reportOpened(report)
        socket.once("close", () => Connector.reportClosed(report))
      }
      callback(error, socket)
    })
  }

/** @internal */
export const make = (options: Options = {}): Effect.Effect<Connector.Service, Errors.ValueError> =>
  Effect.try({
    try: () => makeService(settingsOf(options)),
    catch: (error) =>
      error instanceof Errors.ValueError ? error : new Errors.ValueError({ message: messageOf(error) })
  })

/** @internal */
export const layer: Layer.Layer<Connector.Connector | ContentDecoder.ContentDecoder> = Layer.merge(
  Layer.sync(Connector.Connector, () => makeService(defaultSettings)),
  decoder.layer
)

/** @internal */
export const layerWith = (
  options: Options
): Layer.Layer<Connector.Connector | ContentDecoder.ContentDecoder, Errors.ValueError> =>
  Layer.merge(Layer.effect(Connector.Connector, make(options)), decoder.layer)
