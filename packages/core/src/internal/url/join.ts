import { IPV6, SLASH } from "./chars.js"

// ---------------------------------------------------------------------------
// Resolving a redirect (Python's urllib.parse.urljoin, which urllib3's PoolManager uses)
// ---------------------------------------------------------------------------

const usesRelative = new Set([
  "",
  "ftp",
  "http",
  "gopher",
  "nntp",
  "imap",
  "wais",
  "file",
  "https",
  "shttp",
  "mms",
  "prospero",
  "rtsp",
  "rtsps",
  "rtspu",
  "sftp",
  "svn",
  "svn+ssh",
  "ws",
  "wss",
  // httpool's own: a relative Location stays on the Unix domain socket it came from.
  "http+unix"
])
const usesNetloc = new Set([
  "",
  "ftp",
  "http",
  "gopher",
  "nntp",
  "telnet",
  "imap",
  "wais",
  "file",
  "mms",
  "https",
  "shttp",
  "snews",
  "prospero",
  "rtsp",
  "rtsps",
  "rtspu",
  "rsync",
  "svn",
  "svn+ssh",
  "sftp",
  "nfs",
  "git",
  "git+ssh",
  "ws",
  "wss",
  "http+unix"
])
const usesParams = new Set([
  "",
  "ftp",
  "hdl",
  "prospero",
  "http",
  "imap",
  "https",
  "shttp",
  "rtsp",
  "rtsps",
  "rtspu",
  "sip",
  "sips",
  "mms",
  "sftp",
  "tel"
])

interface Reference {
  scheme: string
  netloc: string
  path: string
  params: string
  query: string
  fragment: string
}

const LEADING_CONTROL_OR_SPACE = /^[\x00-\x20]+/
const TAB_OR_NEWLINE = /[\t\r\n]/g
const SCHEME_CHARS = /^[A-Za-z][A-Za-z0-9+.-]*$/
const IP_FUTURE = /^v[a-fA-F0-9]+\.[^\n]+$/

/** A bracketed host as Python accepts it: IPvFuture, or an IPv6 address with an optional scope. */
const validBracketedHost = (inner: string): boolean => {
  if (inner.startsWith("v")) return IP_FUTURE.test(inner)
  const pct = inner.indexOf("%")
  if (pct === -1) return IPV6.test(inner)
  const scope = inner.slice(pct + 1)
  return IPV6.test(inner.slice(0, pct)) && scope.length > 0 && !scope.includes("%")
}

/** Splits a URL reference the way Python's `urlparse` does; null where it raises. */
const splitReference = (raw: string, defaultScheme: string): Reference | null => {
  let url = raw.replace(LEADING_CONTROL_OR_SPACE, "").replace(TAB_OR_NEWLINE, "")
  let scheme = defaultScheme
  const colon = url.indexOf(":")
  if (colon > 0 && SCHEME_CHARS.test(url.slice(0, colon))) {
    scheme = url.slice(0, colon).toLowerCase()
    url = url.slice(colon + 1)
  }
  let netloc = ""
  if (url.startsWith("//")) {
    let end = url.length
    for (const delimiter of ["/", "?", "#"]) {
      const at = url.indexOf(delimiter, 2)
      if (at !== -1 && at < end) end = at
    }
    netloc = url.slice(2, end)
    url = url.slice(end)
    const open = netloc.includes("[")
    const close = netloc.includes("]")
    if (open !== close) return null
    if (open) {
      const inner = netloc.slice(netloc.indexOf("[") + 1)
      const closing = inner.indexOf("]")
      if (!validBracketedHost(closing === -1 ? inner : inner.slice(0, closing))) return null
    }
  }
  let fragment = ""
  const hash = url.indexOf("#")
  if (hash !== -1) {
    fragment = url.slice(hash + 1)
    url = url.slice(0, hash)
  }
  let query = ""
  const question = url.indexOf("?")
  if (question !== -1) {
    query = url.slice(question + 1)
    url = url.slice(0, question)
  }
  if (!netlocSurvivesNfkc(netloc)) return null
  let params = ""
  if (usesParams.has(scheme) && url.includes(";")) {
    const semicolon = url.includes("/") ? url.indexOf(";", url.lastIndexOf("/")) : url.indexOf(";")
    if (semicolon !== -1) {
      params = url.slice(semicolon + 1)
      url = url.slice(0, semicolon)
    }
  }
  return { scheme, netloc, path: url, params, query, fragment }
}

/** Python refuses a non-ASCII netloc whose NFKC form grows URL delimiters. */
const netlocSurvivesNfkc = (netloc: string): boolean => {
  if (netloc.length === 0 || /^[\x00-\x7f]*$/.test(netloc)) return true
  const stripped = netloc.replace(/[@:#?]/g, "")
  const normalized = stripped.normalize("NFKC")
  return normalized === stripped || !/[/?#@:]/.test(normalized)
}

const unsplit = (r: Reference): string => {
  let url = r.params.length > 0 ? `${r.path};${r.params}` : r.path
  if (r.netloc.length > 0 || (r.scheme.length > 0 && usesNetloc.has(r.scheme) && !url.startsWith("//"))) {
    if (url.length > 0 && url.charCodeAt(0) !== SLASH) url = `/${url}`
    url = `//${r.netloc}${url}`
  }
  if (r.scheme.length > 0) url = `${r.scheme}:${url}`
  if (r.query.length > 0) url += `?${r.query}`
  if (r.fragment.length > 0) url += `#${r.fragment}`
  return url
}

/** @internal */
export const join = (base: string, location: string): string | null => {
  if (base.length === 0) return location
  if (location.length === 0) return base
  const b = splitReference(base, "")
  if (b === null) return null
  const r = splitReference(location, b.scheme)
  if (r === null) return null
  if (r.scheme !== b.scheme || !usesRelative.has(r.scheme)) return location
  if (usesNetloc.has(r.scheme)) {
    if (r.netloc.length > 0) return unsplit(r)
    r.netloc = b.netloc
  }
  if (r.path.length === 0 && r.params.length === 0) {
    r.path = b.path
    r.params = b.params
    if (r.query.length === 0) r.query = b.query
    return unsplit(r)
  }
  const baseParts = b.path.split("/")
  if (baseParts[baseParts.length - 1] !== "") baseParts.pop()
  let segments: Array<string>
  if (r.path.charCodeAt(0) === SLASH) {
    segments = r.path.split("/")
  } else {
    const all = baseParts.concat(r.path.split("/"))
    segments = all.length <= 2 ? all : [all[0], ...all.slice(1, -1).filter((s) => s.length > 0), all[all.length - 1]]
  }
  const resolved: Array<string> = []
  for (const segment of segments) {
    if (segment === "..") resolved.pop()
    else if (segment !== ".") resolved.push(segment)
  }
  const last = segments[segments.length - 1]
  if (last === "." || last === "..") resolved.push("")
  r.path = resolved.join("/") || "/"
  return unsplit(r)
}

/** @internal */
