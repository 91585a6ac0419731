// What a measured stretch allocates and collects, shared by the prof scripts: where the bytes
// are allocated, by V8's sampling heap profiler (ALLOC=1: everything allocated, what collections
// freed included; ALLOC=kept: only what outlived young collections), and the garbage
// collections it took.
import * as inspector from "node:inspector/promises"
import { constants, PerformanceObserver } from "node:perf_hooks"

/**
 * Counts the garbage collections from now on; `stop()` ends the count and gives their total
 * milliseconds and how many were young and full ones.
 */
export const watchCollections = () => {
  let millis = 0
  let minors = 0
  let majors = 0
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      millis += entry.duration
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++
      else minors++
    }
  })
  observer.observe({ entryTypes: ["gc"] })
  return {
    stop: () => {
      observer.disconnect()
      return { millis, minors, majors }
    }
  }
}

/**
 * Starts sampling when `mode` is "1" or "kept"; the returned function stops it and prints the
 * bytes per request (of `requests`), most first by allocating function. Null for any other mode.
 */
export const sampleAllocations = async (mode) => {
  if (mode !== "1" && mode !== "kept") return null
  const kept = mode === "kept"
  const session = new inspector.Session()
  session.connect()
  await session.post("HeapProfiler.enable")
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: !kept
  })
  return async (requests) => {
    const { profile } = await session.post("HeapProfiler.stopSampling")
    session.disconnect()
    const sites = new Map()
    let bytes = 0
    const name = ({ functionName, url, lineNumber }) =>
      `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`
    const walk = (node, caller) => {
      if (node.selfSize > 0) {
        bytes += node.selfSize
        // A builtin's allocations are told by their caller.
        const site = node.callFrame.url === "" ? `${name(node.callFrame)} < ${caller}` : name(node.callFrame)
        sites.set(site, (sites.get(site) ?? 0) + node.selfSize)
      }
      for (const child of node.children ?? []) walk(child, name(node.callFrame))
    }
    walk(profile.head, "")
    console.log(`${(bytes / requests).toFixed(0)} B ${kept ? "kept past young collections" : "allocated"} per request`)
    for (const [site, n] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
      console.log(`${(n / requests).toFixed(0).padStart(6)} B ${site}`)
    }
  }
}
