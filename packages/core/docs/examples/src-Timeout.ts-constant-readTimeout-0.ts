import * as Duration from "effect/Duration"
import { Timeout } from '../../src'

const t = Timeout.unsafeMake({ total: 10, read: 3 })
Timeout.readTimeout(t, Duration.seconds(8)) // 2 seconds
Timeout.readTimeout(t, Duration.seconds(11)) // zero: already timed out
