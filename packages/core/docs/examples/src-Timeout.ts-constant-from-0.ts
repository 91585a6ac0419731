import { Timeout } from '../../src'

const pool = Timeout.unsafeMake(10)
Timeout.from(undefined, pool) // Right(pool)
Timeout.from(null, pool) // Right(Timeout.NONE)
Timeout.from(2, pool) // Right(connect 2 s, read 2 s)
