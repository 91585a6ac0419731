// Where the bytes of a measured stretch are allocated, by V8's sampling heap profiler: shared
// by the prof scripts' ALLOC=1 (everything allocated, what collections freed included) and
// ALLOC=kept (only what outlived young collections).
import * as inspector from "node:inspector/promises"

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
