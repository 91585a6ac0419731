/** @internal */
export interface PoolInfo {
  readonly scheme: string
  readonly host: string
  readonly port: number | null
}

/** @internal */
export const describePool = (pool: PoolInfo): string =>
  `${pool.scheme === "https" ? "HTTPSConnectionPool" : "HTTPConnectionPool"}(host='${pool.host}', port=${
    pool.port === null ? "None" : pool.port
  })`

/** @internal */
export const describeReason = (reason: { readonly _tag: string; readonly message: string }): string =>
  `${reason._tag}(${JSON.stringify(reason.message)})`

/** The userinfo of a URL with an authority: up to the last `@` before the path, query or fragment. */
const credentials = /^(\s*(?:[a-z][a-z0-9+.-]*:)?\/\/)[^/?#]*@/i
/** The userinfo of `user:password@host` written without a scheme. */
const bareCredentials = /^(\s*)[^/?#@:\s]+:[^/?#]*@/

/**
 * Removes `user:password@` from a URL so that no error, history entry or message carries
 * credentials: after leading whitespace, with or without a scheme, and up to the last `@` of
 * the authority (a password may contain `@`). The one redaction of httpool: every error and
 * retry history entry holding a URL stores it through this.
 *
 * @internal
 */
export const redactUrl = (url: string): string => {
  const redacted = url.replace(credentials, "$1")
  return redacted !== url ? redacted : url.replace(bareCredentials, "$1")
}

/**
 * Whether a TLS failure's text shows that the peer answered in plain HTTP (OpenSSL reads an
 * HTTP response as a record with a wrong version number).
 *
 * @internal
 */
export const looksLikePlainHttp = (message: string): boolean =>
  /WRONG_VERSION_NUMBER|wrong version number|packet length too long|http request/i.test(message)

/**
 * The error that decided a failure: a `MaxRetryError`'s `reason` (followed through nested
 * retries), a `ProxyError`'s underlying `error` is left as it is; anything else itself.
 *
 * @internal
 */
export const reason = <E>(error: E): unknown => {
  let current: unknown = error
  while (
    typeof current === "object" &&
    current !== null &&
    (current as { _tag?: unknown })._tag === "MaxRetryError" &&
    (current as { reason: unknown }).reason !== null
  ) {
    current = (current as { reason: unknown }).reason
  }
  return current
}

/** @internal */
export const hasReasonTag = (error: unknown, tags: ReadonlyArray<string>): boolean => {
  const r = reason(error)
  return typeof r === "object" && r !== null && tags.includes((r as { _tag: string })._tag)
}

/**
 * A pool as log annotations show it: `http://localhost:8080` (no port when it is unknown).
 *
 * @internal
 */
export const poolLabel = (pool: PoolInfo): string =>
  `${pool.scheme}://${pool.host.includes(":") ? `[${pool.host}]` : pool.host}${pool.port === null ? "" : `:${pool.port}`}`

/**
 * The annotations of every log line httpool writes, so that a logger can filter them:
 * `httpool.event` (`"pool.full"`, `"retry"`, ...) and `httpool.pool` (`poolLabel`), then
 * any event-specific fields (names starting with `httpool.`). Use as
 * `Effect.logDebug(message).pipe(Effect.annotateLogs(logAnnotations("pool.full", pool)))`:
 * built only when a line is logged, never on the hot path.
 *
 * @internal
 */
export const logAnnotations = (
  event: string,
  pool: PoolInfo,
  extra?: Readonly<Record<string, unknown>>
): Record<string, unknown> => ({ "httpool.event": event, "httpool.pool": poolLabel(pool), ...extra })

/**
 * OpenTelemetry's `error.type` of a failure: the tag of the error that decided it (a
 * MaxRetryError's reason), a small fixed set of names.
 *
 * @internal
 */
export const errorType = (error: { readonly _tag: string }): string => {
  const decided = reason(error)
  return typeof decided === "object" && decided !== null && typeof (decided as { _tag?: unknown })._tag === "string"
    ? (decided as { _tag: string })._tag
    : error._tag
}
