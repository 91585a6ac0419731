import { PoolKey } from '../../src'

const key = PoolKey.make({ scheme: "https", host: "example.com", port: 8443 })
key.timeout // null
