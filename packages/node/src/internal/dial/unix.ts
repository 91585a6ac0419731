import * as Errors from "@httpool/core/Errors"
import * as net from "node:net"
import { describeOsError } from "../errors.js"
import { connectLending } from "../reads.js"
import { type Dial, handshake } from "./dial.js"

/**
 * The first hop of a pool on a Unix domain socket: a stream connection to `path`. A missing
 * socket, one nobody listens on, or one not allowed is a NewConnectionError naming the path.
 * A `plain` socket (straight to the HTTP/1.1 engine) reads into the shared buffer of `reads.ts`.
 *
 * @internal
 */
export const unix = (path: string, plain = false): Dial => {
  const mapError = (error: unknown) =>
    Errors.isHttpoolError(error)
      ? error
      : new Errors.NewConnectionError({
          message: `Failed to establish a new connection to unix socket ${path}: ${describeOsError(error)}`,
          cause: error
        })
  return handshake({
    start: () => (plain ? connectLending({ path }) : net.connect({ path })),
    ready: "connect",
    mapError,
    mapStartError: mapError,
    verify: () => null,
    over: null
  })
}
