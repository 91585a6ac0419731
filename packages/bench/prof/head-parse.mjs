// The floor of reading an answer's head in JavaScript, beside Node's llhttp (`HTTPParser`, as
// httpool's engine calls it): the bench's 64 B answer parsed in a loop, by llhttp with its
// callbacks into JavaScript, and by a strict reader of the common case (HTTP/1.1, a status of
// three digits, token names, values without control characters, no folding, one
// Content-Length) that checks what llhttp checks for such a head and gives up (returns null)
// on anything else. A prototype, to measure what a reader of httpool's own could save; it is
// checked against llhttp on a few heads first. Run: node packages/bench/prof/head-parse.mjs
import { HTTPParser } from "node:_http_common"

const head =
  "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 64\r\n" +
  "Date: Sun, 06 Dec 2026 22:50:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n"
const answer = Buffer.concat([Buffer.from(head, "latin1"), Buffer.alloc(64, 120)])

/** llhttp, as the engine sets it up: the head's callback, the body's, the message's end. */
const llhttp = () => {
  const parser = new HTTPParser()
  parser.initialize(HTTPParser.RESPONSE, {}, 64 * 1024, 0)
  let out = null
  parser[HTTPParser.kOnHeadersComplete | 0] = (_major, _minor, headers, _m, _u, status, reason, _up, keepAlive) => {
    out = { status, reason, headers, keepAlive, body: null }
    return 0
  }
  parser[HTTPParser.kOnBody | 0] = (chunk) => {
    out.body = chunk
  }
  parser[HTTPParser.kOnMessageComplete | 0] = () => {}
  return (bytes) => {
    out = null
    const r = parser.execute(bytes)
    return r instanceof Error ? r : out
  }
}

// RFC 9110 token characters, and the bytes a field value may hold (HTAB, SP, VCHAR, obs-text).
const TOKEN = new Uint8Array(256)
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TOKEN[c.charCodeAt(0)] = 1
const VALUE = new Uint8Array(256)
VALUE[9] = 1
for (let c = 32; c < 256; c++) if (c !== 127) VALUE[c] = 1

/** The strict reader: the same fields as llhttp's callbacks, or null to hand the bytes to llhttp. */
const strict = (bytes) => {
  const end = bytes.indexOf("\r\n\r\n")
  if (end < 0) return null
  // "HTTP/1.1 " DDD SP reason CRLF
  if (bytes[0] !== 72 || bytes.latin1Slice(0, 9) !== "HTTP/1.1 ") return null
  const d0 = bytes[9] - 48
  const d1 = bytes[10] - 48
  const d2 = bytes[11] - 48
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || bytes[12] !== 32) return null
  const status = d0 * 100 + d1 * 10 + d2
  if (status < 200 || status === 204 || status === 304) return null
  let at = 13
  while (at < end && bytes[at] !== 13) {
    if (VALUE[bytes[at]] === 0) return null
    at++
  }
  const reason = bytes.latin1Slice(13, at)
  const headers = []
  let length = -1
  let keepAlive = true
  at += 2
  while (at < end + 2) {
    const nameStart = at
    while (TOKEN[bytes[at]] === 1) at++
    if (at === nameStart || bytes[at] !== 58) return null
    const name = bytes.latin1Slice(nameStart, at)
    at++
    while (bytes[at] === 32 || bytes[at] === 9) at++
    const valueStart = at
    let valueEnd = at
    while (bytes[at] !== 13) {
      if (VALUE[bytes[at]] === 0) return null
      at++
      if (bytes[at - 1] !== 32 && bytes[at - 1] !== 9) valueEnd = at
    }
    if (bytes[at + 1] !== 10) return null
    const value = bytes.latin1Slice(valueStart, valueEnd)
    headers.push(name, value)
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      if (length !== -1 || !/^\d{1,15}$/.test(value)) return null
      length = Number(value)
    } else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") return null
    else if (name.length === 10 && name.toLowerCase() === "connection") {
      const token = value.toLowerCase()
      if (token === "close") keepAlive = false
      else if (token !== "keep-alive") return null
    } else if (name.length === 7 && name.toLowerCase() === "upgrade") return null
    at += 2
  }
  if (length === -1 || bytes.length < end + 4 + length) return null
  return { status, reason, headers, keepAlive, body: Buffer.from(bytes.subarray(end + 4, end + 4 + length)) }
}

// The reader agrees with llhttp where it answers, and gives up on what it does not handle.
const shown = (r) => JSON.stringify({ ...r, body: r.body === null ? "" : r.body.toString("latin1") })
const same = (a, b) => shown(a) === shown(b)
const heads = [
  answer,
  Buffer.from("HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\nX-A:  spaced  \r\nConnection: close\r\n\r\nno", "latin1"),
  Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "latin1")
]
for (const bytes of heads) {
  const a = strict(bytes)
  const b = llhttp()(bytes)
  if (a === null || b instanceof Error || !same(a, b))
    throw new Error(`disagree on ${JSON.stringify(bytes.latin1Slice(0, 40))}`)
}
for (const refused of [
  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n folded\r\n\r\nok",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
  "HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 2\r\n\r\nok"
]) {
  if (strict(Buffer.from(refused, "latin1")) !== null) throw new Error(`should give up on ${JSON.stringify(refused)}`)
}

const N = 1_000_000
const viaLlhttp = llhttp()
for (let round = 0; round < 3; round++) {
  for (const [name, read] of [
    ["llhttp", viaLlhttp],
    ["strict JavaScript reader", strict]
  ]) {
    let status = 0
    const started = performance.now()
    for (let i = 0; i < N; i++) status += read(answer).status
    const micros = ((performance.now() - started) * 1000) / N
    if (status !== 200 * N) throw new Error("wrong status")
    console.log(`${name}: ${micros.toFixed(2)} us per answer`)
  }
}
