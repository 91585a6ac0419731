import * as Headers from '../../src/Headers'

const defaults = Headers.unsafeFromInput({ Accept: "text/html", "User-Agent": "app/1" })
Headers.merge(defaults, { accept: "application/json" })
// accept: application/json, User-Agent: app/1
