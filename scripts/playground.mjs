// Loopback servers that the documentation's examples run against (scripts/docgen.mjs for the
// @example blocks of the doc comments, scripts/docs-blocks.mjs for the ts blocks of README.md
// and docs/*.md), in the shape those examples assume:
//   origin  http://127.0.0.1:<port>: `/page` is gzip-encoded HTML, `/big` a 1 MiB body, every
//           other path a 200 answering, as JSON, the request it received (method, url,
//           headers, body), with `Server: httpool-playground`;
//   proxy   http://127.0.0.1:<port>: a forward proxy that answers every absolute-form request
//           as the origin does, and tunnels every CONNECT to a local TLS origin whose
//           certificate (any of the names in `tlsNames`) is signed by `caPath`'s CA; a process
//           started with NODE_EXTRA_CA_CERTS=caPath trusts it, so `https://example.com/`
//           through the proxy answers as the origin does, without leaving the machine;
//   tls     https://127.0.0.1:<port>: that TLS origin;
//   socks   socks5h://127.0.0.1:<port>: a SOCKS4, 4a, 5 and 5h server (any credentials, or
//           none) whose tunnels lead to the TLS origin for port 443 and the TLS origin's own
//           port, and to the origin for any other port, whatever host the client names.
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as zlib from "node:zlib"
import { generate } from "selfsigned"

const tlsNames = ["example.com", "*.example.com", "example.org", "localhost"]

let answered = 0

const answer = (req, res) => {
  answered++
  const chunks = []
  req.on("data", (chunk) => chunks.push(chunk))
  req.on("end", () => {
    const target = req.url ?? "/"
    const pathname = target.startsWith("/") ? target.split("?")[0] : new URL(target).pathname
    if (pathname === "/page") {
      const body = zlib.gzipSync("<html><body>hello from the playground</body></html>")
      res.writeHead(200, { "Content-Type": "text/html", "Content-Encoding": "gzip", "Content-Length": body.length })
      res.end(req.method === "HEAD" ? undefined : body)
      return
    }
    if (pathname === "/big") {
      const body = Buffer.alloc(1024 * 1024, "x")
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": body.length })
      res.end(req.method === "HEAD" ? undefined : body)
      return
    }
    const body = JSON.stringify({
      method: req.method,
      url: target,
      headers: req.headers,
      body: Buffer.concat(chunks).toString()
    })
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
      Server: "httpool-playground"
    })
    res.end(req.method === "HEAD" ? undefined : body)
  })
}

const listen = (server, port) =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => resolve(server.address().port))
  })

const certificates = async (dir) => {
  const base = { keyType: "ec", algorithm: "sha256" }
  const ca = await generate([{ name: "commonName", value: "httpool playground CA" }], {
    ...base,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
    ]
  })
  const leaf = await generate([{ name: "commonName", value: tlsNames[0] }], {
    ...base,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [...tlsNames.map((value) => ({ type: 2, value })), { type: 7, ip: "127.0.0.1" }]
      }
    ]
  })
  const caPath = path.join(dir, "ca.pem")
  fs.writeFileSync(caPath, ca.cert)
  return { caPath, cert: leaf.cert, key: leaf.private }
}

/** Reads SOCKS bytes off a socket: `take(n)` resolves with n bytes, or null once it closed first. */
const socksReader = (socket) => {
  let buffer = Buffer.alloc(0)
  let wake = () => {}
  let ended = false
  const onData = (chunk) => {
    buffer = Buffer.concat([buffer, chunk])
    wake()
  }
  socket.on("data", onData)
  socket.on("close", () => {
    ended = true
    wake()
  })
  const take = async (n) => {
    while (buffer.length < n) {
      if (ended) return null
      await new Promise((resolve) => (wake = resolve))
    }
    const out = buffer.subarray(0, n)
    buffer = buffer.subarray(n)
    return out
  }
  const skipString = async () => {
    for (let b = await take(1); b !== null && b[0] !== 0; b = await take(1));
  }
  const release = () => {
    socket.off("data", onData)
    return buffer
  }
  return { take, skipString, release }
}

/** One SOCKS client: the handshake, then a tunnel to `portFor(requested port)` on 127.0.0.1. */
const serveSocks = async (client, portFor) => {
  const read = socksReader(client)
  const version = (await read.take(1))?.[0]
  let port
  if (version === 5) {
    const count = await read.take(1)
    const methods = count === null ? null : await read.take(count[0])
    if (methods === null) return client.destroy()
    const auth = methods.includes(2)
    client.write(Buffer.from([5, auth ? 2 : 0]))
    if (auth) {
      const head = await read.take(2)
      if (head === null || (await read.take(head[1])) === null) return client.destroy()
      const length = await read.take(1)
      if (length === null || (await read.take(length[0])) === null) return client.destroy()
      client.write(Buffer.from([1, 0]))
    }
    const request = await read.take(4)
    if (request === null) return client.destroy()
    const length = request[3] === 1 ? 4 : request[3] === 4 ? 16 : ((await read.take(1))?.[0] ?? 0)
    const rest = await read.take(length + 2)
    if (rest === null) return client.destroy()
    port = rest.readUInt16BE(length)
  } else if (version === 4) {
    const request = await read.take(7)
    if (request === null) return client.destroy()
    await read.skipString()
    if (request[3] === 0 && request[4] === 0 && request[5] === 0 && request[6] !== 0) await read.skipString()
    port = request.readUInt16BE(1)
  } else {
    return client.destroy()
  }
  const upstream = net.connect(portFor(port), "127.0.0.1", () => {
    client.write(
      version === 5 ? Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]) : Buffer.from([0, 0x5a, 0, 0, 0, 0, 0, 0])
    )
    const ahead = read.release()
    if (ahead.length > 0) upstream.write(ahead)
    upstream.pipe(client)
    client.pipe(upstream)
  })
  const drop = () => {
    client.destroy()
    upstream.destroy()
  }
  upstream.on("error", drop)
  client.on("error", drop)
  client.on("close", drop)
  upstream.on("close", drop)
}

/**
 * Starts the playground: `ports.origin`, `ports.proxy` and `ports.socks` (0 or absent for any
 * free port). Resolves to `{ origin, proxy, socks, tls, caPath, answered, close }` (`tls`: the TLS origin, whose certificate
 * also names 127.0.0.1) (`answered()`: requests answered so far, by
 * every playground of this process); `close()` ends every connection and removes the CA file.
 */
export const start = async (ports = { origin: 0, proxy: 0, socks: 0 }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "httpool-playground-"))
  const sockets = new Set()
  const track = (server) => {
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    return server
  }
  const { caPath, cert, key } = await certificates(dir)
  const origin = track(http.createServer(answer))
  const tlsOrigin = track(https.createServer({ cert, key }, answer))
  const proxy = track(http.createServer(answer))
  proxy.on("connect", (_req, client, head) => {
    sockets.add(client)
    client.on("close", () => sockets.delete(client))
    const upstream = net.connect(tlsOrigin.address().port, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    sockets.add(upstream)
    upstream.on("close", () => sockets.delete(upstream))
    const drop = () => {
      client.destroy()
      upstream.destroy()
    }
    upstream.on("error", drop)
    client.on("error", drop)
  })
  const socks = track(
    net.createServer((client) => {
      client.on("error", () => client.destroy())
      const tlsPort = tlsOrigin.address().port
      const portFor = (port) => (port === 443 || port === tlsPort ? tlsPort : origin.address().port)
      serveSocks(client, portFor).catch(() => client.destroy())
    })
  )
  const servers = [origin, tlsOrigin, proxy, socks]
  const close = () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy()
      let open = servers.length
      for (const server of servers)
        server.close(() => {
          if (--open === 0) {
            fs.rmSync(dir, { recursive: true, force: true })
            resolve()
          }
        })
    })
  try {
    const originPort = await listen(origin, ports.origin)
    const tlsPort = await listen(tlsOrigin, 0)
    const proxyPort = await listen(proxy, ports.proxy)
    const socksPort = await listen(socks, ports.socks ?? 0)
    return {
      origin: `http://127.0.0.1:${originPort}`,
      proxy: `http://127.0.0.1:${proxyPort}`,
      socks: `socks5h://127.0.0.1:${socksPort}`,
      tls: `https://127.0.0.1:${tlsPort}`,
      caPath,
      answered: () => answered,
      close
    }
  } catch (error) {
    for (const server of servers) if (server.listening) server.close()
    fs.rmSync(dir, { recursive: true, force: true })
    throw error
  }
}
