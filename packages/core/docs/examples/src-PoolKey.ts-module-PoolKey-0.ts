import * as Equal from "effect/Equal"
import { PoolKey } from '../../src'

const a = PoolKey.make({ scheme: "HTTP", host: "Example.com" })
const b = PoolKey.make({ scheme: "http", host: "example.com", port: 80 })
Equal.equals(a, b) // true: one pool
