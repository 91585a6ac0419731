/**
 * The Effect `Metric`s httpool's pools record as they work. Read them with `Metric.value`
 * (tag a per-pool metric with `Metric.tagged(metric, "pool", "http://host:port")` first), or
 * export them all with any Effect metrics exporter, such as @effect/opentelemetry's.
 *
 * Every per-pool metric carries the label `pool` = `scheme://host:port` (the port always
 * written). They are recorded synchronously on the request path, so fiber-level metric labels
 * (`Effect.tagMetrics`) are not added to them.
 *
 * @example
 * import { Metric } from "effect"
 * import { Metrics } from "@httpool/core"
 *
 * const opened = Metric.value(Metric.tagged(Metrics.connectionsOpened, "pool", "http://127.0.0.1:8080"))
 *
 * @since 0.1.0
 */
import type * as Metric from "effect/Metric"
import type * as MetricKeyType from "effect/MetricKeyType"
import type * as MetricState from "effect/MetricState"
import * as internal from "./internal/metrics.js"

/**
 * A gauge of numbers.
 *
 * @since 0.1.0
 * @category models
 */
export type Gauge = Metric.Metric<
  MetricKeyType.MetricKeyType.Gauge<number>,
  number,
  MetricState.MetricState.Gauge<number>
>

/**
 * A counter of numbers.
 *
 * @since 0.1.0
 * @category models
 */
export type Counter = Metric.Metric<
  MetricKeyType.MetricKeyType.Counter<number>,
  number,
  MetricState.MetricState.Counter<number>
>

/**
 * `httpool_pools`: the ConnectionPools every PoolManager and ProxyManager holds now (no labels).
 *
 * @since 0.1.0
 * @category metrics
 */
export const pools: Gauge = internal.pools

/**
 * `httpool_connections_open` {pool}: connections a pool holds now, idle or in use.
 *
 * @since 0.1.0
 * @category metrics
 */
export const connectionsOpen: Gauge = internal.connectionsOpen

/**
 * `httpool_connections_idle` {pool}: idle connections kept for reuse now.
 *
 * @since 0.1.0
 * @category metrics
 */
export const connectionsIdle: Gauge = internal.connectionsIdle

/**
 * `httpool_connections_in_use` {pool}: connections carrying a request now.
 *
 * @since 0.1.0
 * @category metrics
 */
export const connectionsInUse: Gauge = internal.connectionsInUse

/**
 * `httpool_connections_opened_total` {pool}: sockets opened (TCP, TLS or through a tunnel),
 * the pool's `numConnections`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const connectionsOpened: Counter = internal.connectionsOpened

/**
 * `httpool_connections_discarded_total` {pool, reason}: connections closed instead of kept:
 * `error` (failed, interrupted, or its body was not read to the end), `closed` (the pool was
 * closed), `full` (returned to a full pool), `expired` (older than `maxConnectionAge`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const connectionsDiscarded: Counter = internal.connectionsDiscarded

/**
 * `httpool_requests_total` {pool, status_class}: responses received, by `1xx` to `5xx`;
 * every retry and redirect counts.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requests: Counter = internal.requests

/**
 * `httpool_request_errors_total` {pool, error}: requests to a pool that failed, by the tag of
 * the error (e.g. `MaxRetryError`, `ReadTimeoutError`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestErrors: Counter = internal.requestErrors

/**
 * `httpool_pool_wait_ms` {pool}: how long each request waited for a free connection, in
 * milliseconds (0 unless a blocking pool was at its `maxsize`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const poolWait: Metric.Metric.Histogram<number> = internal.poolWait

/**
 * `httpool_retries_total` {pool, reason}: retries taken, by reason: the tag of the error
 * retried, `status` (a status in the Retry's `statusForcelist`) or `redirect` (a redirect
 * followed, by a pool or across hosts by a manager).
 *
 * @since 0.1.0
 * @category metrics
 */
export const retries: Counter = internal.retries
