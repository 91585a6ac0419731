import * as Errors from "@httpool/core/Errors"
import type * as tls from "node:tls"

/** @internal */
export interface Options {
  readonly keepAliveTimeout?: number
  readonly keepAliveMaxTimeout?: number
  readonly keepAliveTimeoutThreshold?: number
  readonly highWaterMark?: number
  readonly maxHeaderSize?: number
  readonly maxRequestsPerConnection?: number | null
  readonly autoSelectFamily?: boolean
  readonly autoSelectFamilyAttemptTimeout?: number
  readonly tls?: tls.ConnectionOptions | null
}

/** @internal */
export interface Settings {
  readonly keepAliveTimeout: number
  readonly keepAliveMaxTimeout: number
  readonly keepAliveTimeoutThreshold: number
  readonly highWaterMark: number
  readonly maxHeaderSize: number
  /** Requests on one socket, the last one with `connection: close`; null: no limit. */
  readonly maxRequestsPerConnection: number | null
  /** net.connect's Happy Eyeballs (every address of a name tried, IPv6 and IPv4 interleaved). */
  readonly autoSelectFamily: boolean
  /** Milliseconds each address is given before the next one is tried too (Node's minimum is 10). */
  readonly autoSelectFamilyAttemptTimeout: number
  /** Raw `tls.connect` (and secure context) options under httpool's own TLS settings. */
  readonly tls: tls.ConnectionOptions | null
}

/** @internal */
export const defaultSettings: Settings = {
  keepAliveTimeout: 4_000,
  keepAliveMaxTimeout: 600_000,
  keepAliveTimeoutThreshold: 1_000,
  highWaterMark: 64 * 1024,
  maxHeaderSize: 64 * 1024,
  maxRequestsPerConnection: null,
  autoSelectFamily: true,
  autoSelectFamilyAttemptTimeout: 250,
  tls: null
}

const positive = (name: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) {
    throw new Errors.ValueError({ message: `NodeConnector option ${name} must be a positive number, got ${value}` })
  }
  return value
}

const maxRequests = (value: number | null | undefined): number | null => {
  if (value === undefined || value === null) return null
  if (!Number.isInteger(value) || value < 1) {
    throw new Errors.ValueError({
      message: `NodeConnector option maxRequestsPerConnection must be a positive integer, got ${value}`
    })
  }
  return value
}

/** @internal */
export const settingsOf = (options: Options): Settings => ({
  keepAliveTimeout: Math.ceil(positive("keepAliveTimeout", options.keepAliveTimeout, defaultSettings.keepAliveTimeout)),
  keepAliveMaxTimeout: Math.ceil(
    positive("keepAliveMaxTimeout", options.keepAliveMaxTimeout, defaultSettings.keepAliveMaxTimeout)
  ),
  keepAliveTimeoutThreshold:
    options.keepAliveTimeoutThreshold === undefined
      ? defaultSettings.keepAliveTimeoutThreshold
      : Math.max(0, options.keepAliveTimeoutThreshold),
  highWaterMark: Math.ceil(positive("highWaterMark", options.highWaterMark, defaultSettings.highWaterMark)),
  maxHeaderSize: Math.ceil(positive("maxHeaderSize", options.maxHeaderSize, defaultSettings.maxHeaderSize)),
  maxRequestsPerConnection: maxRequests(options.maxRequestsPerConnection),
  autoSelectFamily: options.autoSelectFamily ?? defaultSettings.autoSelectFamily,
  // Node refuses less than 10 ms.
  autoSelectFamilyAttemptTimeout: Math.max(
    10,
    Math.ceil(
      positive(
        "autoSelectFamilyAttemptTimeout",
        options.autoSelectFamilyAttemptTimeout,
        defaultSettings.autoSelectFamilyAttemptTimeout
      )
    )
  ),
  tls: options.tls ?? null
})
