import type * as PlatformHttpClient from "@effect/platform/HttpClient"
import type * as Connector from "@httpool/core/Connector"
import type * as ContentDecoder from "@httpool/core/ContentDecoder"
import type * as Errors from "@httpool/core/Errors"
import * as HttpClient from "@httpool/core/HttpClient"
import type * as PoolManager from "@httpool/core/PoolManager"
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

/** What the HttpClient layers use where an option is not given (`NodeHttpClient.defaults`). @internal */
export const clientDefaults = { maxsize: 10, acceptEncoding: "gzip, deflate, br" } as const

/**
 * The split of the HttpClient layers' options: the adapter's (`followRedirects`, `retries`,
 * `timeout`, `decodeContent`, `acceptEncoding`, which defaults to `clientDefaults`'s) go to
 * `HttpClient.layer`, the rest (`connectionPoolKw.maxsize` defaulting to `clientDefaults`'s) to
 * `manager`, the layer of the PoolManager the adapter sends through.
 *
 * @internal
 */
export const withClient = <
  O extends HttpClient.Options & { readonly connectionPoolKw?: PoolManager.ConnectionPoolKw | undefined },
  E
>(
  options: O,
  manager: (rest: Omit<O, keyof HttpClient.Options>) => Layer.Layer<PoolManager.PoolManager, E>
): Layer.Layer<PlatformHttpClient.HttpClient, E> => {
  const { followRedirects, retries, timeout, decodeContent, acceptEncoding, ...rest } = options
  const client: { -readonly [K in keyof HttpClient.Options]: HttpClient.Options[K] } = {
    acceptEncoding: acceptEncoding === undefined ? clientDefaults.acceptEncoding : acceptEncoding
  }
  if (followRedirects !== undefined) client.followRedirects = followRedirects
  if (retries !== undefined) client.retries = retries
  if (timeout !== undefined) client.timeout = timeout
  if (decodeContent !== undefined) client.decodeContent = decodeContent
  const managerOptions = {
    ...rest,
    connectionPoolKw: { maxsize: clientDefaults.maxsize, ...rest.connectionPoolKw }
  } as Omit<O, keyof HttpClient.Options>
  return HttpClient.layer(client).pipe(Layer.provide(manager(managerOptions)))
}
