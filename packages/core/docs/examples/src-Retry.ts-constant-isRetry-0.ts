import { Retry } from '../../src'

Retry.isRetry(Retry.make(), "GET", 503, true) // true
Retry.isRetry(Retry.make(), "GET", 418, true) // false
Retry.isRetry(Retry.make({ statusForcelist: [500] }), "POST", 500) // false: POST is not allowed
