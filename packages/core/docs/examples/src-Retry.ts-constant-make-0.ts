import { Retry } from '../../src'

const retry = Retry.make({ total: 5, statusForcelist: [502, 503], backoffFactor: 0.5 })
