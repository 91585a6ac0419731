import * as Either from "effect/Either"
import { Timeout } from '../../src'

Timeout.make({ connect: 2, read: "7 seconds" }) // Right(Timeout)
Timeout.make({ total: -1 }) // Left(ValueError("Timeout value total was -1, ..."))
