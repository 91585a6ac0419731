import * as Either from "effect/Either"
import * as ProxyEnv from '../../src/ProxyEnv'

const env = Either.getOrThrow(
  ProxyEnv.fromEnv({
    https_proxy: "user:secret@proxy.internal:3128",
    NO_PROXY: "localhost,.corp.example,10.0.0.0/8"
  })
)
env.https // "http://user:secret@proxy.internal:3128"
ProxyEnv.proxyFor(env, "https://example.com/") // Option.some("http://user:secret@proxy.internal:3128")
ProxyEnv.proxyFor(env, "https://git.corp.example/") // Option.none(): NO_PROXY
ProxyEnv.proxyFor(env, "http://example.com/") // Option.none(): no http_proxy
String(env) // shows "http://<redacted>@proxy.internal:3128"
