import { Metric } from "effect"
import { Metrics } from '../../src'

const opened = Metric.value(Metric.tagged(Metrics.connectionsOpened, "pool", "http://127.0.0.1:8080"))
