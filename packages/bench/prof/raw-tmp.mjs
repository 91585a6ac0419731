// raw floor: net.Socket, one write per request, minimal parse (content-length only)
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import net from "node:net"
import { Client, Pool } from "undici"
if (process.argv[2] === "server") {
  const http = await import("node:http")
  const body = Buffer.alloc(64, 120)
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-length": 64 })
    res.end(body)
  })
  server.listen(0, "127.0.0.1", () => process.send(server.address().port))
} else {
  const child = fork(fileURLToPath(import.meta.url), ["server"])
  const port = await new Promise((r) => child.once("message", r))
  const N = Number(process.env.N ?? 3000),
    C = Number(process.env.C ?? 16)
  let run
  if (process.env.W === "undici") {
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: C })
    const worker = async (n) => {
      for (let i = 0; i < n; i++) {
        const r = await pool.request({ path: "/x", method: "GET" })
        await r.body.arrayBuffer()
      }
    }
    run = (n) => Promise.all(Array.from({ length: C }, () => worker(n)))
  } else {
    const req = `GET /x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept-Encoding: identity\r\nUser-Agent: python-urllib3/2.7.0\r\n\r\n`
    const conns = await Promise.all(
      Array.from(
        { length: C },
        () =>
          new Promise((res) => {
            const s = net.connect(port, "127.0.0.1", () => res(s))
            s.setNoDelay(true)
          })
      )
    )
    const one = (s) =>
      new Promise((resolve) => {
        let buf = null
        const onData = (chunk) => {
          buf = buf === null ? chunk : Buffer.concat([buf, chunk])
          const end = buf.indexOf("\r\n\r\n")
          if (end < 0) return
          const head = buf.latin1Slice(0, end)
          const m = /content-length: *(\d+)/i.exec(head)
          const len = Number(m[1])
          if (buf.length >= end + 4 + len) {
            s.off("data", onData)
            resolve(buf.subarray(end + 4, end + 4 + len))
          }
        }
        s.on("data", onData)
        s.write(req, "latin1")
      })
    const worker = async (s, n) => {
      for (let i = 0; i < n; i++) await one(s)
    }
    run = (n) => Promise.all(conns.map((s) => worker(s, n)))
  }
  await run(2000)
  const cpu = process.cpuUsage()
  const t = performance.now()
  await run(N)
  const used = process.cpuUsage(cpu)
  console.log(
    `${process.env.W ?? "raw"} ${((used.user + used.system) / (N * C)).toFixed(1)} us CPU/req, ${((N * C) / ((performance.now() - t) / 1000)).toFixed(0)} req/s`
  )
  child.kill()
  process.exit(0)
}
