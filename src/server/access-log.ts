import type { Logger } from '../observability/logger.js';
import { increment, observe } from '../observability/metric-series.js';
import type { GroundworkMetrics } from '../observability/metrics.js';

/** Status recorded when the caller disconnected before the answer was complete (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

/** One finished request, as logged and counted. Never the URL's query, a header's value or a body. */
export interface RequestRecord {
  method: string;
  /** The matched route, or `unmatched`: never the raw path, to keep metric labels bounded. */
  route: string;
  status: number;
  durationMs: number;
  requestId: string;
  /** Probes log at `debug`, API calls at `info`. */
  quiet: boolean;
}

/** Records `groundwork_http_requests_total` and `groundwork_http_request_duration_seconds`, and writes the access-log line when enabled. */
export function recordRequest(record: RequestRecord, metrics: GroundworkMetrics, logger: Logger, accessLog: boolean): void {
  const method = record.method;
  increment(metrics.httpRequests, { method, route: record.route, status: String(record.status) });
  observe(metrics.httpDuration, { method, route: record.route }, record.durationMs / 1000);
  if (!accessLog) return;
  const line = {
    method,
    route: record.route,
    status: record.status,
    durationMs: Math.round(record.durationMs * 100) / 100,
    requestId: record.requestId,
  };
  if (record.quiet) logger.debug(line, 'request');
  else logger.info(line, 'request');
}
