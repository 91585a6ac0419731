/**
 * A chaos origin: a raw TCP server speaking just enough HTTP/1.1 to answer each request
 * either properly or with one of the faults real peers commit. The fault of each request is
 * drawn from a seeded generator (print the seed; the same seed draws the same sequence of
 * faults), or forced by the request's `x-chaos-fault` header (for its first arrival; a
 * retry of the same request id is answered normally).
 *
 * Every proper answer carries the id of the request it answers (the last path segment of
 * `/r/<id>`), so a client can tell whether it was handed someone else's response.
 */
import type * as net from "node:net"
import * as zlib from "node:zlib"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Servers from "./servers.js"

/** What the origin does with one request. */
export type Fault =
  /** A 200 whose body carries the request id (Content-Length, chunked or gzip at random). */
  | "normal"
  /** Reads the request, then resets the connection (RST) before any response byte. */
  | "resetBeforeHeaders"
  /** Sends the head and half the body, then resets the connection. */
  | "resetMidBody"
  /** A normal answer, then closes the keep-alive connection a few milliseconds later while idle. */
  | "closeIdleEarly"
  /** A chunked body cut off after its first chunk (FIN, no last chunk). */
  | "truncatedChunked"
  /** Content-Length larger than the bytes sent before the FIN. */
  | "shortContentLength"
  /** Reads the request and never answers. */
  | "stall"
  /** A 200 with 80 KiB of headers. */
  | "oversizedHeaders"
  /** A status line that is not HTTP. */
  | "invalidStatusLine"
  /** Both Content-Length (too short) and `Transfer-Encoding: chunked`. */
  | "contentLengthAndChunked"
  /** A normal answer with `Connection: close`, then the FIN. */
  | "connectionClose"
  /** A normal answer, then an unsolicited 408 and a FIN a few milliseconds later while idle. */
  | "idle408"
  /** `Content-Encoding: gzip` over bytes that are not gzip. */
  | "corruptGzip"
  /** `Content-Encoding: gzip` over 64 MiB of zeros (64 KiB on the wire). */
  | "gzipBomb"

/** Every fault, in a fixed order. */
export const faults: ReadonlyArray<Fault> = [
  "normal",
  "resetBeforeHeaders",
  "resetMidBody",
  "closeIdleEarly",
  "truncatedChunked",
  "shortContentLength",
  "stall",
  "oversizedHeaders",
  "invalidStatusLine",
  "contentLengthAndChunked",
  "connectionClose",
  "idle408",
  "corruptGzip",
  "gzipBomb"
]

/** Faults whose answer is complete and correct (any trouble comes after it). */
export const answeredFaults: ReadonlySet<Fault> = new Set(["normal", "closeIdleEarly", "connectionClose", "idle408"])

/** Faults whose head is correct but whose body is cut short: a streamed reader sees a ProtocolError. */
export const bodyFaults: ReadonlySet<Fault> = new Set(["resetMidBody", "truncatedChunked", "shortContentLength"])

/** Faults whose body arrives whole but does not decode: a DecodeError, never retried. */
export const decodeFaults: ReadonlySet<Fault> = new Set(["corruptGzip", "gzipBomb"])

/** The default weights: mostly proper answers, every fault a few percent. */
export const defaultWeights: Readonly<Record<Fault, number>> = {
  normal: 60,
  resetBeforeHeaders: 3,
  resetMidBody: 3,
  closeIdleEarly: 5,
  truncatedChunked: 3,
  shortContentLength: 3,
  stall: 1,
  oversizedHeaders: 2,
  invalidStatusLine: 2,
  contentLengthAndChunked: 2,
  connectionClose: 5,
  idle408: 5,
  corruptGzip: 1,
  gzipBomb: 0.5
}

/** One request as the origin received it. */
export interface Arrival {
  readonly id: string
  readonly method: string
  readonly fault: Fault
}

/** The shared record of several origins: what arrived, in order, per request id. */
export interface Ledger {
  readonly seed: number
  /** The faults applied to each request id, in arrival order (empty when not recording). */
  readonly arrivals: Map<string, Array<Arrival>>
  /** Whether `arrivals` is kept (a long soak only counts). */
  readonly record: boolean
  /** The number of requests received, by fault. */
  readonly counts: Map<Fault, number>
  /** Draws the next fault. */
  readonly draw: () => Fault
}

/** A small, fast, seedable generator (mulberry32): the same seed gives the same sequence. */
export const prng = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed of a run: `CHAOS_SEED` from the environment when set, else a random one. */
export const seedFromEnv = (): number => {
  const fromEnv = Number(process.env.CHAOS_SEED)
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1
}

/** A ledger drawing faults with `weights` from `seed`; `record: false` keeps counts only. */
export const makeLedger = (
  seed: number,
  weights: Readonly<Record<Fault, number>> = defaultWeights,
  record = true
): Ledger => {
  const random = prng(seed)
  const table = faults.filter((fault) => weights[fault] > 0)
  const total = table.reduce((sum, fault) => sum + weights[fault], 0)
  return {
    seed,
    record,
    arrivals: new Map(),
    counts: new Map(),
    draw: () => {
      let x = random() * total
      for (const fault of table) {
        x -= weights[fault]
        if (x < 0) return fault
      }
      return "normal"
    }
  }
}

/** The body of a proper answer to request `id`: the id, filler, and an end mark. */
export const bodyFor = (id: string): string => {
  const size = (Number.parseInt(id.replace(/\D/g, "").slice(-4) || "0", 10) * 7) % 4096
  return `id=${id};${"x".repeat(size)};end`
}

/** The request id a proper answer names, or null when the body is not a proper answer. */
export const idOf = (body: string): string | null => {
  const match = /^id=([^;]*);x*;end$/.exec(body)
  return match === null ? null : match[1]!
}

/** A running chaos origin. */
export interface ChaosOrigin extends Servers.SocketCounts {
  readonly port: number
  readonly url: string
}

const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 })
const oversized = Array.from({ length: 80 }, (_, i) => `X-Filler-${i}: ${"f".repeat(1000)}\r\n`).join("")

interface Parsed {
  readonly method: string
  readonly id: string
  readonly forced: Fault | null
  readonly length: number
}

/** The request line and the headers the origin needs, or null while the head is incomplete. */
const parseHead = (head: string): Parsed => {
  const lines = head.split("\r\n")
  const [method = "", target = ""] = lines[0]!.split(" ")
  let length = 0
  let forced: Fault | null = null
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i]!.indexOf(":")
    if (colon < 0) continue
    const name = lines[i]!.slice(0, colon).trim().toLowerCase()
    const value = lines[i]!.slice(colon + 1).trim()
    if (name === "content-length") length = Number(value)
    else if (name === "x-chaos-fault" && (faults as ReadonlyArray<string>).includes(value)) forced = value as Fault
  }
  const id = target.slice(target.lastIndexOf("/") + 1)
  return { method, id, forced, length }
}

const head = (status: string, fields: ReadonlyArray<string>): string =>
  `HTTP/1.1 ${status}\r\n${fields.join("\r\n")}\r\n\r\n`

/** Writes a proper answer to `id`, framed one of three ways. */
const answer = (socket: net.Socket, id: string, random: () => number, extra: ReadonlyArray<string> = []) => {
  const body = Buffer.from(bodyFor(id))
  const how = random()
  if (how < 0.6) {
    socket.write(head("200 OK", [`Content-Length: ${body.length}`, ...extra]) + body.toString("latin1"), "latin1")
  } else if (how < 0.85) {
    const half = body.length >> 1
    socket.write(head("200 OK", ["Transfer-Encoding: chunked", ...extra]), "latin1")
    socket.write(`${half.toString(16)}\r\n`)
    socket.write(body.subarray(0, half))
    socket.write(`\r\n${(body.length - half).toString(16)}\r\n`)
    socket.write(body.subarray(half))
    socket.write("\r\n0\r\n\r\n")
  } else {
    const gz = zlib.gzipSync(body)
    socket.write(head("200 OK", [`Content-Length: ${gz.length}`, "Content-Encoding: gzip", ...extra]), "latin1")
    socket.write(gz)
  }
}

/**
 * Starts a chaos origin on 127.0.0.1 recording into `ledger`; every socket is destroyed
 * when the Scope closes.
 */
export const origin = (ledger: Ledger): Effect.Effect<ChaosOrigin, never, Scope.Scope> => {
  // Framing choices and timer delays come from their own generator, so that the fault
  // sequence depends on the seed alone.
  const random = prng(ledger.seed ^ 0x5bd1e995)
  const onSocket = (socket: net.Socket) => {
    let buffered: Buffer = Buffer.alloc(0)
    let busy = false
    let idleTimer: ReturnType<typeof setTimeout> | null = null
    const later = (f: () => void) => {
      idleTimer = setTimeout(
        () => {
          idleTimer = null
          if (buffered.length === 0 && !busy) f()
        },
        1 + Math.floor(random() * 20)
      )
    }
    const handle = (request: Parsed) => {
      const list = ledger.arrivals.get(request.id)
      // A forced fault is for the first arrival only: a retry of the request is answered.
      const fault = request.forced === null ? ledger.draw() : list === undefined ? request.forced : "normal"
      ledger.counts.set(fault, (ledger.counts.get(fault) ?? 0) + 1)
      const arrival: Arrival = { id: request.id, method: request.method, fault }
      if (ledger.record) {
        if (list === undefined) ledger.arrivals.set(request.id, [arrival])
        else list.push(arrival)
      }
      const body = Buffer.from(bodyFor(request.id))
      switch (fault) {
        case "normal":
          answer(socket, request.id, random)
          return true
        case "resetBeforeHeaders":
          socket.resetAndDestroy()
          return false
        case "resetMidBody":
          socket.write(head("200 OK", [`Content-Length: ${body.length}`]), "latin1")
          socket.write(body.subarray(0, body.length >> 1), () => socket.resetAndDestroy())
          return false
        case "closeIdleEarly":
          answer(socket, request.id, random)
          later(() => socket.end())
          return true
        case "truncatedChunked":
          socket.write(head("200 OK", ["Transfer-Encoding: chunked"]), "latin1")
          socket.write(`${(body.length >> 1).toString(16)}\r\n`)
          socket.end(body.subarray(0, body.length >> 1))
          return false
        case "shortContentLength":
          socket.write(head("200 OK", [`Content-Length: ${body.length + 100}`]), "latin1")
          socket.end(body)
          return false
        case "stall":
          return false
        case "oversizedHeaders":
          socket.write(`HTTP/1.1 200 OK\r\n${oversized}Content-Length: ${body.length}\r\n\r\n`, "latin1")
          socket.end(body)
          return false
        case "invalidStatusLine":
          socket.end(`SMTP/2.0 OK READY\r\nContent-Length: ${body.length}\r\n\r\n${body.toString("latin1")}`, "latin1")
          return false
        case "contentLengthAndChunked":
          socket.write(head("200 OK", ["Content-Length: 5", "Transfer-Encoding: chunked"]), "latin1")
          socket.end(`${body.length.toString(16)}\r\n${body.toString("latin1")}\r\n0\r\n\r\n`, "latin1")
          return false
        case "connectionClose":
          answer(socket, request.id, random, ["Connection: close"])
          socket.end()
          return false
        case "idle408":
          answer(socket, request.id, random)
          later(() => socket.end(head("408 Request Timeout", ["Connection: close", "Content-Length: 0"]), "latin1"))
          return true
        case "corruptGzip":
          socket.write(head("200 OK", ["Content-Length: 64", "Content-Encoding: gzip"]), "latin1")
          socket.write(Buffer.alloc(64, 0x5a))
          return true
        case "gzipBomb":
          socket.write(head("200 OK", [`Content-Length: ${bomb.length}`, "Content-Encoding: gzip"]), "latin1")
          socket.write(bomb)
          return true
      }
    }
    const pump = () => {
      // Once the origin has closed its side (an idle close, a 408), it takes no more requests.
      while (!busy && !socket.destroyed && !socket.writableEnded) {
        const end = buffered.indexOf("\r\n\r\n")
        if (end < 0) return
        const request = parseHead(buffered.subarray(0, end).toString("latin1"))
        if (buffered.length < end + 4 + request.length) return
        buffered = buffered.subarray(end + 4 + request.length)
        busy = true
        // A fault that ends the exchange leaves the socket busy: nothing more is read from it.
        if (handle(request)) busy = false
      }
    }
    socket.on("data", (chunk: Buffer) => {
      if (idleTimer !== null) {
        clearTimeout(idleTimer)
        idleTimer = null
      }
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      pump()
    })
    socket.on("close", () => {
      if (idleTimer !== null) clearTimeout(idleTimer)
    })
  }
  return Effect.map(Servers.raw(onSocket), (server) => ({
    ...server,
    url: `http://127.0.0.1:${server.port}`
  }))
}
