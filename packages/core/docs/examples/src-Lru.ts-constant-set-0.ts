import { Lru } from '../../src'

const [left] = Lru.set(Lru.empty<string, number>(0), "a", 1)
left // Option.some(["a", 1])
