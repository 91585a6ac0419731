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
 * What a hop listens to on its socket while it waits: an error, an early close, the bytes of
 * a handshake, an event that says the socket is ready. `begin` runs once they are attached.
 *
 * @internal
 */
export interface Listening<S extends net.Socket> {
  readonly socket: S
  readonly onError: (error: Error) => void
  readonly onClose: () => void
  readonly onData?: (chunk: Buffer) => void
  readonly ready?: { readonly event: "connect" | "secureConnect"; readonly listener: () => void }
  readonly begin?: () => void
}

/**
 * One hop waiting on its socket, settled exactly once. `listen` gets `finish` and `settled`
 * and gives the socket and its listeners, which are attached now and detached when the hop
 * settles. `finish(null)` calls back with the socket; `finish(error)` destroys the socket and
 * `over` (the socket the hop runs over, when it made another) and calls back with the error;
 * cancelling finishes with the reason. A throw of `listen` (options that cannot be used)
 * fails the hop with `mapThrow`'s error on the next microtask.
 *
 * @internal
 */
export const listening =
  <S extends net.Socket>(options: {
    readonly listen: (finish: (error: Error | null) => void, settled: () => boolean) => Listening<S>
    readonly over: net.Socket | null
    readonly mapThrow: (error: unknown) => Error
  }): Dial =>
  (callback) => {
    let settled = false
    let attached: Listening<S> | null = null
    const finish = (error: Error | null) => {
      if (settled) return
      settled = true
      const listeners = attached
      if (listeners !== null) {
        const socket = listeners.socket
        socket.off("error", listeners.onError)
        socket.off("close", listeners.onClose)
        if (listeners.onData !== undefined) socket.off("data", listeners.onData)
        if (listeners.ready !== undefined) socket.off(listeners.ready.event, listeners.ready.listener)
      }
      if (error !== null) {
        abandon(listeners?.socket ?? null)
        abandon(options.over)
        callback(error, null)
      } else {
        callback(null, listeners?.socket ?? null)
      }
    }
    try {
      const listeners = options.listen(finish, () => settled)
      attached = listeners
      const socket = listeners.socket
      socket.on("error", listeners.onError)
      socket.once("close", listeners.onClose)
      if (listeners.onData !== undefined) socket.on("data", listeners.onData)
      if (listeners.ready !== undefined) socket.once(listeners.ready.event, listeners.ready.listener)
      listeners.begin?.()
    } catch (error) {
      queueMicrotask(() => finish(options.mapThrow(error)))
    }
    return (reason) => finish(reason)
  }

/**
 * The wait of one hop for its socket to be ready (`connect` for TCP, `secureConnect` for
 * TLS): calls back once, with the socket when `verify` finds nothing wrong, else with the
 * error; an error or an early close of the socket is mapped by `mapError`, a throw of `start`
 * by `mapStartError`. A failed hop destroys its socket and the one it runs over.
 *
 * @internal
 */
export const handshake = <S extends net.Socket>(options: {
  readonly start: () => S
  readonly ready: "connect" | "secureConnect"
  readonly mapError: (error: unknown) => Error
  readonly mapStartError: (error: unknown) => Error
  readonly verify: (socket: S) => Error | null
  readonly over: net.Socket | null
}): Dial =>
  listening({
    over: options.over,
    // Options that cannot be used (a bad source address, unreadable certificates) fail at once.
    mapThrow: options.mapStartError,
    listen: (finish) => {
      const socket = options.start()
      return {
        socket,
        onError: (error) => finish(options.mapError(error)),
        onClose: () =>
          finish(
            options.mapError(
              Object.assign(new Error("The connection was closed before it was established"), { code: "ECONNRESET" })
            )
          ),
        ready: { event: options.ready, listener: () => finish(options.verify(socket)) }
      }
    }
  })
