import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type * as ConnectionPool from "../../ConnectionPool.js"
import * as ContentDecoder from "../../ContentDecoder.js"
import type { HttpoolError } from "../../Errors.js"
import type * as Response from "../../Response.js"
import * as Metrics from "../metrics.js"
import type * as loop from "./loop.js"

type AnyResponse = Response.Response | Response.StreamingResponse

const adapters = new WeakMap<ConnectionPool.ConnectionPool, loop.Exchanger>()

/**
 * The exchange of a pool that is not httpool's own (a `poolClassesByScheme` factory's): one
 * `urlopen` with retries and redirects off, so that the request loop decides both as for any
 * pool; the pool decodes its own body.
 *
 * @internal
 */
export const foreignExchanger = (pool: ConnectionPool.ConnectionPool): loop.Exchanger => {
  const known = adapters.get(pool)
  if (known !== undefined) return known
  const info = { scheme: pool.scheme, host: pool.host, port: pool.port }
  const urlopen = pool.urlopen as (
    method: string,
    url: string,
    options: ConnectionPool.UrlopenOptions
  ) => Effect.Effect<AnyResponse, HttpoolError, Scope.Scope>
  const exchanger: loop.Exchanger = {
    info,
    metrics: Metrics.forPool(Metrics.poolLabel(pool.scheme, pool.host, pool.port)),
    decoding: { decoder: ContentDecoder.identity, maxDecodedSize: 0 },
    exchange: (outgoing, call) =>
      Effect.suspend(() => {
        const payload = outgoing.body.next()
        if (Either.isLeft(payload)) return Effect.fail(payload.left)
        const options: ConnectionPool.UrlopenOptions = {
          ...call.opts,
          body: payload.right,
          headers: outgoing.headers,
          retries: false,
          redirect: false,
          assertSameHost: false,
          preloadContent: call.preload
        }
        const holder = call.holder
        const sent =
          holder === null
            ? Effect.scoped(urlopen(outgoing.method, outgoing.target, options))
            : Effect.flatMap(Scope.make(), (scope) =>
                Effect.zipRight(
                  holder.add(Scope.close(scope, Exit.void)),
                  Scope.extend(urlopen(outgoing.method, outgoing.target, options), scope)
                )
              )
        return Effect.map(sent, (response): loop.Exchanged => {
          const streamed = "drain" in response
          return {
            status: response.status,
            reason: response.reason,
            headers: response.headers,
            connection: response.connection,
            body: streamed ? null : response.data,
            source: streamed
              ? { stream: () => response.stream, data: () => response.data, drain: () => response.drain }
              : null,
            decoded: true
          }
        })
      })
  }
  adapters.set(pool, exchanger)
  return exchanger
}
