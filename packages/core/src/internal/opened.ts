/**
 * How each open connection came up, as its connector reported it: read by a request's span
 * (connect and TLS events) and, when the connection closes, recorded as
 * `http.client.connection.duration`. An entry lives while its socket is open, so the map
 * holds at most one entry per open socket.
 *
 * @internal
 */
import type * as Connector from "../Connector.js"
import * as Metrics from "./metrics.js"

const open = new Map<number, Connector.OpenedReport>()

/** @internal */
export const reportOpened = (report: Connector.OpenedReport): void => {
  open.set(report.id, report)
}

/** @internal */
export const reportClosed = (report: Connector.OpenedReport): void => {
  // A connection that reconnected has a newer report under its id: only this one goes.
  if (open.get(report.id) === report) open.delete(report.id)
  Metrics.connectionClosed(Metrics.poolLabel(report.scheme, report.host, report.port), report.ready)
}

/** The report of the open connection `id`, or undefined. @internal */
export const openedReport = (id: number): Connector.OpenedReport | undefined => open.get(id)
