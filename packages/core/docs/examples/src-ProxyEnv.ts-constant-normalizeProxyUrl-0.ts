import * as ProxyEnv from '../../src/ProxyEnv'

ProxyEnv.normalizeProxyUrl("User:pw@Proxy.Example:3128") // Either.right("http://User:pw@proxy.example:3128")
ProxyEnv.normalizeProxyUrl("socks5://proxy:1080") // Either.left(ProxySchemeUnknown({ scheme: "socks5" }))
