import { Timeout } from '../../src'

Timeout.connectTimeout(Timeout.unsafeMake({ connect: 3, total: 2 })) // 2 seconds
