import type * as net from "node:net"

/** Called once, with the socket or the reason there is none. @internal */
export type Callback = (error: Error | null, socket: net.Socket | null) => void

/**
 * Opens (or goes on over) a socket and calls back exactly once; the returned function
 * cancels a dial still in progress: its sockets are destroyed and the callback gets `reason`.
 * A connection's route is a sequence of these (TCP, TLS, a CONNECT tunnel), see `route.ts`.
 *
 * @internal
 */
export type Dial = (callback: Callback) => (reason: Error) => void

const noop = () => {}

/** Destroys a socket, whatever it still reports going nowhere. @internal */
export const abandon = (socket: net.Socket | null): void => {
  socket?.on("error", noop).destroy()
}

/**
 * `first`, then `next` over the socket it gave: cancelling cancels the stage running, and a
 * failure of `next` abandons the socket of `first`.
 *
 * @internal
 */
export const andThen =
  (first: Dial, next: (socket: net.Socket) => Dial): Dial =>
  (callback) => {
    let settled = false
    let cancel: (reason: Error) => void = noop
    let held: net.Socket | null = null
    const finish = (error: Error | null, socket: net.Socket | null) => {
      if (settled) return
      settled = true
      if (error !== null) abandon(held)
      callback(error, socket)
    }
    cancel = first((error, socket) => {
      if (settled) {
        abandon(socket)
        return
      }
      if (error !== null || socket === null) return finish(error ?? new Error("no socket"), null)
      held = socket
      cancel = next(socket)((nextError, nextSocket) => {
        if (nextError !== null || nextSocket === null) finish(nextError ?? new Error("no socket"), null)
        else finish(null, nextSocket)
      })
    })
    return (reason) => {
      const stage = cancel
      finish(reason, null)
      stage(reason)
    }
  }
