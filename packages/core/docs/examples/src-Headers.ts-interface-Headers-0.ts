import * as Headers from '../../src/Headers'

const headers = Headers.unsafeFromInput({ Accept: "text/html" }).pipe(
  Headers.add("Set-Cookie", "a=1"),
  Headers.add("set-cookie", "b=2")
)
Array.from(headers) // [["Accept", "text/html"], ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]
headers.size // 2
