import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as ConnectionPool from "../ConnectionPool.js"
import { type HttpoolError, ValueError } from "../Errors.js"
import * as Fields from "../Fields.js"
import * as Headers from "../Headers.js"
import * as internalFields from "./fields.js"

/** Methods whose fields go into the query string rather than the body. @internal */
export const ENCODE_URL_METHODS: ReadonlySet<string> = new Set(["DELETE", "GET", "HEAD", "OPTIONS"])

/** @internal */
export type AnyUrlopen = (
  method: string,
  url: string,
  options: ConnectionPool.UrlopenOptions
) => Effect.Effect<unknown, HttpoolError, Scope.Scope>

/** The request methods of a service whose methods fail with `E`. @internal */
export interface RequestMethods<E> {
  readonly request: ConnectionPool.RequestMethod<ConnectionPool.RequestOptions, E>
  readonly requestEncodeUrl: ConnectionPool.RequestMethod<ConnectionPool.RequestOptions, E>
  readonly requestEncodeBody: ConnectionPool.RequestMethod<ConnectionPool.RequestOptions, E>
}

const encoder = new TextEncoder()

/** The options of a call given none: one shared value, not an object per call. @internal */
export const NO_OPTIONS: ConnectionPool.RequestOptions = Object.freeze({})

const withoutRequestFields = (options: ConnectionPool.RequestOptions): ConnectionPool.UrlopenOptions => {
  if (
    options.fields === undefined &&
    options.json === undefined &&
    options.encodeMultipart === undefined &&
    options.multipartBoundary === undefined
  ) {
    return options
  }
  const { fields: _fields, json: _json, encodeMultipart: _multipart, multipartBoundary: _boundary, ...rest } = options
  return rest
}

/**
 * urllib3's `RequestMethods` over any `urlopen`: `request` chooses by method, `json` is
 * serialised, `fields` go into the query or the body. Shared by ConnectionPool and PoolManager,
 * each naming what its methods fail with as `E` (`ConnectionPool.UrlopenError`,
 * `PoolManager.UrlopenError`): what `urlopen` fails with, plus the `ValueError` and
 * `InvalidHeader` of encoding fields or json, which both include.
 *
 * @internal
 */
export const make = <E extends HttpoolError>(
  urlopen: AnyUrlopen,
  defaultHeaders: () => Headers.Headers
): RequestMethods<E> => {
  const requestEncodeUrl = (method: string, url: string, options: ConnectionPool.RequestOptions = NO_OPTIONS) =>
    urlopen(
      method,
      options.fields === undefined ? url : Fields.appendToUrl(url, options.fields),
      withoutRequestFields(options)
    )

  const requestEncodeBody = (method: string, url: string, options: ConnectionPool.RequestOptions = NO_OPTIONS) =>
    Effect.suspend(() => {
      const rest = withoutRequestFields(options)
      if (options.fields === undefined || Fields.isEmpty(options.fields)) return urlopen(method, url, rest)
      if (options.body !== undefined && options.body !== null) {
        return Effect.fail(
          new ValueError({ message: "request got values for both 'fields' and 'body', can only specify one." })
        )
      }
      return Effect.flatMap(Headers.fromInput(options.headers ?? defaultHeaders()), (headers) => {
        if (options.encodeMultipart === false) {
          return urlopen(method, url, {
            ...rest,
            body: Fields.encodeUrlencoded(options.fields!),
            headers: Headers.setIfAbsent(headers, "Content-Type", "application/x-www-form-urlencoded")
          })
        }
        const refused = internalFields.checkMultipart(options.fields!)
        if (refused !== null) return Effect.fail(refused)
        const multipart = Fields.encodeMultipart(options.fields!, options.multipartBoundary)
        return urlopen(method, url, {
          ...rest,
          body: multipart.body,
          headers: Headers.setIfAbsent(headers, "Content-Type", multipart.contentType)
        })
      })
    })

  const request = (method: string, url: string, options: ConnectionPool.RequestOptions = NO_OPTIONS) => {
    // Without json nothing here can fail or needs deferring: the common call adds no step.
    if (options.json === undefined) {
      const upper = method.toUpperCase()
      return ENCODE_URL_METHODS.has(upper)
        ? requestEncodeUrl(upper, url, options)
        : requestEncodeBody(upper, url, options)
    }
    return requestWithJson(method, url, options)
  }

  const requestWithJson = (method: string, url: string, options: ConnectionPool.RequestOptions) =>
    Effect.suspend(() => {
      const upper = method.toUpperCase()
      let effective = options
      if (options.json !== undefined) {
        if (options.body !== undefined && options.body !== null) {
          return Effect.fail(
            new ValueError({
              message: "request got values for both 'body' and 'json' parameters which are mutually exclusive"
            })
          )
        }
        const text = JSON.stringify(options.json)
        if (text === undefined) {
          return Effect.fail(new ValueError({ message: "the json value cannot be serialised to JSON" }))
        }
        const headers = Headers.fromInput(options.headers ?? defaultHeaders())
        if (headers._tag === "Left") return Effect.fail(headers.left)
        effective = {
          ...options,
          json: undefined,
          body: encoder.encode(text),
          headers: Headers.setIfAbsent(headers.right, "Content-Type", "application/json")
        }
      }
      return ENCODE_URL_METHODS.has(upper)
        ? requestEncodeUrl(upper, url, effective)
        : requestEncodeBody(upper, url, effective)
    })

  return {
    request: request as RequestMethods<E>["request"],
    requestEncodeUrl: requestEncodeUrl as RequestMethods<E>["requestEncodeUrl"],
    requestEncodeBody: requestEncodeBody as RequestMethods<E>["requestEncodeBody"]
  }
}
