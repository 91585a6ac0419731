/** Loopback ports for the servers the bench starts from Debian's packages (dante, nginx). */
import * as net from "node:net"

/** A 127.0.0.1 port free at the moment of asking. */
export const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo
      server.close(() => resolve(address.port))
    })
  })

/** Whether something accepts connections on 127.0.0.1:`port` (within half a second). */
export const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    socket.once("connect", () => resolve(true)).once("error", () => resolve(false))
    socket.once("close", () => socket.destroy())
    setTimeout(() => socket.destroy(), 500).unref()
  })
