import * as ProxyEnv from '../../src/ProxyEnv'

const noProxy = ProxyEnv.parseNoProxy(".example.com, 10.0.0.0/8, [::1]:8080")
ProxyEnv.shouldBypass(noProxy, "api.Example.com", 443) // true
ProxyEnv.shouldBypass(noProxy, "badexample.com", 443) // false
ProxyEnv.shouldBypass(noProxy, "10.20.30.40", 80) // true
ProxyEnv.shouldBypass(noProxy, "[::1]", 80) // false: wrong port
