/**
 * Random hex strings from `crypto.getRandomValues`, drawn 4 KiB at a time: a multipart
 * boundary, a trace or span id. One call per string would cost more than the string.
 */

const pool = new Uint8Array(4096)
let used = pool.length

/** Each byte as two lower-case hex digits. */
const byteHex: ReadonlyArray<string> = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"))

/**
 * `bytes` random bytes (at most 4,096) as `2 * bytes` lower-case hex digits.
 *
 * @internal
 */
export const randomHex = (bytes: number): string => {
  if (used + bytes > pool.length) {
    crypto.getRandomValues(pool)
    used = 0
  }
  let out = ""
  for (let i = used; i < used + bytes; i++) out += byteHex[pool[i]]
  used += bytes
  return out
}
