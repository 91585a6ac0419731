import * as Headers from '../../src/Headers'

const headers = Headers.makeHeaders({ keepAlive: true, basicAuth: "foo:bar" })
Headers.toRecord(headers) // { connection: "keep-alive", authorization: "Basic Zm9vOmJhcg==" }
