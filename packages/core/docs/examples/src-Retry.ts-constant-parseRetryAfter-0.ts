import { Retry } from '../../src'

Retry.parseRetryAfter(Retry.DEFAULT, "120", Date.now()) // Right(120 seconds)
