import { Timeout } from '../../src'

const fast = Timeout.unsafeMake({ connect: 1, read: 2 })
