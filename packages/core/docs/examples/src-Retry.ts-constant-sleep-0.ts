import * as Effect from "effect/Effect"
import { Retry } from '../../src'

// waits 3 seconds
const wait = Retry.sleep(Retry.DEFAULT, { status: 503, retryAfter: "3" })
