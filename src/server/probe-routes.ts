import { AggregatorRegistry } from 'prom-client';
import type { Exchange } from './exchange.js';
import { sendJson } from './respond.js';
import type { ServerContext } from './server-context.js';

/** `GET /healthz`: liveness. 200 while the process can answer at all; it checks no dependency. */
export async function livenessRoute(exchange: Exchange): Promise<void> {
  sendJson(exchange.response, 200, { status: 'ok' }, { 'cache-control': 'no-store' });
}

/** `GET /readyz`: readiness. 200 when configuration, database and migrations are in order, else 503; the checks as JSON either way. */
export async function readinessRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const report = await context.backend.readiness();
  sendJson(exchange.response, report.ready ? 200 : 503, report, { 'cache-control': 'no-store' });
}

/**
 * `GET /metrics`: every Groundwork metric in Prometheus text format. When the server records into
 * metrics of its own (`createServer`'s `metrics`), the two registries hold the same families: each
 * family is served once, its samples summed per label set (what one registry would hold had
 * both recorded into it).
 */
export async function metricsRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const served = context.backend.metrics.registry;
  const recorded = context.metrics.registry;
  const registry =
    served === recorded ? served : AggregatorRegistry.aggregate([await served.getMetricsAsJSON(), await recorded.getMetricsAsJSON()]);
  const text = await registry.metrics();
  exchange.response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
  exchange.response.end(text);
}
