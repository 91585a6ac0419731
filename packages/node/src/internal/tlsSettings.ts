import * as Connector from "@httpool/core/Connector"
import * as Errors from "@httpool/core/Errors"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as tls from "node:tls"
import { messageOf } from "./errors.js"

type FingerprintAlgorithm = "md5" | "sha1" | "sha256"

/** @internal */
export interface ResolvedTls {
  readonly context: tls.SecureContext
  readonly servername: string | null
  readonly rejectUnauthorized: boolean
  readonly checkName: string | null
  readonly fingerprint: { readonly algorithm: FingerprintAlgorithm; readonly digest: Buffer } | null
}

const stripDot = (host: string): string => (host.endsWith(".") ? host.slice(0, -1) : host)

const TLS_VERSIONS: Readonly<Record<string, tls.SecureVersion>> = {
  TLSV1: "TLSv1",
  "TLSV1.0": "TLSv1",
  "TLSV1.1": "TLSv1.1",
  "TLSV1.2": "TLSv1.2",
  "TLSV1.3": "TLSv1.3",
  "MINIMUM.SUPPORTED": "TLSv1",
  "MAXIMUM.SUPPORTED": "TLSv1.3"
}

const tlsVersion = (value: string): tls.SecureVersion => {
  const version = TLS_VERSIONS[value.trim().toUpperCase().replace(/_/g, ".")]
  if (version === undefined) {
    throw new Errors.ValueError({ message: `Unknown TLS version ${JSON.stringify(value)}` })
  }
  return version
}

const verifies = (certReqs: string | null): boolean => {
  if (certReqs === null) return true
  const name = certReqs.trim().toUpperCase()
  return name !== "NONE" && name !== "CERT_NONE"
}

const PEM_CERTIFICATE = /-----BEGIN (?:TRUSTED )?CERTIFICATE-----[\s\S]+?-----END (?:TRUSTED )?CERTIFICATE-----/g

const pemCertificates = (text: string): Array<string> => text.match(PEM_CERTIFICATE) ?? []

/** Splits concatenated DER certificates (each one an ASN.1 SEQUENCE) and renders them as PEM. */
const derToPem = (der: Uint8Array): Array<string> => {
  const out: Array<string> = []
  let offset = 0
  while (offset < der.length) {
    if (der[offset] !== 0x30 || offset + 2 > der.length) throw new Error("caCertData is not DER")
    let length = der[offset + 1]!
    let header = 2
    if (length & 0x80) {
      const bytes = length & 0x7f
      if (bytes === 0 || bytes > 4 || offset + 2 + bytes > der.length) throw new Error("caCertData is not DER")
      length = 0
      for (let i = 0; i < bytes; i++) length = length * 256 + der[offset + 2 + i]!
      header += bytes
    }
    const end = offset + header + length
    if (end > der.length) throw new Error("caCertData is truncated")
    out.push(new crypto.X509Certificate(der.subarray(offset, end)).toString())
    offset = end
  }
  return out
}

const loadCa = (options: Connector.TlsOptions): Array<string> | undefined => {
  if (options.caCerts === null && options.caCertDir === null && options.caCertData === null) return undefined
  const ca: Array<string> = []
  if (options.caCerts !== null) {
    ca.push(...pemCertificates(fs.readFileSync(options.caCerts, "latin1")))
  }
  if (options.caCertDir !== null) {
    for (const entry of fs.readdirSync(options.caCertDir, { withFileTypes: true })) {
      if (!entry.isFile() && !entry.isSymbolicLink()) continue
      const file = path.join(options.caCertDir, entry.name)
      try {
        ca.push(...pemCertificates(fs.readFileSync(file, "latin1")))
      } catch {
        // An unreadable entry (a dangling link, a directory behind a link) holds no certificate.
      }
    }
  }
  if (options.caCertData !== null) {
    ca.push(
      ...(typeof options.caCertData === "string" ? pemCertificates(options.caCertData) : derToPem(options.caCertData))
    )
  }
  if (ca.length === 0) throw new Error("no CA certificate found in caCerts, caCertDir or caCertData")
  return ca
}

const fingerprintOf = (value: string): ResolvedTls["fingerprint"] => {
  const hex = value.replace(/:/g, "").trim().toLowerCase()
  const algorithm: FingerprintAlgorithm | undefined =
    hex.length === 32 ? "md5" : hex.length === 40 ? "sha1" : hex.length === 64 ? "sha256" : undefined
  if (algorithm === undefined) {
    throw new Errors.SSLError({ message: `Fingerprint of invalid length: ${value}` })
  }
  if (!/^[0-9a-f]+$/.test(hex)) {
    throw new Errors.SSLError({ message: `Fingerprint is not hexadecimal: ${value}` })
  }
  return { algorithm, digest: Buffer.from(hex, "hex") }
}

/** The class of `tls.createSecureContext`'s contexts (Node exports no name for it). */
let secureContextClass: Function | null = null

const isSecureContext = (value: unknown): value is tls.SecureContext => {
  if (secureContextClass === null) secureContextClass = tls.createSecureContext().constructor
  return typeof value === "object" && value !== null && value instanceof secureContextClass
}

/** Options that build a context, which a given `sslContext` already is. */
const CONTEXT_FIELDS = [
  "caCerts",
  "caCertDir",
  "caCertData",
  "certFile",
  "keyFile",
  "keyPassword",
  "sslMinimumVersion",
  "sslMaximumVersion"
] as const

/** A given `sslContext`: a `tls.SecureContext`, alone (the options it replaces left out). */
const givenContext = (options: Connector.TlsOptions): tls.SecureContext | null => {
  const given = options.sslContext
  if (given === undefined || given === null) return null
  if (!isSecureContext(given)) {
    throw new Errors.ValueError({
      message: "sslContext must be a tls.SecureContext (made with tls.createSecureContext)"
    })
  }
  const clash = CONTEXT_FIELDS.filter((field) => options[field] !== null)
  if (clash.length > 0) {
    throw new Errors.ValueError({
      message: `sslContext cannot be combined with ${clash.join(", ")}: set them on the context`
    })
  }
  return given
}

const resolveTls = (host: string, options: Connector.TlsOptions, raw: tls.ConnectionOptions | null): ResolvedTls => {
  const fingerprint = options.assertFingerprint === null ? null : fingerprintOf(options.assertFingerprint)
  const name = stripDot(options.serverHostname ?? host)
  let context: tls.SecureContext
  try {
    const certFile = options.certFile
    const keyFile = options.keyFile ?? certFile
    context =
      givenContext(options) ??
      tls.createSecureContext({
        ...raw,
        minVersion: tlsVersion(options.sslMinimumVersion ?? "TLSv1.2"),
        ...(options.sslMaximumVersion === null ? {} : { maxVersion: tlsVersion(options.sslMaximumVersion) }),
        ...(loadCaOption(options) ?? {}),
        ...(certFile === null ? {} : { cert: fs.readFileSync(certFile) }),
        ...(keyFile === null || certFile === null ? {} : { key: fs.readFileSync(keyFile) }),
        ...(options.keyPassword === null ? {} : { passphrase: options.keyPassword })
      })
  } catch (error) {
    if (Errors.isHttpoolError(error)) throw error
    throw new Errors.SSLError({ message: `Could not load the TLS settings: ${messageOf(error)}`, cause: error })
  }
  return {
    context,
    servername: net.isIP(name) === 0 && name.length > 0 ? name : null,
    rejectUnauthorized: verifies(options.certReqs),
    // urllib3 checks either the fingerprint or the name, never both.
    checkName:
      fingerprint !== null || options.assertHostname === false
        ? null
        : stripDot(typeof options.assertHostname === "string" ? options.assertHostname : name),
    fingerprint
  }
}

const loadCaOption = (options: Connector.TlsOptions): { readonly ca: Array<string> } | undefined => {
  const ca = loadCa(options)
  return ca === undefined ? undefined : { ca }
}

// Settings are read once per TlsOptions value (pools hand the same value to every connection)
// and connector's raw options.
const resolvedTls = new WeakMap<Connector.TlsOptions, Map<string, ResolvedTls>>()
const resolvedWithRaw = new WeakMap<tls.ConnectionOptions, WeakMap<Connector.TlsOptions, Map<string, ResolvedTls>>>()

/**
 * The TLS settings for connecting to `host`, read (CA files, client certificate) once per
 * `TlsOptions` value, connector's raw options and host.
 *
 * @internal
 */
export const cachedTls = (
  host: string,
  options: Connector.TlsOptions,
  raw: tls.ConnectionOptions | null = null
): ResolvedTls => {
  let byOptions = resolvedTls
  if (raw !== null) {
    let found = resolvedWithRaw.get(raw)
    if (found === undefined) {
      found = new WeakMap()
      resolvedWithRaw.set(raw, found)
    }
    byOptions = found
  }
  let byHost = byOptions.get(options)
  if (byHost === undefined) {
    byHost = new Map()
    byOptions.set(options, byHost)
  }
  let resolved = byHost.get(host)
  if (resolved === undefined) {
    resolved = resolveTls(host, options, raw)
    byHost.set(host, resolved)
  }
  return resolved
}

/** The certificate has the pinned digest: null, or the SSLError saying it does not. @internal */
export const checkFingerprint = (socket: tls.TLSSocket, expected: NonNullable<ResolvedTls["fingerprint"]>) => {
  const cert = socket.getPeerCertificate()
  const raw: Buffer | undefined = cert?.raw
  if (raw === undefined || raw.length === 0) {
    return new Errors.SSLError({ message: "No certificate was received to check its fingerprint" })
  }
  const actual = crypto.createHash(expected.algorithm).update(raw).digest()
  return actual.length === expected.digest.length && crypto.timingSafeEqual(actual, expected.digest)
    ? null
    : new Errors.SSLError({
        message: `Fingerprints did not match. Expected "${expected.digest.toString("hex")}", got "${actual.toString("hex")}"`
      })
}

/** No TLS option given: verification against Node's root store, the host's name checked. @internal */
export const emptyTls: Connector.TlsOptions = Connector.makeTlsOptions({})
