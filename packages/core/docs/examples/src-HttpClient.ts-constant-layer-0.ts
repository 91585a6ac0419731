import { HttpClient } from '../../src'
import { NodePoolManager } from "@httpool/node"
import { Layer } from "effect"

const HttpLive = HttpClient.layer({ followRedirects: false }).pipe(
  Layer.provide(NodePoolManager.layer({ numPools: 20 }))
)
