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
//   tls     https://127.0.0.1:<port>: that TLS origin.
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

/**
 * Starts the playground: `ports.origin` and `ports.proxy` (0 for any free port). Resolves to
 * `{ origin, proxy, tls, caPath, answered, close }` (`tls`: the TLS origin, whose certificate
 * also names 127.0.0.1) (`answered()`: requests answered so far, by
 * every playground of this process); `close()` ends every connection and removes the CA file.
 */
export const start = async (ports = { origin: 0, proxy: 0 }) => {
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
  const servers = [origin, tlsOrigin, proxy]
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
    return {
      origin: `http://127.0.0.1:${originPort}`,
      proxy: `http://127.0.0.1:${proxyPort}`,
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
