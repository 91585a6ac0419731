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

/**
 * The wait of one hop for its socket to be ready (`connect` for TCP, `secureConnect` for
 * TLS): calls back once, with the socket when `verify` finds nothing wrong, else with the
 * error; an error or an early close of the socket is mapped by `mapError`, a throw of `start`
 * by `mapStartError`. A failed hop destroys its socket and the one it runs over.
 *
 * @internal
 */
export const handshake =
  <S extends net.Socket>(options: {
    readonly start: () => S
    readonly ready: "connect" | "secureConnect"
    readonly mapError: (error: unknown) => Error
    readonly mapStartError: (error: unknown) => Error
    readonly verify: (socket: S) => Error | null
    readonly over: net.Socket | null
  }): Dial =>
  (callback) => {
    let settled = false
    let socket: S | null = null
    const finish = (error: Error | null) => {
      if (settled) return
      settled = true
      if (socket !== null) {
        socket.off("error", onError)
        socket.off("close", onClose)
        socket.off(options.ready, onReady)
      }
      if (error !== null) {
        abandon(socket)
        abandon(options.over)
        callback(error, null)
      } else {
        callback(null, socket)
      }
    }
    const onError = (error: unknown) => finish(options.mapError(error))
    const onClose = () =>
      finish(
        options.mapError(
          Object.assign(new Error("The connection was closed before it was established"), { code: "ECONNRESET" })
        )
      )
    const onReady = () => finish(options.verify(socket!))
    try {
      socket = options.start()
      socket.on("error", onError)
      socket.once("close", onClose)
      socket.once(options.ready, onReady)
    } catch (error) {
      // Options that cannot be used (a bad source address, unreadable certificates) fail at once.
      queueMicrotask(() => finish(options.mapStartError(error)))
    }
    return (reason) => finish(reason)
  }
