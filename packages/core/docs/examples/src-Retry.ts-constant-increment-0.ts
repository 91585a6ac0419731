import * as Either from "effect/Either"
import { Errors, Retry } from '../../src'

const error = new Errors.ConnectTimeoutError({ message: "timed out" })
const next = Retry.increment(Retry.make({ total: 1 }), { method: "GET", url: "/", error })
// Right(Retry { total: 0, ... }); incrementing that again gives Left(MaxRetryError)
