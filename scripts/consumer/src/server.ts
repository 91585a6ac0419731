/** A loopback server for the consumer's program and test: answers every request with what it received, as JSON. */
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export interface Echo {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: string
}

export const start = (): Promise<{ readonly url: string; readonly close: () => Promise<void> }> =>
  new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const echo: Echo = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString()
        }
        const body = JSON.stringify(echo)
        res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) })
        res.end(body)
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
