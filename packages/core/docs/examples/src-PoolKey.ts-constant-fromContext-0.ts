import * as Either from "effect/Either"
import { PoolKey } from '../../src'

PoolKey.fromContext(PoolKey.defaultKeyFnByScheme, { scheme: "ftp", host: "example.com" })
// Either.left(URLSchemeUnknown({ scheme: "ftp" }))
