import * as Errors from "@httpool/core/Errors"

/** @internal */
export interface Options {
  readonly keepAliveTimeout?: number
  readonly keepAliveMaxTimeout?: number
  readonly keepAliveTimeoutThreshold?: number
  readonly highWaterMark?: number
  readonly maxHeaderSize?: number
}

/** @internal */
export interface Settings {
  readonly keepAliveTimeout: number
  readonly keepAliveMaxTimeout: number
  readonly keepAliveTimeoutThreshold: number
  readonly highWaterMark: number
  readonly maxHeaderSize: number
}

/** @internal */
export const defaultSettings: Settings = {
  keepAliveTimeout: 4_000,
  keepAliveMaxTimeout: 600_000,
  keepAliveTimeoutThreshold: 1_000,
  highWaterMark: 64 * 1024,
  maxHeaderSize: 64 * 1024
}

const positive = (name: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) {
    throw new Errors.ValueError({ message: `NodeConnector option ${name} must be a positive number, got ${value}` })
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
  maxHeaderSize: Math.ceil(positive("maxHeaderSize", options.maxHeaderSize, defaultSettings.maxHeaderSize))
})
