import { chatCompletionsRoute } from './chat-completions-route.js';
import type { Exchange } from './exchange.js';
import { modelsRoute } from './models-route.js';
import { livenessRoute, metricsRoute, readinessRoute } from './probe-routes.js';
import type { ServerContext } from './server-context.js';

/** Answers one request on a matched route. */
export type RouteHandler = (exchange: Exchange, context: ServerContext) => Promise<void>;

/** One path the server answers. */
export interface Route {
  /** The exact path, also the `route` label of the HTTP metrics. */
  readonly path: string;
  /** Handlers by method. `HEAD` is answered by the `GET` handler (Node drops the body). */
  readonly methods: Readonly<Record<string, RouteHandler>>;
  /**
   * Whether the caller needs a bearer key. Probes and metrics are open, so that orchestrators and
   * Prometheus can reach them without a secret; they reveal no prompt, answer or secret.
   */
  readonly authenticated: boolean;
  /** Whether each request is logged at `info` (API calls) or `debug` (frequent probes). */
  readonly quiet: boolean;
}

/** Every route of `groundwork serve`. */
export const ROUTES: readonly Route[] = [
  { path: '/healthz', methods: { GET: livenessRoute }, authenticated: false, quiet: true },
  { path: '/readyz', methods: { GET: readinessRoute }, authenticated: false, quiet: true },
  { path: '/metrics', methods: { GET: metricsRoute }, authenticated: false, quiet: true },
  { path: '/v1/chat/completions', methods: { POST: chatCompletionsRoute }, authenticated: true, quiet: false },
  { path: '/v1/models', methods: { GET: modelsRoute }, authenticated: true, quiet: false },
];

/** The route for `path` (trailing slash ignored), if any. */
export function findRoute(path: string, routes: readonly Route[] = ROUTES): Route | undefined {
  const normalized = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return routes.find((route) => route.path === normalized);
}

/** The handler for `method`, with `HEAD` falling back to `GET`. */
export function findHandler(route: Route, method: string): RouteHandler | undefined {
  return route.methods[method] ?? (method === 'HEAD' ? route.methods['GET'] : undefined);
}
