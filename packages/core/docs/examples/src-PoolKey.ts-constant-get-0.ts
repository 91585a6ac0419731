import { PoolKey } from '../../src'

const key = PoolKey.make({ scheme: "http", host: "example.com", myField: "wheat" })
PoolKey.get(key, "myField") // "wheat"
PoolKey.get(key, "port") // 80
