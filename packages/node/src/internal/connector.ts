import * as Connector from "@httpool/core/Connector"
import type * as ContentDecoder from "@httpool/core/ContentDecoder"
import * as Errors from "@httpool/core/Errors"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { NodeConnection } from "./connection.js"
import * as decoder from "./decoder.js"
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
  open: (target, events) => new NodeConnection(target, events, settings, dialRoute)
})

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
