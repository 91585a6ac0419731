import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import type * as MetricHook from "effect/MetricHook"
import type * as MetricKeyType from "effect/MetricKeyType"
import { errorType } from "./errors.js"
import { hostPort } from "./url.js"
import { KNOWN_METHODS } from "./request/wire.js"
import * as MetricLabel from "effect/MetricLabel"
import { record } from "./record.js"

/** @internal */
export const pools = Metric.gauge("httpool_pools", {
  description: "ConnectionPools held by PoolManagers (and ProxyManagers) now"
})

// The metrics a request moves are made from keys kept here: a pool records through the hooks
// of its label's series, found once (see `hooks`), not through `unsafeUpdate`, which looks
// the hook up by the tags on every call.

const connectionsOpenKey = MetricKey.gauge("httpool_connections_open", {
  description: "Connections a pool holds now, idle or in use"
})

/** @internal */
export const connectionsOpen = Metric.fromMetricKey(connectionsOpenKey)

const connectionsIdleKey = MetricKey.gauge("httpool_connections_idle", {
  description: "Idle connections a pool keeps for reuse now"
})

/** @internal */
export const connectionsIdle = Metric.fromMetricKey(connectionsIdleKey)

const connectionsInUseKey = MetricKey.gauge("httpool_connections_in_use", {
  description: "Connections carrying a request now"
})

/** @internal */
export const connectionsInUse = Metric.fromMetricKey(connectionsInUseKey)

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

const requestsKey = MetricKey.counter("httpool_requests_total", {
  description: "Responses received, by status class (each retry and redirect counts)",
  incremental: true
})

/** @internal */
export const requests = Metric.fromMetricKey(requestsKey)

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

/**
 * OpenTelemetry's bucket boundaries for `http.client.request.duration`, in seconds.
 *
 * @internal
 */
export const DURATION_BOUNDARIES: ReadonlyArray<number> = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10
]

const requestDurationKey = MetricKey.histogram(
  "http.client.request.duration",
  MetricBoundaries.fromIterable(DURATION_BOUNDARIES),
  "Duration of HTTP client requests, in seconds (OpenTelemetry's http.client.request.duration)"
)

/** @internal */
export const requestDuration = Metric.fromMetricKey(requestDurationKey)

const openConnectionsKey = MetricKey.gauge("http.client.open_connections", {
  description: "Outbound HTTP connections open now, by http.connection.state (idle or active)"
})

/** @internal */
export const openConnections = Metric.fromMetricKey(openConnectionsKey)

/** What a request records into: one series of one metric. */
interface Hook {
  readonly update: (value: number) => void
  readonly modify: (value: number) => void
}

/** The hook of `key`'s series with `tags`: the one `Metric.unsafeUpdate` would find. */
const hookOf = <Type extends MetricKeyType.MetricKeyType<number, unknown>>(
  key: MetricKey.MetricKey<Type>,
  tags: ReadonlyArray<MetricLabel.MetricLabel>
): Hook =>
  Metric.globalMetricRegistry.get(MetricKey.taggedWithLabels(key, tags)) as MetricHook.MetricHook<number, unknown>

/**
 * The series a pool's requests move, found once per label and only when first moved (a
 * series looked up appears in snapshots).
 */
class Hooks {
  private idle: Hook | null = null
  private inUse: Hook | null = null
  private open: Hook | null = null
  private openIdle: Hook | null = null
  private openActive: Hook | null = null
  private readonly byClass: Array<Hook | null> = [null, null, null, null, null]
  constructor(private readonly label: LabelTagsBase) {}
  idleBy(delta: number): void {
    ;(this.idle ??= hookOf(connectionsIdleKey, this.label.tags)).modify(delta)
    ;(this.openIdle ??= hookOf(openConnectionsKey, this.label.openTags[0])).modify(delta)
  }
  inUseBy(delta: number): void {
    ;(this.inUse ??= hookOf(connectionsInUseKey, this.label.tags)).modify(delta)
    ;(this.openActive ??= hookOf(openConnectionsKey, this.label.openTags[1])).modify(delta)
  }
  openBy(delta: number): void {
    ;(this.open ??= hookOf(connectionsOpenKey, this.label.tags)).modify(delta)
  }
  response(index: number): void {
    ;(this.byClass[index] ??= hookOf(requestsKey, this.label.byClass[index]!)).update(1)
  }
}

/** @internal */
export const connectionDuration = Metric.histogram(
  "http.client.connection.duration",
  MetricBoundaries.fromIterable([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]),
  "Duration of outbound HTTP connections, from their socket's opening to its closing, in seconds"
)

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
  /**
   * A call ended on this pool: `http.client.request.duration`, from `started`
   * (`performance.now()` when the call began) to now, labelled by method and the final status
   * or the error's type (the tag of the error that decided it).
   */
  readonly duration: (method: string, outcome: number | { readonly _tag: string }, started: number) => void
}

/** The tag arrays of one `pool` label, and the hooks of its series, shared by every pool that carries it. */
interface LabelTags extends LabelTagsBase {
  readonly hooks: Hooks
}

interface LabelTagsBase {
  readonly tags: ReadonlyArray<MetricLabel.MetricLabel>
  readonly byReason: Readonly<
    Record<"error" | "closed" | "full" | "expired" | "evicted", ReadonlyArray<MetricLabel.MetricLabel>>
  >
  readonly byClass: ReadonlyArray<ReadonlyArray<MetricLabel.MetricLabel>>
  readonly tagsFor: (key: string, value: string) => ReadonlyArray<MetricLabel.MetricLabel>
  /** `http.client.connection.duration`'s tags. */
  readonly connectionTags: ReadonlyArray<MetricLabel.MetricLabel>
  /** `http.client.open_connections`'s tags: idle, then active. */
  readonly openTags: readonly [ReadonlyArray<MetricLabel.MetricLabel>, ReadonlyArray<MetricLabel.MetricLabel>]
  /** `http.client.request.duration`'s series for a method and a status (a number) or an error's tag. */
  readonly durationHook: (method: string, outcome: number | string) => Hook
}

/**
 * OpenTelemetry's `server.address`, `server.port` and `url.scheme` of a pool's label
 * (`scheme://host:port`, IPv6 in brackets); none for {@link OTHER_POOLS}.
 */
const serverLabels = (pool: string): Array<MetricLabel.MetricLabel> => {
  const sep = pool.indexOf("://")
  if (sep === -1) return []
  const scheme = pool.slice(0, sep)
  const hostPort = pool.slice(sep + 3)
  const colon = hostPort.lastIndexOf(":")
  const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, "$1")
  return [
    MetricLabel.make("server.address", host),
    MetricLabel.make("server.port", hostPort.slice(colon + 1)),
    MetricLabel.make("url.scheme", scheme)
  ]
}

const labelTags = (pool: string): LabelTags => {
  const label = MetricLabel.make(POOL_LABEL, pool)
  const byTag = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
  const server = serverLabels(pool)
  const protocol = MetricLabel.make("network.protocol.version", "1.1")
  // @effect/opentelemetry takes an instrument's unit from its `unit` label.
  const seconds = MetricLabel.make("unit", "s")
  const connections = MetricLabel.make("unit", "{connection}")
  // method -> status or error tag -> series: looked up without making a key string per request.
  const byOutcome = new Map<string, Map<number | string, Hook>>()
  const base: LabelTagsBase = {
    connectionTags: [...server, protocol, seconds],
    openTags: [
      [...server, MetricLabel.make("http.connection.state", "idle"), connections],
      [...server, MetricLabel.make("http.connection.state", "active"), connections]
    ],
    durationHook: (method, outcome) => {
      // Any other method is `_OTHER`, so a method cannot add series without bound.
      const name = KNOWN_METHODS.has(method) ? method : "_OTHER"
      let byMethod = byOutcome.get(name)
      if (byMethod === undefined) {
        byMethod = new Map()
        byOutcome.set(name, byMethod)
      }
      let found = byMethod.get(outcome)
      if (found === undefined) {
        const last =
          typeof outcome === "number"
            ? [MetricLabel.make("http.response.status_code", String(outcome))]
            : [MetricLabel.make("error.type", outcome)]
        if (typeof outcome === "number" && outcome >= 400) last.push(MetricLabel.make("error.type", String(outcome)))
        found = hookOf(requestDurationKey, [
          ...server,
          MetricLabel.make("http.request.method", name),
          protocol,
          ...last,
          seconds
        ])
        byMethod.set(outcome, found)
      }
      return found
    },
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
  return { ...base, hooks: new Hooks(base) }
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
  const { tags, byReason, byClass, tagsFor, hooks, durationHook } = tagsOf(pool)
  let lastIdle = 0
  let lastInUse = 0
  let lastDuration: Hook | null = null
  let lastMethod = ""
  let lastOutcome: number | string = 0
  // A record, not a literal: see `record`.
  return record<PoolMetrics>({
    opened: () => connectionsOpened.unsafeUpdate(1, tags),
    discarded: (reason) => connectionsDiscarded.unsafeUpdate(1, byReason[reason]),
    counts: (idle, inUse) => {
      const idleDelta = idle - lastIdle
      const inUseDelta = inUse - lastInUse
      lastIdle = idle
      lastInUse = inUse
      if (idleDelta !== 0) hooks.idleBy(idleDelta)
      if (inUseDelta !== 0) hooks.inUseBy(inUseDelta)
      if (idleDelta + inUseDelta !== 0) hooks.openBy(idleDelta + inUseDelta)
    },
    waited: (millis) => poolWait.unsafeUpdate(millis, tags),
    response: (status) => {
      const index = Math.floor(status / 100) - 1
      if (index >= 0 && index < byClass.length) hooks.response(index)
    },
    failed: (tag) => requestErrors.unsafeUpdate(1, tagsFor("error", tag)),
    retried: (reason) => retries.unsafeUpdate(1, tagsFor("reason", reason)),
    duration: (method, outcome, started) => {
      const key = typeof outcome === "number" ? outcome : errorType(outcome)
      // A pool's calls mostly end alike: the series of the last one is kept at hand.
      if (lastDuration === null || method !== lastMethod || key !== lastOutcome) {
        lastDuration = durationHook(method, key)
        lastMethod = method
        lastOutcome = key
      }
      lastDuration.update((performance.now() - started) / 1000)
    }
  })
}

/**
 * A connection of the pool labelled `pool` closed, its route up since `ready`
 * (`performance.now()`): `http.client.connection.duration`.
 *
 * @internal
 */
export const connectionClosed = (pool: string, ready: number): void =>
  connectionDuration.unsafeUpdate((performance.now() - ready) / 1000, tagsOf(pool).connectionTags)

const noTags: ReadonlyArray<MetricLabel.MetricLabel> = []

/** A pool was made (+1) or closed (-1) by a manager. @internal */
export const poolsChanged = (delta: number): void => pools.unsafeModify(delta, noTags)

/** Connections under a cap across pools opened (+1) or closed (-1). @internal */
export const limitOpened = (delta: number): void => limitOpen.unsafeModify(delta, noTags)

/** Requests waiting under a cap across pools: one more (+1) or one fewer (-1). @internal */
export const limitWaiters = (delta: number): void => limitWaiting.unsafeModify(delta, noTags)
