/** What the bench reads of processes from Linux's /proc. */
import * as fs from "node:fs"

/** Clock ticks per second of /proc (USER_HZ, 100 on Linux). */
export const ticksPerSecond = 100

/**
 * CPU ticks a process has used (utime + stime from /proc/<pid>/stat, every thread); null
 * without a pid, without /proc, or when the process is gone.
 */
export const processTicks = (pid: number | null | undefined): number | null => {
  if (pid === null || pid === undefined) {
    return null
  }
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return null
  }
}
