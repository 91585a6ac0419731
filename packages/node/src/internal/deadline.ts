import { performance } from "node:perf_hooks"

/**
 * A read timeout that fires after `timeout` milliseconds without activity. Activity only
 * marks the deadline (`touch`): no timer is moved per sign of progress.
 *
 * Timeouts of `LONG` milliseconds or more (the default read timeout is 300 s) are checked by
 * one timer shared by every exchange, every `SWEEP` milliseconds, so a request costs no timer
 * of its own. A touch reads no clock (there are five per request: 0.3 us of CPU when each read
 * one): a sweep that finds the deadline touched since the last one takes its own time as the
 * last activity, so the deadline fires between `timeout` and `timeout + 2 * SWEEP` after the
 * last activity, never before, as undici's own timers (half-second ticks) do. Shorter ones get
 * a native timer each, re-armed for the rest of the time when it fires after activity, so a
 * 0.2 s timeout fires after 0.2 s of silence.
 *
 * @internal
 */
export class Deadline {
  /** The last activity (short deadlines), or the sweep that last saw activity (long ones). */
  private activeAt = 0
  /** Touched since the last sweep (long deadlines). */
  private touched = false
  private timer: ReturnType<typeof setTimeout> | null = null
  /** Where this deadline is in `watched`; -1 when the sweep is not watching it. */
  watchedAt = -1

  constructor(
    private readonly timeout: number,
    private readonly fire: () => void
  ) {}

  /** Starts the deadline, or marks activity on a running one. */
  touch(): void {
    if (this.timeout >= LONG) {
      this.touched = true
      if (this.watchedAt === -1) watch(this)
    } else {
      this.activeAt = performance.now()
      if (this.timer === null) this.arm(this.timeout)
    }
  }

  /** Stops the deadline; `touch` starts it again. */
  stop(): void {
    unwatch(this)
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
  }

  /** Called by every sweep at `now`: whether this long deadline has passed. */
  swept(now: number): boolean {
    if (this.touched) {
      this.touched = false
      this.activeAt = now
      return false
    }
    return now - this.activeAt >= this.timeout
  }

  /** Called by the sweep when this long deadline has passed. */
  expire(): void {
    unwatch(this)
    this.fire()
  }

  private arm(millis: number): void {
    this.timer = setTimeout(this.onTimer, millis)
    this.timer.unref()
  }

  private readonly onTimer = (): void => {
    this.timer = null
    const left = this.timeout - (performance.now() - this.activeAt)
    if (left >= 1) this.arm(Math.ceil(left))
    else this.fire()
  }
}

/** From this many milliseconds, a timeout is checked by the shared sweep. */
const LONG = 2_000
/** How often the shared sweep runs while any long deadline is running. */
const SWEEP = 250

/**
 * The long deadlines running, in an array: each knows its place, so starting and stopping one
 * (twice per request) costs no allocation. A `Set` would make a new table as it grows and
 * shrinks, and V8 links each old table to its successor: once one is in the old generation,
 * the chain keeps every deadline it held, and the request each one fires for, past every
 * young collection.
 */
const watched: Array<Deadline> = []
let sweeper: ReturnType<typeof setInterval> | null = null

const watch = (deadline: Deadline): void => {
  deadline.watchedAt = watched.length
  watched.push(deadline)
  if (sweeper === null) {
    sweeper = setInterval(sweep, SWEEP)
    sweeper.unref()
  }
}

const unwatch = (deadline: Deadline): void => {
  const at = deadline.watchedAt
  if (at === -1) return
  deadline.watchedAt = -1
  const last = watched.pop()!
  if (last !== deadline) {
    watched[at] = last
    last.watchedAt = at
  }
}

const sweep = (): void => {
  const now = performance.now()
  let expired: Array<Deadline> | null = null
  for (let i = 0; i < watched.length; i++) {
    const deadline = watched[i]!
    if (deadline.swept(now)) (expired ??= []).push(deadline)
  }
  // Expired after the scan: firing may stop or start other deadlines.
  if (expired !== null) {
    for (const deadline of expired) if (deadline.watchedAt !== -1) deadline.expire()
  }
  if (watched.length === 0 && sweeper !== null) {
    clearInterval(sweeper)
    sweeper = null
  }
}
