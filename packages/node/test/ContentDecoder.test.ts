import * as Errors from "@httpool/core/Errors"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import * as zlib from "node:zlib"
import {
  crc32Portable,
  decodeAll,
  decodeStreamAll,
  decoder,
  GzipHeaderParser,
  hasZstd,
  isZlibHeader,
  MAX_ENCODINGS,
  openEngineCount,
  parseContentEncoding
} from "../src/internal/decoder.js"

const MiB = 1024 * 1024
const NO_CAP = Number.POSITIVE_INFINITY
const encoder = new TextEncoder()
const bytes = (text: string): Uint8Array => encoder.encode(text)
const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => Buffer.concat(parts)

/** Bytes as a Buffer view, so that Buffers and Uint8Arrays with the same bytes compare equal. */
const view = (data: Uint8Array): Buffer => Buffer.from(data.buffer, data.byteOffset, data.byteLength)

const expectBytes = (actual: Uint8Array, expected: Uint8Array) => expect(view(actual)).toEqual(view(expected))

/** zstd compression where this Node has it (22.15+). */
const zstdCompressSync: ((data: Uint8Array) => Uint8Array) | undefined = (() => {
  const f: unknown = Reflect.get(zlib, "zstdCompressSync")
  if (typeof f !== "function") return undefined
  const compress = f as (data: Uint8Array) => Uint8Array
  return (data) => compress.call(zlib, data)
})()

/** A zstd frame of "hello zstd", as Node 24's `zstdCompressSync` writes it: usable where Node cannot make one. */
const helloZstd = Buffer.from("28b52ffd200a51000068656c6c6f207a737464", "hex")

/** What a zstd body is where `node:zlib` has no zstd (Node 20): a DecodeError that says why. */
const noZstdMessage = /content-encoding: zstd, but this Node\.js \(v\d+\.\d+\.\d+\) cannot decode zstd/

/** Every way a body can be encoded, keyed by a name for test titles. */
const encoders: ReadonlyArray<readonly [label: string, encoding: string, encode: (data: Uint8Array) => Uint8Array]> = [
  ["gzip", "gzip", (d) => zlib.gzipSync(d)],
  ["x-gzip", "x-gzip", (d) => zlib.gzipSync(d)],
  ["deflate (zlib)", "deflate", (d) => zlib.deflateSync(d)],
  ["deflate (raw)", "deflate", (d) => zlib.deflateRawSync(d)],
  ["br", "br", (d) => zlib.brotliCompressSync(d)],
  ...(zstdCompressSync === undefined ? [] : [["zstd", "zstd", zstdCompressSync] as const])
]

/** Cuts `data` into pieces whose sizes cycle through `sizes`. */
const split = (data: Uint8Array, sizes: ReadonlyArray<number>): Array<Uint8Array> => {
  if (sizes.length === 0) return [data]
  const pieces: Array<Uint8Array> = []
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length]
    pieces.push(data.subarray(offset, offset + size))
    offset += size
  }
  return pieces
}

const oneByteChunks = (data: Uint8Array): Array<Uint8Array> => split(data, [1])

const collect = <E>(stream: Stream.Stream<Uint8Array, E>): Effect.Effect<Uint8Array, E> =>
  Effect.map(Stream.runCollect(stream), (chunks) => concat(Chunk.toReadonlyArray(chunks)))

/** Decodes a body arriving in `pieces` through the stream decoder. */
const streamed = (encoding: string, pieces: ReadonlyArray<Uint8Array>, maxOutput = NO_CAP) =>
  collect(Stream.fromIterable(pieces).pipe(decoder.decodeStream(encoding, maxOutput)))

const oneShot = (encoding: string, data: Uint8Array, maxOutput = NO_CAP) => decoder.decode(encoding, data, maxOutput)

/** Runs a property whose check is an effect. */
const property = <Ts extends [unknown, ...Array<unknown>]>(
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  check: (...args: Ts) => Effect.Effect<void, unknown>,
  numRuns = 40
) =>
  Effect.promise(() =>
    fc.assert(
      fc.asyncProperty<Ts>(...arbitraries, (...args: Ts) => Effect.runPromise(check(...args))),
      { numRuns }
    )
  )

/** Payloads: random bytes, or text repeated enough to compress well and span engine buffers. */
const payloads: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 64 }), fc.integer({ min: 0, max: 4000 }))
    .map(([unit, times]) => bytes(unit.repeat(times)))
)

const chunkings: fc.Arbitrary<Array<number>> = fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 8 })

/**
 * The number of engines still open once destroyed ones have had the event-loop turns they
 * need to close (at most ~200), so the test reads a settled count.
 */
const openEnginesSettled: Effect.Effect<number> = Effect.promise(
  () =>
    new Promise<number>((resolve) => {
      const check = (turns: number) =>
        openEngineCount() === 0 || turns === 0 ? resolve(openEngineCount()) : setTimeout(() => check(turns - 1), 1)
      check(200)
    })
)

const failureOf = <A>(exit: Exit.Exit<A, unknown>): unknown =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined

const expectDecodeError = (exit: Exit.Exit<unknown, unknown>, message: string | RegExp) => {
  const error = failureOf(exit)
  expect(error).toBeInstanceOf(Errors.DecodeError)
  if (error instanceof Errors.DecodeError) {
    if (typeof message === "string") expect(error.message).toBe(message)
    else expect(error.message).toMatch(message)
  }
  return error
}

/** A gzip member written field by field, with the optional header fields zlib never writes. */
const gzipMember = (
  payload: Uint8Array,
  options: { extra?: Uint8Array; name?: string; comment?: string; headerCrc?: boolean; badHeaderCrc?: boolean } = {}
): Uint8Array => {
  const flags =
    (options.headerCrc ? 0x02 : 0) |
    (options.extra ? 0x04 : 0) |
    (options.name !== undefined ? 0x08 : 0) |
    (options.comment !== undefined ? 0x10 : 0)
  const header: Array<number> = [0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3]
  if (options.extra) header.push(options.extra.length & 0xff, options.extra.length >> 8, ...options.extra)
  if (options.name !== undefined) header.push(...bytes(options.name), 0)
  if (options.comment !== undefined) header.push(...bytes(options.comment), 0)
  if (options.headerCrc) {
    const crc = zlib.crc32(Uint8Array.from(header)) ^ (options.badHeaderCrc ? 1 : 0)
    header.push(crc & 0xff, (crc >> 8) & 0xff)
  }
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(zlib.crc32(payload), 0)
  trailer.writeUInt32LE(payload.length % 2 ** 32, 4)
  return concat([Uint8Array.from(header), zlib.deflateRawSync(payload), trailer])
}

/**
 * A gzip body of `mib` MiB of zeros built without ever holding them: the raw deflate of one
 * MiB of zeros, sync-flushed (so it is not final and ends on a byte), repeated, then an empty
 * final block. About 1 KB per MiB.
 */
const gzipBombOfZeros = (mib: number): Uint8Array => {
  const zeros = Buffer.alloc(MiB)
  const segment = zlib.deflateRawSync(zeros, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
  let crc = 0
  for (let i = 0; i < mib; i++) crc = zlib.crc32(zeros, crc)
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crc, 0)
  trailer.writeUInt32LE((mib * MiB) % 2 ** 32, 4)
  return concat([
    Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
    ...Array.from({ length: mib }, () => segment),
    Uint8Array.from([0x03, 0x00]),
    trailer
  ])
}

const hello = bytes("hello world ".repeat(10))

describe("ContentDecoder (node:zlib)", () => {
  describe("supported encodings", () => {
    it("understands gzip, x-gzip, deflate, br and zstd; decodes zstd exactly when node:zlib has it", () => {
      const zstdInRuntime = typeof Reflect.get(zlib, "createZstdDecompress") === "function"
      expect(hasZstd).toBe(zstdInRuntime)
      // Node 22.15 and later have it; Node 20 does not.
      const [major, minor] = process.versions.node.split(".").map(Number)
      expect(hasZstd).toBe(major > 22 || (major === 22 && minor >= 15))
      expect([...decoder.supported].sort()).toEqual(["br", "deflate", "gzip", "x-gzip", "zstd"])
    })

    it.effect("names are case-insensitive and trimmed", () =>
      Effect.gen(function* () {
        for (const [name, data] of [
          ["GZIP", zlib.gzipSync(hello)],
          ["X-Gzip", zlib.gzipSync(hello)],
          [" Deflate ", zlib.deflateSync(hello)],
          ["BR", zlib.brotliCompressSync(hello)]
        ] as const) {
          expectBytes(yield* oneShot(name, data), hello)
          expectBytes(yield* streamed(name, oneByteChunks(data)), hello)
        }
      })
    )

    it.effect("identity and unknown encodings pass the body through unchanged", () =>
      Effect.gen(function* () {
        const body = bytes("not encoded at all")
        for (const name of ["identity", "foo", "compress", "zstd-but-not-really"]) {
          expect(yield* oneShot(name, body)).toBe(body)
          expectBytes(yield* streamed(name, split(body, [3])), body)
        }
      })
    )

    it.effect("zstd decodes where the runtime has it and is a DecodeError that says so where it does not", () =>
      Effect.gen(function* () {
        const gzipOverZstd = zlib.gzipSync(helloZstd)
        if (hasZstd) {
          const data = zstdCompressSync!(hello)
          expectBytes(yield* oneShot("zstd", data), hello)
          expectBytes(yield* streamed("zstd", oneByteChunks(data)), hello)
          expectBytes(yield* oneShot("ZSTD", helloZstd), bytes("hello zstd"))
          expectBytes(yield* decodeAll(["zstd", "gzip"], gzipOverZstd, NO_CAP), bytes("hello zstd"))
          expectBytes(
            yield* collect(Stream.make(gzipOverZstd).pipe(decodeStreamAll(["zstd", "gzip"], NO_CAP))),
            bytes("hello zstd")
          )
        } else {
          // Never the encoded bytes handed on as if they were the content.
          expectDecodeError(yield* Effect.exit(oneShot("ZSTD", helloZstd)), noZstdMessage)
          expectDecodeError(yield* Effect.exit(streamed("zstd", oneByteChunks(helloZstd))), noZstdMessage)
          expectDecodeError(yield* Effect.exit(oneShot("zstd", new Uint8Array(0))), noZstdMessage)
          // In a list too, once the layers above it are decoded.
          expectDecodeError(yield* Effect.exit(decodeAll(["zstd", "gzip"], gzipOverZstd, NO_CAP)), /cannot decode zstd/)
          expectDecodeError(
            yield* Effect.exit(collect(Stream.make(gzipOverZstd).pipe(decodeStreamAll(["zstd", "gzip"], NO_CAP)))),
            /cannot decode zstd/
          )
          expect(yield* openEnginesSettled).toBe(0)
        }
      })
    )
  })

  describe("round trips", () => {
    for (const [label, encoding, encode] of encoders) {
      it.effect(`${label}: one-shot and streamed with random chunking give the payload back`, () =>
        property([payloads, chunkings], (payload, sizes) =>
          Effect.gen(function* () {
            const data = encode(payload)
            const whole = yield* oneShot(encoding, data)
            const pieces = yield* streamed(encoding, split(data, sizes))
            expect(Buffer.from(whole).equals(payload)).toBe(true)
            expect(Buffer.from(pieces).equals(payload)).toBe(true)
          })
        )
      )

      it.effect(`${label}: 1-byte chunks decode the same`, () =>
        Effect.gen(function* () {
          const payload = bytes(`${label} `.repeat(5000))
          const data = encode(payload)
          expect(Buffer.from(yield* streamed(encoding, oneByteChunks(data))).equals(payload)).toBe(true)
        })
      )

      it.effect(`${label}: an empty body decodes to nothing`, () =>
        Effect.gen(function* () {
          expect((yield* oneShot(encoding, new Uint8Array(0))).length).toBe(0)
          expect((yield* streamed(encoding, [])).length).toBe(0)
        })
      )
    }

    it.effect("a large body streams through in bounded chunks", () =>
      Effect.gen(function* () {
        const largest = yield* Stream.make(gzipBombOfZeros(32)).pipe(
          decoder.decodeStream("gzip", NO_CAP),
          Stream.runFold({ total: 0, largest: 0 }, (acc, chunk) => ({
            total: acc.total + chunk.length,
            largest: Math.max(acc.largest, chunk.length)
          }))
        )
        expect(largest.total).toBe(32 * MiB)
        // Output is handed on as it comes: never more than a few engine buffers at once.
        expect(largest.largest).toBeLessThanOrEqual(256 * 1024)
      })
    )
  })

  describe("deflate", () => {
    it("tells zlib-wrapped deflate from raw deflate by the first two bytes", () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 300 }),
          fc.integer({ min: 0, max: 9 }),
          fc.integer({ min: 9, max: 15 }),
          (payload, level, windowBits) => {
            const wrapped = zlib.deflateSync(payload, { level, windowBits })
            const raw = zlib.deflateRawSync(payload, { level, windowBits })
            expect(isZlibHeader(wrapped[0], wrapped[1])).toBe(true)
            expect(raw.length < 2 || isZlibHeader(raw[0], raw[1])).toBe(raw.length < 2)
          }
        )
      )
    })

    it.effect("decodes both zlib-wrapped and raw deflate, as urllib3 does", () =>
      Effect.gen(function* () {
        for (const data of [zlib.deflateSync(hello), zlib.deflateRawSync(hello)]) {
          expectBytes(yield* oneShot("deflate", data), hello)
          expectBytes(yield* streamed("deflate", oneByteChunks(data)), hello)
        }
      })
    )

    it.effect("a body of one byte decodes to nothing, as in urllib3", () =>
      Effect.gen(function* () {
        for (const byte of [0x78, 0x03, 0xff]) {
          expect((yield* oneShot("deflate", Uint8Array.of(byte))).length).toBe(0)
          expect((yield* streamed("deflate", [Uint8Array.of(byte)])).length).toBe(0)
        }
      })
    )

    it.effect("bytes after the end of a deflate or br stream are ignored, as in urllib3", () =>
      Effect.gen(function* () {
        const cases = [
          ["deflate", zlib.deflateSync(hello)],
          ["deflate", zlib.deflateRawSync(hello)],
          ["br", zlib.brotliCompressSync(hello)]
        ] as const
        for (const [encoding, data] of cases) {
          const body = concat([data, bytes("junk after the end")])
          expectBytes(yield* oneShot(encoding, body), hello)
          expectBytes(yield* streamed(encoding, split(body, [7])), hello)
        }
      })
    )
  })

  describe("gzip members", () => {
    it.effect("several concatenated members decode fully, as in urllib3", () =>
      Effect.gen(function* () {
        const body = concat([zlib.gzipSync(hello), zlib.gzipSync(bytes("second")), zlib.gzipSync(bytes(" third"))])
        const expected = concat([hello, bytes("second third")])
        expectBytes(yield* oneShot("gzip", body), expected)
        expectBytes(yield* streamed("gzip", oneByteChunks(body)), expected)
      })
    )

    it.effect("bytes after a complete member that start no member are dropped, as in urllib3", () =>
      Effect.gen(function* () {
        const member = zlib.gzipSync(hello)
        for (const trailing of [
          bytes("garbage"),
          Uint8Array.of(0, 0, 0),
          Uint8Array.of(0x1f, 0x8b, 1, 2),
          Uint8Array.of(0x1f, 0x00),
          concat([Uint8Array.of(0), zlib.gzipSync(bytes("ignored: after a zero byte"))])
        ]) {
          for (const body of [concat([member, trailing]), concat([member, member, trailing])]) {
            const expected = body.length - trailing.length > member.length ? concat([hello, hello]) : hello
            expectBytes(yield* oneShot("gzip", body), expected)
            expectBytes(yield* streamed("gzip", oneByteChunks(body)), expected)
            expectBytes(yield* streamed("gzip", [body]), expected)
          }
        }
      })
    )

    it.effect("header fields (extra, name, comment, header CRC) are parsed across any chunking", () =>
      Effect.gen(function* () {
        const member = gzipMember(hello, {
          extra: bytes("xtra-field-bytes"),
          name: "hello.txt",
          comment: "a comment",
          headerCrc: true
        })
        expectBytes(yield* oneShot("gzip", member), hello)
        for (const sizes of [[1], [2], [3], [5, 1, 7], [member.length]]) {
          expectBytes(yield* streamed("gzip", split(member, sizes)), hello)
        }
        const parser = new GzipHeaderParser()
        let consumed = 0
        for (const piece of oneByteChunks(member)) {
          if (parser.done) break
          const n = parser.feed(piece)
          expect(n).toBe(1)
          consumed++
        }
        expect(consumed).toBe(10 + 2 + 16 + 10 + 10 + 2)
      })
    )

    it.effect("a wrong header CRC is a DecodeError", () =>
      Effect.gen(function* () {
        const member = gzipMember(hello, { name: "x", headerCrc: true, badHeaderCrc: true })
        expectDecodeError(yield* Effect.exit(oneShot("gzip", member)), /failed to decode it/)
        const error = expectDecodeError(yield* Effect.exit(streamed("gzip", oneByteChunks(member))), /failed/)
        expect(error instanceof Errors.DecodeError && String(error.cause)).toMatch(/header crc mismatch/)
      })
    )

    it.effect("one-shot and streamed decoding agree on any mix of members, garbage, truncation and corruption", () =>
      property(
        [
          fc.array(payloads, { minLength: 1, maxLength: 3 }),
          fc.uint8Array({ maxLength: 40 }),
          fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
          fc.option(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 7 }))),
          chunkings
        ],
        (members, garbage, cut, flip, sizes) =>
          Effect.gen(function* () {
            const whole = concat([...members.map((m) => zlib.gzipSync(m)), garbage])
            if (flip !== null) whole[Math.floor(whole.length * flip[0]) % whole.length] ^= 1 << flip[1]
            const body = cut === null ? whole : whole.subarray(0, Math.floor(whole.length * cut))
            const a = yield* Effect.exit(oneShot("gzip", body))
            const b = yield* Effect.exit(streamed("gzip", split(body, sizes)))
            expect(a._tag).toBe(b._tag)
            if (Exit.isSuccess(a) && Exit.isSuccess(b)) expect(Buffer.from(a.value).equals(b.value)).toBe(true)
            if (cut === null && flip === null && Exit.isSuccess(a)) {
              // Whatever the garbage, every member before it is there.
              expect(Buffer.from(a.value).subarray(0, concat(members).length).equals(concat(members))).toBe(true)
            }
          }),
        150
      )
    )
  })

  describe("truncated bodies", () => {
    it.effect("a gzip body cut after its first byte is empty, not corrupt, whatever that byte (as urllib3)", () =>
      Effect.gen(function* () {
        for (const first of [0x1f, 0x1e, 0x00]) {
          const body = new Uint8Array([first])
          expectBytes(yield* oneShot("gzip", body), new Uint8Array(0))
          expectBytes(yield* streamed("gzip", [body]), new Uint8Array(0))
        }
        // With both bytes there, a wrong magic is corrupt for both.
        expectDecodeError(yield* Effect.exit(oneShot("gzip", new Uint8Array([0x1e, 0x8b]))), /failed to decode it/)
        expectDecodeError(
          yield* Effect.exit(streamed("gzip", [new Uint8Array([0x1e]), new Uint8Array([0x8b])])),
          /failed/
        )
      })
    )

    it.effect("a compressed stream cut short gives what was decoded, as urllib3 does", () =>
      Effect.gen(function* () {
        const payload = bytes("truncated but still useful ".repeat(2000))
        const cases = [
          ["gzip", zlib.gzipSync(payload)],
          ["deflate", zlib.deflateSync(payload)],
          ["deflate", zlib.deflateRawSync(payload)],
          ["br", zlib.brotliCompressSync(payload)]
        ] as const
        for (const [encoding, data] of cases) {
          for (const keep of [0.5, 0.9, (data.length - 3) / data.length]) {
            const body = data.subarray(0, Math.floor(data.length * keep))
            const whole = Buffer.from(yield* oneShot(encoding, body))
            const pieces = Buffer.from(yield* streamed(encoding, split(body, [100])))
            expect(whole.equals(pieces)).toBe(true)
            expect(Buffer.from(payload).subarray(0, whole.length).equals(whole)).toBe(true)
          }
        }
      })
    )
  })

  describe("corrupt bodies", () => {
    const cases = [
      ["gzip", bytes("not gzip at all")],
      ["gzip", concat([zlib.gzipSync(hello).subarray(0, 12), bytes("\xff\xff\xff garbage in the deflate data")])],
      ["deflate", bytes("not deflate at all")],
      ["deflate", concat([zlib.deflateSync(hello).subarray(0, 2), Uint8Array.of(0xff, 0xff, 0xff, 0xff)])],
      ["br", bytes("not br at all")]
    ] as const
    for (const [encoding, data] of cases) {
      it.effect(
        `${encoding}: ${JSON.stringify(Buffer.from(data).subarray(0, 12).toString("latin1"))} is a DecodeError`,
        () =>
          Effect.gen(function* () {
            const message = `Received response with content-encoding: ${encoding}, but failed to decode it.`
            const whole = expectDecodeError(yield* Effect.exit(oneShot(encoding, data)), message)
            expect(whole instanceof Errors.DecodeError && whole.cause).toBeInstanceOf(Error)
            expectDecodeError(yield* Effect.exit(streamed(encoding, oneByteChunks(data))), message)
            expectDecodeError(yield* Effect.exit(streamed(encoding, [data])), message)
          })
      )
    }

    it.effect("a wrong CRC or size in a gzip trailer is a DecodeError", () =>
      Effect.gen(function* () {
        const good = zlib.gzipSync(hello)
        for (const offset of [good.length - 8, good.length - 4]) {
          const bad = Buffer.from(good)
          bad[offset] ^= 0xff
          expectDecodeError(yield* Effect.exit(oneShot("gzip", bad)), /failed to decode it/)
          expectDecodeError(yield* Effect.exit(streamed("gzip", oneByteChunks(bad))), /failed to decode it/)
        }
      })
    )

    it.effect("the CRC is checked as soon as its four bytes arrived, as zlib and urllib3 do", () =>
      Effect.gen(function* () {
        const good = zlib.gzipSync(hello)
        const badCrc = Buffer.from(good)
        badCrc[good.length - 8] ^= 0xff
        for (const keep of [4, 5, 7]) {
          const body = badCrc.subarray(0, good.length - 8 + keep)
          expectDecodeError(yield* Effect.exit(oneShot("gzip", body)), /failed to decode it/)
          expectDecodeError(yield* Effect.exit(streamed("gzip", oneByteChunks(body))), /failed to decode it/)
          // With a good CRC, a trailer cut short in its size field is only a truncated body.
          expectBytes(yield* oneShot("gzip", good.subarray(0, good.length - 8 + keep)), hello)
          expectBytes(yield* streamed("gzip", oneByteChunks(good.subarray(0, good.length - 8 + keep))), hello)
        }
      })
    )

    it.effect("a corrupt member after a good one is a DecodeError (urllib3 drops it silently)", () =>
      Effect.gen(function* () {
        const second = Buffer.from(zlib.gzipSync(hello))
        second[12] ^= 0xff
        second[13] ^= 0xff
        const body = concat([zlib.gzipSync(hello), second])
        expectDecodeError(yield* Effect.exit(oneShot("gzip", body)), /failed to decode it/)
        expectDecodeError(yield* Effect.exit(streamed("gzip", split(body, [9]))), /failed to decode it/)
      })
    )
  })

  describe("stacked encodings", () => {
    const payload = bytes("stacked ".repeat(500))
    const layered = zlib.brotliCompressSync(zlib.gzipSync(zlib.deflateRawSync(payload)))

    it("parses Content-Encoding lists", () => {
      expect(parseContentEncoding(" GZIP , br,,Deflate ")).toEqual(["gzip", "br", "deflate"])
      expect(parseContentEncoding("")).toEqual([])
    })

    it.effect("are decoded in reverse of the order they are listed", () =>
      Effect.gen(function* () {
        expectBytes(yield* decodeAll(["deflate", "gzip", "br"], layered, NO_CAP), payload)
        expectBytes(yield* decodeAll(["Deflate, GZIP", "br"], layered, NO_CAP), payload)
        expectBytes(yield* oneShot("deflate, gzip, br", layered), payload)
        const pieces = split(layered, [1, 5, 2])
        expectBytes(
          yield* collect(Stream.fromIterable(pieces).pipe(decodeStreamAll(["deflate", "gzip", "br"], NO_CAP))),
          payload
        )
        expectBytes(yield* streamed("deflate, gzip, br", pieces), payload)
      })
    )

    it.effect("identity is skipped", () =>
      Effect.gen(function* () {
        const data = zlib.gzipSync(payload)
        expectBytes(yield* decodeAll(["identity", "gzip", "identity"], data, NO_CAP), payload)
      })
    )

    it.effect("decoding stops at an encoding it does not understand, passing that layer through", () =>
      Effect.gen(function* () {
        const gz = zlib.gzipSync(payload)
        // "foo" was applied last: nothing under it can be reached.
        expect(yield* decodeAll(["gzip", "foo"], gz, NO_CAP)).toBe(gz)
        // "foo" was applied first: the gzip over it is removed.
        expectBytes(yield* decodeAll(["foo", "gzip"], gz, NO_CAP), payload)
        expect(yield* decodeAll(["foo", "bar"], gz, NO_CAP)).toBe(gz)
        expect(yield* decodeAll([], gz, NO_CAP)).toBe(gz)
      })
    )

    it.effect(`more than ${MAX_ENCODINGS} encodings are a DecodeError, with urllib3's message`, () =>
      Effect.gen(function* () {
        let five: Uint8Array = payload
        for (let i = 0; i < 5; i++) five = zlib.gzipSync(five)
        expectBytes(yield* decodeAll(Array(5).fill("gzip"), five, NO_CAP), payload)
        const message = "Too many content encodings in the chain: 6 > 5"
        expectDecodeError(yield* Effect.exit(decodeAll(Array(6).fill("gzip"), five, NO_CAP)), message)
        expectDecodeError(
          yield* Effect.exit(decodeAll(["gzip", "identity", "br", "a", "b", "c"], five, NO_CAP)),
          message
        )
        expectDecodeError(
          yield* Effect.exit(collect(Stream.make(five).pipe(decodeStreamAll(Array(6).fill("gzip"), NO_CAP)))),
          message
        )
        expectDecodeError(yield* Effect.exit(oneShot("gzip,gzip,gzip,gzip,gzip,gzip", five)), message)
        // As in urllib3, a list with nothing this decoder understands is left alone, however long.
        expect(yield* decodeAll(["a", "b", "c", "d", "e", "f"], five, NO_CAP)).toBe(five)
        expect(yield* decodeAll(Array(6).fill("identity"), five, NO_CAP)).toBe(five)
      })
    )

    it.effect("an error names the whole list", () =>
      Effect.gen(function* () {
        expectDecodeError(
          yield* Effect.exit(decodeAll(["gzip", "br"], zlib.brotliCompressSync(bytes("not gzip")), NO_CAP)),
          "Received response with content-encoding: gzip, br, but failed to decode it."
        )
      })
    )
  })

  describe("the decoded size cap", () => {
    const bomb = gzipBombOfZeros(100)
    const cap = 10 * MiB
    const capMessage = /exceeds the limit of 10485760 bytes/

    it.effect("a 100 MiB gzip bomb (~100 KB) with a 10 MiB cap fails one-shot", () =>
      Effect.gen(function* () {
        expect(bomb.length).toBeLessThan(150_000)
        expectDecodeError(yield* Effect.exit(oneShot("gzip", bomb, cap)), capMessage)
      })
    )

    it.effect("a 100 MiB gzip bomb with a 10 MiB cap fails streamed, having passed on no more than the cap", () =>
      Effect.gen(function* () {
        const delivered = yield* Ref.make(0)
        const exit = yield* Stream.make(bomb).pipe(
          decoder.decodeStream("gzip", cap),
          Stream.runForEach((chunk) => Ref.update(delivered, (n) => n + chunk.length)),
          Effect.exit
        )
        expectDecodeError(exit, capMessage)
        expect(yield* Ref.get(delivered)).toBeLessThanOrEqual(cap)
        expect(yield* Ref.get(delivered)).toBeGreaterThan(cap - MiB)
        expect(yield* openEnginesSettled).toBe(0)
      })
    )

    it.effect("a zstd bomb fails too where zstd decodes, one-shot and streamed; elsewhere any zstd body fails", () =>
      Effect.gen(function* () {
        if (hasZstd) {
          const data = zstdCompressSync!(Buffer.alloc(100 * MiB))
          expect(data.length).toBeLessThan(10_000)
          expectDecodeError(yield* Effect.exit(oneShot("zstd", data, cap)), capMessage)
          const delivered = yield* Ref.make(0)
          const exit = yield* Stream.fromIterable(split(data, [100])).pipe(
            decoder.decodeStream("zstd", cap),
            Stream.runForEach((chunk) => Ref.update(delivered, (n) => n + chunk.length)),
            Effect.exit
          )
          expectDecodeError(exit, capMessage)
          expect(yield* Ref.get(delivered)).toBeLessThanOrEqual(cap)
          expect(yield* Ref.get(delivered)).toBeGreaterThan(cap - MiB)
        } else {
          expectDecodeError(yield* Effect.exit(oneShot("zstd", helloZstd, cap)), noZstdMessage)
          expectDecodeError(yield* Effect.exit(streamed("zstd", [helloZstd], cap)), noZstdMessage)
        }
        expect(yield* openEnginesSettled).toBe(0)
      })
    )

    it.effect("deflate and br bombs fail too, one-shot and streamed", () =>
      Effect.gen(function* () {
        const zeros = Buffer.alloc(8 * MiB)
        for (const [encoding, data] of [
          ["deflate", zlib.deflateSync(zeros)],
          ["deflate", zlib.deflateRawSync(zeros)],
          ["br", zlib.brotliCompressSync(zeros, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } })]
        ] as const) {
          expectDecodeError(yield* Effect.exit(oneShot(encoding, data, MiB)), /exceeds the limit of 1048576 bytes/)
          expectDecodeError(yield* Effect.exit(streamed(encoding, [data], MiB)), /exceeds the limit/)
        }
      })
    )

    it.effect("a body of exactly the cap decodes; one byte more fails", () =>
      Effect.gen(function* () {
        for (const [, encoding, encode] of encoders) {
          const data = encode(hello)
          expectBytes(yield* oneShot(encoding, data, hello.length), hello)
          expectBytes(yield* streamed(encoding, split(data, [4]), hello.length), hello)
          expectDecodeError(yield* Effect.exit(oneShot(encoding, data, hello.length - 1)), /exceeds the limit/)
          expectDecodeError(yield* Effect.exit(streamed(encoding, [data], hello.length - 1)), /exceeds the limit/)
        }
      })
    )

    it.effect("a cap of 0 accepts only empty bodies; odd caps never throw", () =>
      Effect.gen(function* () {
        expect((yield* oneShot("gzip", zlib.gzipSync(new Uint8Array(0)), 0)).length).toBe(0)
        expectDecodeError(yield* Effect.exit(oneShot("gzip", zlib.gzipSync(hello), 0)), /limit of 0 bytes/)
        expectDecodeError(yield* Effect.exit(streamed("gzip", [zlib.gzipSync(hello)], 0)), /limit of 0 bytes/)
        for (const odd of [-1, Number.NaN]) {
          expectDecodeError(yield* Effect.exit(oneShot("br", zlib.brotliCompressSync(hello), odd)), /limit of 0/)
        }
        expectBytes(yield* oneShot("deflate", zlib.deflateSync(hello), 2 ** 40), hello)
      })
    )

    it.effect("stacked layers are each capped", () =>
      Effect.gen(function* () {
        const layered = zlib.gzipSync(zlib.gzipSync(Buffer.alloc(4 * MiB)))
        expectDecodeError(yield* Effect.exit(decodeAll(["gzip", "gzip"], layered, MiB)), /exceeds the limit/)
        expectDecodeError(
          yield* Effect.exit(collect(Stream.make(layered).pipe(decodeStreamAll(["gzip", "gzip"], MiB)))),
          /exceeds the limit/
        )
      })
    )
  })

  describe("streams", () => {
    it.effect("a failure of the body stream is passed on unchanged", () =>
      Effect.gen(function* () {
        const data = zlib.gzipSync(hello)
        const exit = yield* Effect.exit(
          collect(
            Stream.make(data.subarray(0, 10)).pipe(
              Stream.concat(Stream.fail("connection reset" as const)),
              decoder.decodeStream("gzip", NO_CAP)
            )
          )
        )
        expect(failureOf(exit)).toBe("connection reset")
        expect(yield* openEnginesSettled).toBe(0)
      })
    )

    it.effect("the rest of the body is read after the compressed stream ends, so the connection can be reused", () =>
      Effect.gen(function* () {
        const pulled = yield* Ref.make(0)
        const body = Stream.fromIterable([zlib.deflateSync(hello), bytes("trailing"), bytes(" bytes")]).pipe(
          Stream.tap(() => Ref.update(pulled, (n) => n + 1))
        )
        expectBytes(yield* collect(body.pipe(decoder.decodeStream("deflate", NO_CAP))), hello)
        expect(yield* Ref.get(pulled)).toBe(3)
      })
    )

    it.live("interrupting a streamed decode destroys its engine at once", () =>
      Effect.gen(function* () {
        expect(yield* openEnginesSettled).toBe(0)
        const started = yield* Deferred.make<void>()
        const data = zlib.gzipSync(Buffer.alloc(4 * MiB, "a"))
        // The body never ends: the decode waits for input with its engine open.
        const fiber = yield* Stream.make(data.subarray(0, data.length >> 1)).pipe(
          Stream.concat(Stream.never),
          decoder.decodeStream("gzip", NO_CAP),
          Stream.tap(() => Deferred.succeed(started, undefined)),
          Stream.runDrain,
          Effect.fork
        )
        yield* Deferred.await(started)
        expect(openEngineCount()).toBe(1)
        yield* Fiber.interrupt(fiber)
        expect(Exit.isInterrupted(yield* Fiber.await(fiber))).toBe(true)
        expect(yield* openEnginesSettled).toBe(0)
      })
    )

    it.live("interrupting a slow consumer of a bomb mid-way destroys its engine", () =>
      Effect.gen(function* () {
        const started = yield* Deferred.make<void>()
        const fiber = yield* Stream.make(gzipBombOfZeros(100)).pipe(
          decoder.decodeStream("gzip", NO_CAP),
          Stream.tap(() => Effect.zipRight(Deferred.succeed(started, undefined), Effect.sleep("1 millis"))),
          Stream.runDrain,
          Effect.fork
        )
        yield* Deferred.await(started)
        yield* Fiber.interrupt(fiber)
        expect(yield* openEnginesSettled).toBe(0)
      })
    )

    it.effect("taking part of a decoded stream ends it and its engine", () =>
      Effect.gen(function* () {
        const first = yield* Stream.make(gzipBombOfZeros(8)).pipe(
          decoder.decodeStream("gzip", NO_CAP),
          Stream.take(1),
          Stream.runCollect
        )
        expect(Chunk.size(first)).toBe(1)
        expect(yield* openEnginesSettled).toBe(0)
      })
    )
  })

  describe("helpers", () => {
    it("the portable CRC-32 matches zlib's, also when continued", () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 500 }), fc.uint8Array({ maxLength: 500 }), (a, b) => {
          expect(crc32Portable(a)).toBe(zlib.crc32(a))
          expect(crc32Portable(b, crc32Portable(a))).toBe(zlib.crc32(concat([a, b])))
        })
      )
    })
  })
})
