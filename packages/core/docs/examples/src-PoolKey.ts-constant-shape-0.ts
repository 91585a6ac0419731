import { PoolKey } from '../../src'

const withField = PoolKey.shape([...PoolKey.defaultFields, "myField"])
withField.fields.at(-1) // "myField"
