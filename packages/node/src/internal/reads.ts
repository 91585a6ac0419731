import * as net from "node:net"

/**
 * Reads of a plain socket (TCP or a Unix socket whose bytes go straight to the HTTP/1.1
 * engine: no TLS, no proxy handshake) into one buffer that every such socket shares, through
 * `net.connect`'s `onread`. Node otherwise allocates a fresh 64 KiB buffer for every read and
 * copies a short read into a second, right-sized one; those allocations, freed in batches by
 * the garbage collector, made glibc hand heap memory back to the system and fault it in again
 * (measured: a 10 MiB body cost half again as much CPU, 64 KiB bodies fell to a fifth of their
 * speed in some runs). Reads run one at a time on the main thread and each is consumed before
 * the next, so one buffer serves every socket.
 *
 * The bytes a reader gets are lent: valid only until it returns. What it keeps, it copies.
 *
 * @internal
 */
export class Reads {
  private reader: ((data: Buffer) => void) | null = null
  /** Copies of what came before a reader took over (an HTTP/1.1 server says nothing first). */
  private early: Array<Buffer> | null = null

  /** `net.connect`'s `onread` option. */
  readonly onread: net.OnReadOpts = {
    buffer: sharedBuffer,
    callback: (length: number, buffer: Uint8Array): boolean => {
      const data = (buffer as Buffer).subarray(0, length)
      if (this.reader !== null) this.reader(data)
      else (this.early ??= []).push(Buffer.from(data))
      return true
    }
  }

  /** Hands every read to `reader` from now on, first what came before (as copies). */
  take(reader: (data: Buffer) => void): void {
    this.reader = reader
    const early = this.early
    this.early = null
    if (early !== null) for (const data of early) reader(data)
  }
}

/**
 * The buffer plain sockets read into: 256 KiB, four times Node's own read size. A read takes
 * what the kernel holds, up to this: a large body then comes in fewer, larger pieces, and a
 * streamed body costs a pull of its Stream per piece (measured on a 10 MiB body, four at once,
 * client and server pinned apart: 1,350-1,540 us of CPU per MiB with 64 KiB reads, 1,045-1,080
 * with 256 KiB, 860-1,010 with 512 KiB, 1,060-1,280 with 1 MiB, whose copies the allocator
 * maps and unmaps). A reader that falls behind is sent no more once `highWaterMark` bytes wait
 * for it, so it holds at most that and one read.
 */
const sharedBuffer = Buffer.allocUnsafe(256 * 1024)

const readsOf = new WeakMap<net.Socket, Reads>()

/**
 * `net.connect(options)` with its reads going through a `Reads` (see `readsFor`).
 *
 * @internal
 */
export const connectLending = (options: net.NetConnectOpts): net.Socket => {
  const reads = new Reads()
  const socket = net.connect({ ...options, onread: reads.onread })
  readsOf.set(socket, reads)
  return socket
}

/**
 * The `Reads` of a socket made by `connectLending`; undefined for any other socket (its
 * bytes come as `data` events, each a buffer of its own).
 *
 * @internal
 */
export const readsFor = (socket: net.Socket): Reads | undefined => readsOf.get(socket)
