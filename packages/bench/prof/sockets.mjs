// CPU per request with sockets, httpool's PoolManager beside undici's Pool, 64 B GETs at
// concurrency 16 against a node:http server in a child process, in one process each (not
// pinned: for profiles, not for ratios; `npm run bench` measures those). Run after
// `npm run build`:
//
//   node packages/bench/prof/sockets.mjs              # W=httpool (default), pool, undici, floor, h1, raw,
//                                                     #   httpclient or httpclient-untraced
//   N=4000 node --cpu-prof packages/bench/prof/sockets.mjs
//   W=floor C=64 node packages/bench/prof/sockets.mjs   # C: concurrency (16)
//   PIN=1 node packages/bench/prof/sockets.mjs   # client and server pinned to a core each
//   SLICES=10 PIN=1 node packages/bench/prof/sockets.mjs   # 10 measured stretches in one process, each printed
//   SERVER=fixed PIN=1 node packages/bench/prof/sockets.mjs   # a net server answering fixed bytes, not node:http
//   ALLOC=1 node packages/bench/prof/sockets.mjs   # also bytes allocated per request, by site
//   ALLOC=kept node packages/bench/prof/sockets.mjs   # only what outlived young collections
//   WARM=60000 C=1 node packages/bench/prof/sockets.mjs   # requests per worker before measuring (2000)
//   W=h1 ONREAD=1 node packages/bench/prof/sockets.mjs   # the prototype reading into one buffer per socket
//   W=h1 HEADBUF=1 node packages/bench/prof/sockets.mjs  # the prototype writing a cached Buffer, not a string
//   W=h1 BATCH=1 node packages/bench/prof/sockets.mjs    # the prototype writing a turn's heads together
//
// `prof/instructions.mjs` runs these clients under valgrind and counts their instructions.
//
// Besides CPU (its user and system parts: the system part is the kernel's work on the
// sockets), req/s and GC, it prints how often the client and the server processes went to
// sleep and were woken per 100 requests, and the server's CPU per request.
//
// W=floor is the least an Effect client over undici can do: one Effect.async per request
// around Client.dispatch, the connection taken and given back in the handler's callbacks.
// W=raw is beneath any client: the same bytes on plain sockets, the answer cut by its
// Content-Length (what undici's own parsing and bookkeeping cost is the gap to W=floor).
import * as PoolManager from "@httpool/core/PoolManager"
import * as NodePoolManager from "@httpool/node/NodePoolManager"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { execFileSync, fork } from "node:child_process"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { Client, Pool } from "undici"
import { sampleAllocations, watchCollections } from "./allocations.mjs"
if (process.argv[2] === "server" && process.env.SERVER === "fixed") {
  // SERVER=fixed: a net server that answers every request head (a GET: no body) with the
  // same bytes node:http's server would send, without parsing it: a server cheap enough that
  // the client, not the server, sets the pace.
  const net = await import("node:net")
  const answer = Buffer.from(
    `HTTP/1.1 200 OK\r\ncontent-length: 64\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n${"x".repeat(64)}`,
    "latin1"
  )
  const server = net.createServer((socket) => {
    socket.setNoDelay(true)
    // The end of the last chunk, for a head's blank line cut between two reads.
    let tail = ""
    socket.on("data", (data) => {
      const text = tail + data.toString("latin1")
      let heads = 0
      for (let i = text.indexOf("\r\n\r\n"); i !== -1; i = text.indexOf("\r\n\r\n", i + 4)) heads++
      tail = text.slice(-3)
      if (heads === 1) socket.write(answer)
      else if (heads > 1) socket.write(Buffer.concat(Array.from({ length: heads }, () => answer)))
    })
    socket.on("error", () => {})
  })
  server.listen(0, "127.0.0.1", () => process.send(server.address().port))
} else if (process.argv[2] === "server") {
  const http = await import("node:http")
  const body = Buffer.alloc(64, 120)
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-length": 64 })
    res.end(body)
  })
  server.listen(0, "127.0.0.1", () => process.send(server.address().port))
} else {
  const child = fork(fileURLToPath(import.meta.url), ["server"])
  const port = await new Promise((resolve) => child.once("message", resolve))
  if (process.env.PIN === "1") {
    // The client on core 0, the server on core 1: steadier figures on a quiet machine.
    execFileSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)], { stdio: "ignore" })
    execFileSync("taskset", ["-a", "-p", "-c", "1", String(child.pid)], { stdio: "ignore" })
  }
  const url = `http://127.0.0.1:${port}/x`
  const N = Number(process.env.N ?? 3000)
  const C = Number(process.env.C ?? 16)
  let run
  /** C fibers, each running `one` n times in a row, through `runPromise`. */
  const fibers = (one, runPromise) => (n) =>
    runPromise(
      Effect.all(
        Array.from({ length: C }, () =>
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) yield* one
          })
        ),
        { concurrency: "unbounded", discard: true }
      )
    )
  if (process.env.W === "undici") {
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: C })
    // H=1: with the headers httpool sends (urllib3's defaults), which undici's Request pushes
    // onto an array of its own per request.
    const headers = process.env.H === "1" ? ["Accept-Encoding", "identity", "User-Agent", "httpool/0.1.0"] : null
    const worker = async (n) => {
      for (let i = 0; i < n; i++) {
        const r = await pool.request(
          headers === null ? { path: "/x", method: "GET" } : { path: "/x", method: "GET", headers }
        )
        await r.body.arrayBuffer()
      }
    }
    run = (n) => Promise.all(Array.from({ length: C }, () => worker(n)))
  } else if (process.env.W === "raw") {
    // No HTTP client at all: each of C sockets writes the bytes httpool sends (urllib3's
    // default headers) and reads the answer by its Content-Length. Not a client (no parser
    // worth the name, no errors handled): the cost of the sockets themselves, beneath undici.
    const net = await import("node:net")
    const head = `GET /x HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nAccept-Encoding: identity\r\nUser-Agent: python-urllib3/2.7.0\r\n\r\n`
    const sockets = await Promise.all(
      Array.from(
        { length: C },
        () =>
          new Promise((resolve) => {
            const socket = net.connect(port, "127.0.0.1", () => resolve(socket))
            socket.setNoDelay(true)
          })
      )
    )
    const one = (socket) =>
      new Promise((resolve) => {
        let received = null
        const onData = (chunk) => {
          received = received === null ? chunk : Buffer.concat([received, chunk])
          const end = received.indexOf("\r\n\r\n")
          if (end < 0) return
          const length = Number(/content-length: *(\d+)/i.exec(received.latin1Slice(0, end))[1])
          if (received.length < end + 4 + length) return
          socket.off("data", onData)
          resolve(received.subarray(end + 4, end + 4 + length))
        }
        socket.on("data", onData)
        socket.write(head, "latin1")
      })
    const worker = async (socket, n) => {
      for (let i = 0; i < n; i++) await one(socket)
    }
    run = (n) => Promise.all(sockets.map((socket) => worker(socket, n)))
  } else if (process.env.W === "h1") {
    // The floor of an Effect client on an HTTP/1.1 engine of its own, without undici's
    // Client: C keep-alive sockets, each with Node's native llhttp parser (`HTTPParser`, the
    // one node:http uses), the request head written as one latin1 string, one Effect.async
    // per request, the connection taken and given back synchronously in the parser's
    // callbacks, the canceler dropping the connection. A prototype (no request bodies, no
    // errors mapped), to show what such an engine could cost.
    const net = await import("node:net")
    const { HTTPParser } = await import("node:_http_common")
    const h1Headers = process.env.H === "1" ? "Accept-Encoding: identity\r\nUser-Agent: httpool/0.1.0\r\n" : ""
    const head = `GET /x HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${h1Headers}\r\n`
    const headBuffer = process.env.HEADBUF === "1" ? Buffer.from(head, "latin1") : null
    const kOnHeadersComplete = HTTPParser.kOnHeadersComplete | 0
    const kOnBody = HTTPParser.kOnBody | 0
    const kOnMessageComplete = HTTPParser.kOnMessageComplete | 0
    class H1 {
      resume = null
      status = 0
      headers = null
      chunks = []
      constructor(socket) {
        this.socket = socket
        const parser = new HTTPParser()
        parser.initialize(HTTPParser.RESPONSE, {}, 0, 0)
        parser[kOnHeadersComplete] = (_major, _minor, headers, _method, _url, status) => {
          this.status = status
          this.headers = headers
          return 0
        }
        parser[kOnBody] = (chunk) => {
          this.chunks.push(process.env.ONREAD === "1" ? Buffer.from(chunk) : chunk)
        }
        parser[kOnMessageComplete] = () => {
          const resume = this.resume
          const chunks = this.chunks
          this.resume = null
          this.chunks = []
          const next = waiting.shift()
          if (next) this.send(next)
          else idle.push(this)
          resume(
            Effect.succeed({
              status: this.status,
              headers: this.headers,
              body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
            })
          )
        }
        if (process.env.ONREAD === "1") {
          // ONREAD=1: the socket reads into one buffer of its own, reused for every read
          // (net.connect's onread); a body piece that outlives the read is copied.
          this.onread = (n, buffer) => {
            const r = parser.execute(buffer.subarray(0, n))
            if (r instanceof Error) socket.destroy(r)
          }
        } else if (process.env.CONSUME === "1") {
          // CONSUME=1: the parser reads the socket's handle itself (as node:http's server does).
          parser[HTTPParser.kOnExecute | 0] = (r) => {
            if (r instanceof Error) socket.destroy(r)
          }
          parser.consume(socket._handle)
        } else {
          socket.on("data", (data) => {
            const r = parser.execute(data)
            if (r instanceof Error) socket.destroy(r)
          })
        }
      }
      send(resume) {
        this.resume = resume
        // BATCH=1: the heads of a loop turn written together at its end (setImmediate), as
        // httpool's engine writes them while other requests wait for their answers.
        if (process.env.BATCH === "1") {
          pendingWrites.push(this)
          if (pendingWrites.length === 1) setImmediate(flushWrites)
          return
        }
        this.write()
      }
      write() {
        // HEADBUF=1: the head as one cached Buffer (as httpool's engine writes it), not a string.
        if (headBuffer !== null) this.socket.write(headBuffer)
        else this.socket.write(head, "latin1")
      }
    }
    const pendingWrites = []
    const flushWrites = () => {
      for (let i = 0; i < pendingWrites.length; i++) pendingWrites[i].write()
      pendingWrites.length = 0
    }
    const idle = await Promise.all(
      Array.from(
        { length: C },
        () =>
          new Promise((resolve) => {
            let h1 = null
            const socket =
              process.env.ONREAD === "1"
                ? net.connect({
                    port,
                    host: "127.0.0.1",
                    onread: { buffer: Buffer.allocUnsafe(64 * 1024), callback: (n, buffer) => h1.onread(n, buffer) }
                  })
                : net.connect(port, "127.0.0.1")
            socket.once("connect", () => {
              h1 = new H1(socket)
              resolve(h1)
            })
            socket.setNoDelay(true)
          })
      )
    )
    const waiting = []
    const one = Effect.async((resume) => {
      const connection = idle.pop()
      if (connection) connection.send(resume)
      else waiting.push(resume)
      return Effect.sync(() => {
        const i = waiting.indexOf(resume)
        if (i >= 0) waiting.splice(i, 1)
        else connection?.socket.destroy()
      })
    })
    run = fibers(one, Effect.runPromise)
  } else if (process.env.W === "floor") {
    // The floor of an Effect client over undici: one Effect.async per request around
    // Client.dispatch on one of 16 connections, the lease taken and given back synchronously
    // in the handler's callbacks, the canceler dropping the connection.
    const origin = `http://127.0.0.1:${port}`
    // H=1: httpool's two default headers (see W=undici)
    const floorHeaders = process.env.H === "1" ? ["Accept-Encoding", "identity", "User-Agent", "httpool/0.1.0"] : []
    const idle = Array.from({ length: C }, () => new Client(origin, { pipelining: 1 }))
    const waiting = []
    const dispatch = (client, resume) => {
      const chunks = []
      let statusCode = 0
      client.dispatch(
        { path: "/x", method: "GET", origin, headers: floorHeaders },
        {
          onConnect() {},
          onHeaders(status) {
            statusCode = status
            return true
          },
          onData(chunk) {
            chunks.push(chunk)
            return true
          },
          onComplete() {
            const next = waiting.shift()
            if (next) dispatch(client, next)
            else idle.push(client)
            resume(Effect.succeed({ status: statusCode, body: Buffer.concat(chunks) }))
          },
          onError(error) {
            client.destroy()
            idle.push(new Client(origin, { pipelining: 1 }))
            resume(Effect.fail(error))
          }
        }
      )
    }
    const one = Effect.async((resume) => {
      const client = idle.pop()
      if (client) dispatch(client, resume)
      else waiting.push(resume)
      return Effect.sync(() => {
        const i = waiting.indexOf(resume)
        if (i >= 0) waiting.splice(i, 1)
        else client?.destroy()
      })
    })
    run = fibers(one, Effect.runPromise)
  } else if (process.env.W === "httpclient" || process.env.W === "httpclient-untraced") {
    // @effect/platform's HttpClient over httpool's layer: client.get(url), then arrayBuffer;
    // W=httpclient-untraced runs it with the tracer disabled.
    const HttpClient = await import("@effect/platform/HttpClient")
    const HttpoolHttpClient = await import("@httpool/node/NodeHttpClient")
    const rt = ManagedRuntime.make(HttpoolHttpClient.layer({ connectionPoolKw: { maxsize: C } }))
    const client = await rt.runPromise(HttpClient.HttpClient)
    const get = Effect.flatMap(client.get(url), (response) => response.arrayBuffer)
    const one = process.env.W === "httpclient" ? get : Effect.withTracerEnabled(get, false)
    run = fibers(one, (effect) => rt.runPromise(effect))
  } else {
    const rt = ManagedRuntime.make(NodePoolManager.layer({ connectionPoolKw: { maxsize: C } }))
    const pm = await rt.runPromise(PoolManager.PoolManager)
    // W=pool: the ConnectionPool the manager keeps for the origin, asked directly.
    const one =
      process.env.W === "pool"
        ? (await rt.runPromise(pm.connectionFromUrl(url).pipe(Effect.scoped))).request("GET", "/x")
        : pm.request("GET", url)
    run = fibers(one, (effect) => rt.runPromise(effect))
  }
  /** CPU ticks (10 ms) a process has used, from /proc. */
  const srvCpu = (pid) => {
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
    return Number(f[11]) + Number(f[12])
  }
  // WARM: requests per worker before measuring (2000); on Node 24 Effect code leaves Maglev for
  // Turbofan only after some seconds, and objects it allocates meanwhile survive young collections.
  await run(Number(process.env.WARM ?? 2000))
  // SLICES=k: k measured stretches of N requests per worker in this one process, each printed
  // (client and server CPU per request, req/s): whether a slow run is slow throughout the
  // process's life or only for a while.
  for (let slice = 1; slice < Number(process.env.SLICES ?? 1); slice++) {
    const cpu = process.cpuUsage()
    const server = srvCpu(child.pid)
    const t = performance.now()
    await run(N)
    const used = process.cpuUsage(cpu)
    console.log(
      `slice ${slice}: ${((used.user + used.system) / (N * C)).toFixed(1)} us CPU/req, server ${(((srvCpu(child.pid) - server) * 10000) / (N * C)).toFixed(1)} us/req, ${((N * C) / ((performance.now() - t) / 1000)).toFixed(0)} req/s`
    )
  }
  // Garbage collection during the run: young collections stay cheap while requests leave
  // nothing behind; objects kept past them (promoted) make the old generation grow, and its
  // full collections come often.
  const collections = watchCollections()
  // ALLOC=1: where the bytes of the measured requests are allocated, most first; ALLOC=kept:
  // only what outlived young collections.
  const allocations = await sampleAllocations(process.env.ALLOC)
  // How often each process went to sleep (voluntary context switches: a wait for the socket
  // that ended with a wake-up), and the server's CPU time, from /proc.
  const ctx = (pid) => {
    const t = fs.readFileSync(`/proc/${pid}/status`, "utf8")
    return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(t)[1])
  }
  const c0 = ctx(process.pid),
    s0 = ctx(child.pid),
    sc0 = srvCpu(child.pid)
  const cpu = process.cpuUsage()
  const t = performance.now()
  await run(N)
  const used = process.cpuUsage(cpu)
  console.log(
    `wakeups per 100 req: client ${(((ctx(process.pid) - c0) * 100) / (N * C)).toFixed(1)}, server ${(((ctx(child.pid) - s0) * 100) / (N * C)).toFixed(1)}; server CPU ${(((srvCpu(child.pid) - sc0) * 10000) / (N * C)).toFixed(1)} us/req`
  )
  await allocations?.(N * C)
  await new Promise((resolve) => setImmediate(resolve))
  const { millis: gcMillis, majors } = collections.stop()
  console.log(
    `${process.env.W ?? "httpool"} ${((used.user + used.system) / (N * C)).toFixed(1)} us CPU/req (user ${(used.user / (N * C)).toFixed(1)}, system ${(used.system / (N * C)).toFixed(1)}), ${((N * C) / ((performance.now() - t) / 1000)).toFixed(0)} req/s, GC ${((gcMillis * 1000) / (N * C)).toFixed(1)} us/req, ${majors} full collections, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`
  )
  child.kill()
  process.exit(0)
}
