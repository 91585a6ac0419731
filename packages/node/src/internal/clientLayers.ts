import type * as PlatformHttpClient from "@effect/platform/HttpClient"
import * as HttpClient from "@httpool/core/HttpClient"
import type * as PoolManager from "@httpool/core/PoolManager"
import * as Layer from "effect/Layer"

// Apart from `layers.ts`: only NodeHttpClient needs @effect/platform, which NodePoolManager
// and NodeProxyManager do not load.

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
