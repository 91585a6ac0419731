import type * as Connector from "@httpool/core/Connector"
import type * as ContentDecoder from "@httpool/core/ContentDecoder"
import type * as Errors from "@httpool/core/Errors"
import * as Layer from "effect/Layer"
import * as NodeConnector from "../NodeConnector.js"

/**
 * The one split of the ready layers' options: `connector` (the sockets' tuning) goes to
 * `NodeConnector.layerFor`, the rest to `build` (a manager or client layer), which is given
 * that connector.
 *
 * @internal
 */
export const withConnector = <O extends { readonly connector?: NodeConnector.Options | undefined }, A, E>(
  options: O,
  build: (rest: Omit<O, "connector">) => Layer.Layer<A, E, Connector.Connector | ContentDecoder.ContentDecoder>
): Layer.Layer<A, E | Errors.ValueError> => {
  const { connector, ...rest } = options
  return build(rest).pipe(Layer.provide(NodeConnector.layerFor(connector)))
}
