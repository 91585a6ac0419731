import type * as Connector from "@httpool/core/Connector"
import * as Errors from "@httpool/core/Errors"
import type * as net from "node:net"
import type * as tls from "node:tls"
import { seconds } from "../errors.js"
import { andThen, type Dial } from "./dial.js"
import { httpConnect } from "./httpConnect.js"
import { socks } from "./socks.js"
import { defaultTcpOptions, type TcpOptions, tcp } from "./tcp.js"
import { tlsOver } from "./tls.js"
import { unix } from "./unix.js"

const asProxyError = (error: Error): Error =>
  error instanceof Errors.ProxyError
    ? error
    : Errors.isHttpoolError(error)
      ? Errors.unableToConnectToProxy(error)
      : new Errors.ProxyError({ message: `Unable to connect to proxy: ${error.message}`, error: null })

/** A place on the route: a proxy of a hop, or the target. */
interface Stop {
  readonly scheme: "http" | "https"
  readonly host: string
  readonly port: number
  readonly tls: Connector.TlsOptions | null
}

/** A hop's proxy as a place on the route (a SOCKS proxy is reached over plain TCP). */
const stopOf = (hop: Connector.Hop): Stop => (hop._tag === "Socks" ? { ...hop, scheme: "http", tls: null } : hop)

/** TLS to `stop` over `socket` when it speaks https; the socket itself otherwise. */
const secure = (stop: Stop, options: DialOptions) => (socket: net.Socket) =>
  stop.scheme === "https" ? tlsOver(socket, stop.host, stop.port, stop.tls, options.tls) : given(socket)

/** The connector's settings a route is dialed with. @internal */
export interface DialOptions {
  readonly tcp: Omit<TcpOptions, "socketOptions">
  /** Raw `tls.connect` options under httpool's own. */
  readonly tls: tls.ConnectionOptions | null
}

/** @internal */
export const defaultDialOptions: DialOptions = { tcp: defaultTcpOptions, tls: null }

/**
 * The first hop: the target's Unix domain socket, else TCP to the first stop. `plain`: the
 * socket is the whole route (see `TcpOptions.plain`).
 */
const first = (target: Connector.ConnectionTarget, stop: Stop, options: DialOptions, plain: boolean): Dial =>
  target.socketPath !== undefined && target.socketPath !== null
    ? unix(target.socketPath, plain)
    : tcp(stop.host, stop.port, target.sourceAddress, {
        ...options.tcp,
        socketOptions: target.socketOptions ?? null,
        plain
      })

/**
 * A route of one plain hop (TCP or a Unix socket, no TLS): its socket as it connected, handed
 * on in the same turn, as undici's own connector does (no stage to chain after it).
 */
const plain = (dial: Dial, onConnected: ((socket: net.Socket) => void) | undefined): Dial =>
  onConnected === undefined
    ? dial
    : (callback) =>
        dial((error, socket) => {
          if (error === null && socket !== null) onConnected(socket)
          callback(error, socket)
        })

const given =
  (socket: net.Socket): Dial =>
  (callback) => {
    queueMicrotask(() => callback(null, socket))
    return () => {}
  }

/**
 * Dials a connection's whole route: TCP to the first stop (the first hop's proxy, or the
 * target), TLS to it if it speaks https, then each hop in turn (a CONNECT to the next stop,
 * TLS to that stop if it speaks https), ending at the target. What fails before the last
 * hop's tunnel is up is a ProxyError naming the cause (the proxy unreachable, TLS to it, its
 * refusal, no answer in time); what fails after it fails as it would without a proxy. One
 * connect timeout covers the whole route.
 *
 * A hop kind is a case of `through` and a dial file of its own (`httpConnect.ts`, `socks.ts`).
 *
 * @internal
 */
export const dialRoute =
  (
    target: Connector.ConnectionTarget,
    options: DialOptions = defaultDialOptions,
    onConnected?: (socket: net.Socket) => void
  ): Dial =>
  (callback) => {
    const hops = target.route
    const stops: ReadonlyArray<Stop> = [...hops.map(stopOf), target]
    /** Every hop's tunnel is up: failures from here on are the target's. */
    let established = hops.length === 0
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const finish = (error: Error | null, socket: net.Socket | null) => {
      if (settled) return
      settled = true
      if (timer !== undefined) clearTimeout(timer)
      callback(error, socket)
    }

    const through = (hop: Connector.Hop, next: Stop) => (socket: net.Socket) => {
      switch (hop._tag) {
        case "HttpConnect":
          return httpConnect(socket, hop, next.host, next.port)
        case "Socks":
          return socks(socket, hop, next.host, next.port)
      }
    }

    let dial: Dial =
      hops.length === 0 && target.scheme !== "https"
        ? plain(first(target, stops[0], options, true), onConnected)
        : andThen(first(target, stops[0], options, false), (socket) => {
            onConnected?.(socket)
            return secure(stops[0], options)(socket)
          })
    for (let i = 0; i < hops.length; i++) {
      const last = i === hops.length - 1
      dial = andThen(dial, through(hops[i], stops[i + 1]))
      dial = andThen(dial, (socket) => {
        if (last) established = true
        return secure(stops[i + 1], options)(socket)
      })
    }
    const cancel = dial((error, socket) =>
      finish(error === null ? null : established ? error : asProxyError(error), socket)
    )

    const timeout = target.connectTimeout
    if (timeout !== null) {
      timer = setTimeout(
        () => {
          const error = established
            ? new Errors.ConnectTimeoutError({
                message: `Connection to ${target.host} timed out. (connect timeout=${seconds(timeout)})`
              })
            : new Errors.ProxyError({
                message: `Unable to connect to proxy: no tunnel within ${timeout} ms`,
                error: new Errors.ConnectTimeoutError({
                  message: `Connection to ${hops[0].host} timed out. (connect timeout=${seconds(timeout)})`
                })
              })
          // Settled first, so what the cancelled stage reports goes nowhere; cancelling
          // destroys the sockets of the route so far.
          finish(error, null)
          cancel(error)
        },
        Math.max(1, Math.ceil(timeout))
      )
    }
    return (reason) => {
      finish(reason, null)
      cancel(reason)
    }
  }
