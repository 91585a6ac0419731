import { PoolKey } from '../../src'

const keyFnByScheme = {
  ...PoolKey.defaultKeyFnByScheme,
  http: PoolKey.keyFn(PoolKey.shape(["myField"]))
}
