/**
 * `npm run soak [-- --seconds N] [--every N] [--fibers N]`: the soak, five minutes by
 * default, printing a sample every 10 seconds; exits 1 when memory or sockets grew without
 * bound, or a request died, hung or read another's response.
 */
import * as Effect from "effect/Effect"
import * as Soak from "./soak.js"

const flag = (name: string): number | undefined => {
  const at = process.argv.indexOf(`--${name}`)
  if (at < 0) return undefined
  const value = Number(process.argv[at + 1])
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} needs a positive number`)
    process.exit(2)
  }
  return value
}

const seconds = flag("seconds")
const every = flag("every")
const fibers = flag("fibers")
const report = await Effect.runPromise(
  Soak.run({
    ...(seconds === undefined ? {} : { seconds }),
    ...(every === undefined ? {} : { every }),
    ...(fibers === undefined ? {} : { fibers })
  })
)
process.exit(report.failures.length === 0 ? 0 : 1)
