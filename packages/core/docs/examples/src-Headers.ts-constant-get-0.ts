import * as Headers from '../../src/Headers'

const headers = Headers.unsafeFromInput([["Accept", "text/html"], ["accept", "text/plain"]])
Headers.get(headers, "ACCEPT") // Option.some("text/html, text/plain")
