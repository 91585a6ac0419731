import * as Either from "effect/Either"
import * as ProxyEnv from '../../src/ProxyEnv'

const env = Either.getOrThrow(ProxyEnv.make({ http: "proxy:3128", noProxy: "localhost" }))
env.http // "http://proxy:3128"
