/**
 * The Effect `Metric`s httpool's pools record as they work: OpenTelemetry's HTTP client
 * metrics (`http.client.request.duration`, `http.client.open_connections`,
 * `http.client.connection.duration`) and httpool's own (`httpool_*`). Read them with `Metric.value`
 * (tag a per-pool metric with `Metric.tagged(metric, "pool", "http://host:port")` first), or
 * export them all with any Effect metrics exporter, such as @effect/opentelemetry's.
 *
 * Every per-pool metric carries the label `pool` = `scheme://host:port` (the port always
 * written), for the first {@link DEFAULT_MAX_POOL_LABELS} (100) distinct pools of the process;
 * later pools share the label `pool` = {@link OTHER_POOLS} (`"other"`). Effect's metric
 * registry is global and never drops a key, so this bound is what keeps a process that talks
 * to ever new hosts from growing; {@link setMaxPoolLabels} changes it. They are recorded
 * synchronously on the request path, so fiber-level metric labels (`Effect.tagMetrics`) are
 * not added to them.
 *
 * @example
 * import { Metric } from "effect"
 * import { Metrics } from "@httpool/core"
 *
 * const opened = Metric.value(Metric.tagged(Metrics.connectionsOpened, "pool", "http://127.0.0.1:8080"))
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
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
 * closed), `full` (returned to a full pool), `expired` (older than `maxConnectionAge`),
 * `evicted` (idle, closed to make room for another pool under `maxTotalConnections`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const connectionsDiscarded: Counter = internal.connectionsDiscarded

/**
 * `httpool_connection_limit_open`: connections open now under caps across pools (a
 * manager's `maxTotalConnections`, a `ConnectionLimit`), idle or in use, all caps added up.
 *
 * @since 0.2.0
 * @category metrics
 */
export const connectionLimitOpen: Gauge = internal.limitOpen

/**
 * `httpool_connection_limit_waiting`: requests waiting now for a place under a cap across
 * pools, all caps added up.
 *
 * @since 0.2.0
 * @category metrics
 */
export const connectionLimitWaiting: Gauge = internal.limitWaiting

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

/**
 * `http.client.request.duration` {http.request.method, http.response.status_code | error.type,
 * server.address, server.port, url.scheme, network.protocol.version}: OpenTelemetry's
 * histogram of HTTP client calls, in seconds, with OpenTelemetry's bucket boundaries (0.005
 * to 10). One value per call, from its start to its answer, retries and redirects included.
 *
 * @since 0.2.0
 * @category metrics
 */
export const requestDuration: Metric.Metric.Histogram<number> = internal.requestDuration

/**
 * `http.client.open_connections` {http.connection.state, server.address, server.port,
 * url.scheme}: OpenTelemetry's count of the connections pools hold now, `idle` or `active`.
 *
 * @since 0.2.0
 * @category metrics
 */
export const openConnections: Gauge = internal.openConnections

/**
 * `http.client.connection.duration` {server.address, server.port, url.scheme,
 * network.protocol.version}: OpenTelemetry's histogram of how long connections lived, in
 * seconds, recorded when a connection's socket closes (as its Connector reports it:
 * `Connector.reportClosed`).
 *
 * @since 0.2.0
 * @category metrics
 */
export const connectionDuration: Metric.Metric.Histogram<number> = internal.connectionDuration

/**
 * OpenTelemetry's bucket boundaries of `http.client.request.duration`, in seconds.
 *
 * @since 0.2.0
 * @category metrics
 */
export const DURATION_BOUNDARIES: ReadonlyArray<number> = internal.DURATION_BOUNDARIES

/**
 * The `pool` label of the pools past the limit of distinct labels: `"other"`. Their metrics
 * add up under it (a gauge is the sum over those pools). A real pool's label always holds
 * `://`, so it never collides with this one.
 *
 * @since 0.2.0
 * @category labels
 */
export const OTHER_POOLS: string = internal.OTHER_POOLS

/**
 * How many distinct `pool` labels the per-pool metrics carry in a process unless
 * {@link setMaxPoolLabels} says otherwise: 100, about 1 MiB of metric state at most.
 *
 * @since 0.2.0
 * @category labels
 */
export const DEFAULT_MAX_POOL_LABELS: number = internal.DEFAULT_MAX_POOL_LABELS

/**
 * Sets how many distinct `pool` labels the per-pool metrics may carry in this process (the
 * limit is process-wide because Effect's metric registry is). Each label keeps about 10 KiB
 * of metric state for the life of the process. A pool whose label is not among the first
 * `limit` is recorded under {@link OTHER_POOLS}; labels already given stay. `0` labels every
 * pool `"other"` (no per-pool series at all); `Infinity` labels every pool, for processes
 * that only ever talk to a known set of origins. Call it before the first pools are made.
 *
 * @example
 * import { Effect, Layer } from "effect"
 * import { Metrics } from "@httpool/core"
 *
 * // As a layer next to the manager's: up to 1,000 pools get a series of their own.
 * const MetricsConfig = Layer.effectDiscard(Metrics.setMaxPoolLabels(1_000))
 *
 * @since 0.2.0
 * @category labels
 */
export const setMaxPoolLabels: (limit: number) => Effect.Effect<void> = internal.setMaxPoolLabels

/**
 * The limit of distinct `pool` labels now (see {@link setMaxPoolLabels}).
 *
 * @since 0.2.0
 * @category labels
 */
export const maxPoolLabels: Effect.Effect<number> = internal.maxPoolLabelsNow
