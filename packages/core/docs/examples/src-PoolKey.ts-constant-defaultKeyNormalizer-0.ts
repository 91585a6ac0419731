import { PoolKey } from '../../src'

const withField = PoolKey.shape([...PoolKey.defaultFields, "myField"])
PoolKey.defaultKeyNormalizer(withField, { scheme: "HTTP", host: "Example.com", myField: "wheat" })
