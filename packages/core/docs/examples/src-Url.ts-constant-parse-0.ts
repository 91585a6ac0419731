import * as Either from "effect/Either"
import * as Url from '../../src/Url'

const url = Either.getOrThrow(Url.parse("HTTP://User@Müller.Example:0080/a/../b c?q=[1]#top"))
url.host // "xn--mller-kva.example"
url.port // 80
Url.formatt(url) // "http://User@xn--mller-kva.example:80/b%20c?q=%5B1%5D#top"
Url.requestUri(url) // "/b%20c?q=%5B1%5D"
