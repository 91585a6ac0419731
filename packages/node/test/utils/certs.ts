/**
 * Certificates for TLS tests, generated at test time with `selfsigned` (EC P-256, SHA-256)
 * and cached for the life of the test process: a test CA, a server certificate it signed
 * for `localhost`, `127.0.0.1` and `::1`, one it signed for another name, a self-signed
 * one, and a client certificate it signed. Every PEM is also written to a temp directory,
 * since httpool's TLS options take file paths.
 */
import { createHash, X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { generate } from "selfsigned"

/** Digests of a certificate's DER bytes, lower-case hex without colons. */
export interface Fingerprints {
  readonly md5: string
  readonly sha1: string
  readonly sha256: string
}

/** A certificate with its private key, as PEM text and as files. */
export interface KeyPair {
  readonly cert: string
  readonly key: string
  readonly certPath: string
  readonly keyPath: string
  /** The DER bytes of the certificate. */
  readonly der: Uint8Array
  readonly fingerprints: Fingerprints
}

/** Everything a TLS test needs. */
export interface TestCerts {
  /** The temp directory every file below lives in. */
  readonly dir: string
  /** The test CA (trust it with `caCerts: ca.certPath`). */
  readonly ca: KeyPair
  /** A directory holding only the CA's PEM (for `caCertDir`). */
  readonly caDir: string
  /** Signed by the CA for DNS:localhost, IP:127.0.0.1 and IP:::1. */
  readonly server: KeyPair
  /** Signed by the CA for DNS:other.example only (the wrong-host case). */
  readonly otherHost: KeyPair
  /** Signed by the CA for DNS:example.test only (a name pinned to 127.0.0.1 by a resolver). */
  readonly exampleTest: KeyPair
  /** Self-signed for DNS:localhost and IP:127.0.0.1 (trusted by nobody). */
  readonly selfSigned: KeyPair
  /** A client certificate signed by the CA (CN=httpool test client). */
  readonly client: KeyPair
  /** The client certificate and its key in one PEM file (for `certFile` alone). */
  readonly clientCombinedPath: string
  /** A second client certificate signed by the CA, whose key is encrypted with `clientKeyPassword`. */
  readonly clientEncryptedCertPath: string
  /** The encrypted key of `clientEncryptedCertPath`. */
  readonly clientEncryptedKeyPath: string
  readonly clientKeyPassword: string
}

const leafExtensions = (
  altNames: ReadonlyArray<{ readonly type: 2; readonly value: string } | { readonly type: 7; readonly ip: string }>,
  usage: "serverAuth" | "clientAuth"
) => [
  { name: "basicConstraints" as const, cA: false },
  { name: "keyUsage" as const, digitalSignature: true, keyEncipherment: true },
  { name: "extKeyUsage" as const, [usage]: true },
  { name: "subjectAltName" as const, altNames: altNames.map((name) => ({ ...name })) }
]

const fingerprintsOf = (der: Uint8Array): Fingerprints => ({
  md5: createHash("md5").update(der).digest("hex"),
  sha1: createHash("sha1").update(der).digest("hex"),
  sha256: createHash("sha256").update(der).digest("hex")
})

const write = (dir: string, name: string, text: string): string => {
  const file = path.join(dir, name)
  fs.writeFileSync(file, text, { mode: 0o600 })
  return file
}

const keyPair = (dir: string, name: string, pems: { readonly cert: string; readonly private: string }): KeyPair => {
  const der = new Uint8Array(new X509Certificate(pems.cert).raw)
  return {
    cert: pems.cert,
    key: pems.private,
    certPath: write(dir, `${name}.pem`, pems.cert),
    keyPath: write(dir, `${name}.key`, pems.private),
    der,
    fingerprints: fingerprintsOf(der)
  }
}

const createCerts = async (): Promise<TestCerts> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "httpool-certs-"))
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }))
  const base = { keyType: "ec", algorithm: "sha256" } as const

  const caPems = await generate([{ name: "commonName", value: "httpool test CA" }], {
    ...base,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
    ]
  })
  const signer = { ca: { key: caPems.private, cert: caPems.cert } }
  const [serverPems, otherPems, selfPems, clientPems, encryptedPems, examplePems] = await Promise.all([
    generate([{ name: "commonName", value: "localhost" }], {
      ...base,
      ...signer,
      extensions: leafExtensions(
        [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" }
        ],
        "serverAuth"
      )
    }),
    generate([{ name: "commonName", value: "other.example" }], {
      ...base,
      ...signer,
      extensions: leafExtensions([{ type: 2, value: "other.example" }], "serverAuth")
    }),
    generate([{ name: "commonName", value: "localhost" }], {
      ...base,
      extensions: leafExtensions(
        [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" }
        ],
        "serverAuth"
      )
    }),
    generate([{ name: "commonName", value: "httpool test client" }], {
      ...base,
      ...signer,
      extensions: leafExtensions([{ type: 2, value: "client.example" }], "clientAuth")
    }),
    generate([{ name: "commonName", value: "httpool test client (encrypted key)" }], {
      ...base,
      ...signer,
      passphrase: "wheat",
      extensions: leafExtensions([{ type: 2, value: "client.example" }], "clientAuth")
    }),
    generate([{ name: "commonName", value: "example.test" }], {
      ...base,
      ...signer,
      extensions: leafExtensions([{ type: 2, value: "example.test" }], "serverAuth")
    })
  ])

  const caDir = path.join(dir, "ca-dir")
  fs.mkdirSync(caDir)
  write(caDir, "ca.pem", caPems.cert)
  const client = keyPair(dir, "client", clientPems)
  return {
    dir,
    ca: keyPair(dir, "ca", caPems),
    caDir,
    server: keyPair(dir, "server", serverPems),
    otherHost: keyPair(dir, "other-host", otherPems),
    exampleTest: keyPair(dir, "example-test", examplePems),
    selfSigned: keyPair(dir, "self-signed", selfPems),
    client,
    clientCombinedPath: write(dir, "client-combined.pem", `${clientPems.cert}\n${clientPems.private}`),
    clientEncryptedCertPath: write(dir, "client-encrypted.pem", encryptedPems.cert),
    clientEncryptedKeyPath: write(dir, "client-encrypted.key", encryptedPems.private),
    clientKeyPassword: "wheat"
  }
}

let cached: Promise<TestCerts> | undefined

/** The test certificates, generated once per test process. */
export const load = (): Promise<TestCerts> => {
  if (cached === undefined) {
    cached = createCerts()
  }
  return cached
}

/** The test certificates as an Effect (generated once per test process). */
export const certs: Effect.Effect<TestCerts> = Effect.promise(load)
