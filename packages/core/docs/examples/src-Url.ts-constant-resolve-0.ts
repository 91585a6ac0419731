import * as Either from "effect/Either"
import * as Url from '../../src/Url'

Either.map(Url.resolve("http://example.com/a/b?x", "../c?y"), Url.format) // Either.right("http://example.com/c?y")
