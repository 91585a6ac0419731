import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import { hostPort } from "./url.js"
import * as MetricLabel from "effect/MetricLabel"

/** @internal */
export const pools = Metric.gauge("httpool_pools", {
  description: "ConnectionPools held by PoolManagers (and ProxyManagers) now"
})

/** @internal */
export const connectionsOpen = Metric.gauge("httpool_connections_open", {
  description: "Connections a pool holds now, idle or in use"
})

/** @internal */
export const connectionsIdle = Metric.gauge("httpool_connections_idle", {
  description: "Idle connections a pool keeps for reuse now"
})

/** @internal */
export const connectionsInUse = Metric.gauge("httpool_connections_in_use", {
  description: "Connections carrying a request now"
})

/** @internal */
export const connectionsOpened = Metric.counter("httpool_connections_opened_total", {
  description: "Sockets opened (TCP, TLS or tunnelled), the pool's numConnections",
  incremental: true
})

/** @internal */
export const connectionsDiscarded = Metric.counter("httpool_connections_discarded_total", {
  description: "Connections closed instead of kept, by reason: error, closed, full, expired, evicted",
  incremental: true
})

/** @internal */
export const limitOpen = Metric.gauge("httpool_connection_limit_open", {
  description: "Connections open under caps across pools (maxTotalConnections), idle or in use"
})

/** @internal */
export const limitWaiting = Metric.gauge("httpool_connection_limit_waiting", {
  description: "Requests waiting for a place under a cap across pools (maxTotalConnections)"
})

/** @internal */
export const requests = Metric.counter("httpool_requests_total", {
  description: "Responses received, by status class (each retry and redirect counts)",
  incremental: true
})

/** @internal */
export const requestErrors = Metric.counter("httpool_request_errors_total", {
  description: "Requests that failed, by the tag of the error they failed with",
  incremental: true
})

/** @internal */
export const poolWait = Metric.histogram(
  "httpool_pool_wait_ms",
  MetricBoundaries.fromIterable([0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]),
  "Time a request waited for a free connection of a blocking pool, in milliseconds"
)

/** @internal */
export const retries = Metric.counter("httpool_retries_total", {
  description: "Retries and redirects taken, by reason: an error's tag, status or redirect",
  incremental: true
})

/** The label every per-pool metric carries: the pool as `scheme://host:port`. @internal */
export const POOL_LABEL = "pool"

/** The `pool` label of the pools past the limit of distinct labels. @internal */
export const OTHER_POOLS = "other"

/** The default limit of distinct `pool` labels in a process. @internal */
export const DEFAULT_MAX_POOL_LABELS = 100

/** A pool's label: `scheme://host:port`, the port always written, IPv6 in brackets. @internal */
export const poolLabel = (scheme: string, host: string, port: number | null): string =>
  `${scheme}://${hostPort(host, port ?? 0)}`

const statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const

/**
 * The metrics of one pool. Tag arrays are made once per label and passed to the metrics'
 * synchronous `unsafeUpdate`: Effect caches a metric's hook by the identity of that array, so
 * recording on the hot path costs a map lookup, not a new metric key per request. Fiber-level
 * metric labels (`Effect.tagMetrics`) are not added to these.
 *
 * @internal
 */
export interface PoolMetrics {
  readonly opened: () => void
  readonly discarded: (reason: "error" | "closed" | "full" | "expired" | "evicted") => void
  readonly counts: (idle: number, inUse: number) => void
  readonly waited: (millis: number) => void
  readonly response: (status: number) => void
  readonly failed: (tag: string) => void
  readonly retried: (reason: string) => void
}

/** The tag arrays of one `pool` label, shared by every pool that carries it. */
interface LabelTags {
  readonly tags: ReadonlyArray<MetricLabel.MetricLabel>
  readonly byReason: Readonly<
    Record<"error" | "closed" | "full" | "expired" | "evicted", ReadonlyArray<MetricLabel.MetricLabel>>
  >
  readonly byClass: ReadonlyArray<ReadonlyArray<MetricLabel.MetricLabel>>
  readonly tagsFor: (key: string, value: string) => ReadonlyArray<MetricLabel.MetricLabel>
}

const labelTags = (pool: string): LabelTags => {
  const label = MetricLabel.make(POOL_LABEL, pool)
  const byTag = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
  return {
    tags: [label],
    byReason: {
      error: [label, MetricLabel.make("reason", "error")],
      closed: [label, MetricLabel.make("reason", "closed")],
      full: [label, MetricLabel.make("reason", "full")],
      expired: [label, MetricLabel.make("reason", "expired")],
      evicted: [label, MetricLabel.make("reason", "evicted")]
    },
    byClass: statusClasses.map((c) => [label, MetricLabel.make("status_class", c)]),
    tagsFor: (key, value) => {
      const id = `${key}=${value}`
      let found = byTag.get(id)
      if (found === undefined) {
        found = [label, MetricLabel.make(key, value)]
        byTag.set(id, found)
      }
      return found
    }
  }
}

/**
 * The labels given so far. Effect's metric registry is global and never forgets a key, so
 * every distinct `pool` label stays in memory for the life of the process (about 7 keys, some
 * 10 KiB, per label): past `maxPoolLabels` distinct labels, pools share the label
 * {@link OTHER_POOLS}, and a process that meets ever new origins keeps a bounded set. This
 * map is never cleared for the same reason: a label it forgot would still be in the registry.
 */
const labelled = new Map<string, LabelTags>()
let maxPoolLabels = DEFAULT_MAX_POOL_LABELS
let others: LabelTags | null = null

/** Sets the limit of distinct `pool` labels; labels given already stay. @internal */
export const setMaxPoolLabels = (limit: number): Effect.Effect<void> =>
  Effect.sync(() => {
    maxPoolLabels = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : limit > 0 ? Infinity : 0
  })

/** The limit of distinct `pool` labels now. @internal */
export const maxPoolLabelsNow: Effect.Effect<number> = Effect.sync(() => maxPoolLabels)

const tagsOf = (pool: string): LabelTags => {
  const found = labelled.get(pool)
  if (found !== undefined) return found
  if (labelled.size < maxPoolLabels) {
    const made = labelTags(pool)
    labelled.set(pool, made)
    return made
  }
  return (others ??= labelTags(OTHER_POOLS))
}

/**
 * The metrics of a new pool labelled `pool` (or {@link OTHER_POOLS} past the limit of
 * distinct labels). Gauges move by the pool's own changes, so pools sharing a label add up.
 *
 * @internal
 */
export const forPool = (pool: string): PoolMetrics => {
  const { tags, byReason, byClass, tagsFor } = tagsOf(pool)
  let lastIdle = 0
  let lastInUse = 0
  return {
    opened: () => connectionsOpened.unsafeUpdate(1, tags),
    discarded: (reason) => connectionsDiscarded.unsafeUpdate(1, byReason[reason]),
    counts: (idle, inUse) => {
      const idleDelta = idle - lastIdle
      const inUseDelta = inUse - lastInUse
      lastIdle = idle
      lastInUse = inUse
      if (idleDelta !== 0) connectionsIdle.unsafeModify(idleDelta, tags)
      if (inUseDelta !== 0) connectionsInUse.unsafeModify(inUseDelta, tags)
      if (idleDelta + inUseDelta !== 0) connectionsOpen.unsafeModify(idleDelta + inUseDelta, tags)
    },
    waited: (millis) => poolWait.unsafeUpdate(millis, tags),
    response: (status) => {
      const index = Math.floor(status / 100) - 1
      if (index >= 0 && index < byClass.length) requests.unsafeUpdate(1, byClass[index])
    },
    failed: (tag) => requestErrors.unsafeUpdate(1, tagsFor("error", tag)),
    retried: (reason) => retries.unsafeUpdate(1, tagsFor("reason", reason))
  }
}

const noTags: ReadonlyArray<MetricLabel.MetricLabel> = []

/** A pool was made (+1) or closed (-1) by a manager. @internal */
export const poolsChanged = (delta: number): void => pools.unsafeModify(delta, noTags)

/** Connections under a cap across pools opened (+1) or closed (-1). @internal */
export const limitOpened = (delta: number): void => limitOpen.unsafeModify(delta, noTags)

/** Requests waiting under a cap across pools: one more (+1) or one fewer (-1). @internal */
export const limitWaiters = (delta: number): void => limitWaiting.unsafeModify(delta, noTags)
