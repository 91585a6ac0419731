import * as Option from "effect/Option"
import { Lru } from '../../src'

let lru = Lru.empty<string, number>(2)
;[, lru] = Lru.set(lru, "a", 1)
;[, lru] = Lru.set(lru, "b", 2)
;[, lru] = Lru.get(lru, "a") // "a" is now the most recently used
const [evicted, next] = Lru.set(lru, "c", 3)
evicted // Option.some(["b", 2])
Lru.keys(next) // ["a", "c"]
