import { adminApiRoute } from '../dashboard/admin-api-route.js';
import { uiRoute } from '../dashboard/ui-route.js';
import { adminKeysRoute, adminTeamsRoute, adminUsageRoute } from './admin-api.js';
import { chatCompletionsRoute } from './chat-completions-route.js';
import { embeddingsRoute } from './embeddings-route.js';
import type { Exchange } from './exchange.js';
import { methodHandler } from './method-handler.js';
import { modelRoute, modelsRoute } from './models-route.js';
import { livenessRoute, metricsRoute, readinessRoute } from './probe-routes.js';
import { cancelResponseRoute } from './responses/cancel-response-route.js';
import { deleteResponseRoute } from './responses/delete-response-route.js';
import { responseInputItemsRoute } from './responses/response-input-items-route.js';
import { responseRoute } from './responses/response-route.js';
import { responsesRoute } from './responses/responses-route.js';
import { parameterOf, routePath } from './route-parameter.js';
import type { ServerContext } from './server-context.js';

/** Answers one request on a matched route. */
export type RouteHandler = (exchange: Exchange, context: ServerContext) => Promise<void>;

/** One path the server answers. */
export interface Route {
  /**
   * The exact path, or a prefix ending in one `{parameter}` that matches the rest of the path
   * (`/v1/models/{model}`), or a `{parameter}` that matches one segment followed by a fixed rest
   * (`/v1/responses/{id}/cancel`); also the `route` label of the HTTP metrics.
   */
  readonly path: string;
  /** Handlers by method. `HEAD` is answered by the `GET` handler (Node drops the body). */
  readonly methods: Readonly<Record<string, RouteHandler>>;
  /**
   * Answers every other method: a route whose paths accept different methods (the admin API's
   * `…/{key}` and `…/{key}/rotate`) answers 404 and 405 itself, for the path it was asked. The
   * admin API's routes take every method here, so that a caller without the admin key gets 401
   * before learning which paths or methods exist.
   */
  readonly otherMethods?: RouteHandler;
  /**
   * Whether the caller needs a bearer key. Probes and metrics are open, so that orchestrators and
   * Prometheus can reach them without a secret; they reveal no prompt, answer or secret.
   */
  readonly authenticated: boolean;
  /** Whether each request is logged at `info` (API calls) or `debug` (frequent probes). */
  readonly quiet: boolean;
}

const UI = { GET: uiRoute, POST: uiRoute };

/** Every route of `groundwork serve`. */
export const ROUTES: readonly Route[] = [
  { path: '/healthz', methods: { GET: livenessRoute }, authenticated: false, quiet: true },
  { path: '/readyz', methods: { GET: readinessRoute }, authenticated: false, quiet: true },
  { path: '/metrics', methods: { GET: metricsRoute }, authenticated: false, quiet: true },
  { path: '/v1/chat/completions', methods: { POST: chatCompletionsRoute }, authenticated: true, quiet: false },
  { path: '/v1/embeddings', methods: { POST: embeddingsRoute }, authenticated: true, quiet: false },
  { path: '/v1/responses', methods: { POST: responsesRoute }, authenticated: true, quiet: false },
  // Before `/v1/responses/{id}`, which would take `{id}/cancel` as an id.
  { path: '/v1/responses/{id}/cancel', methods: { POST: cancelResponseRoute }, authenticated: true, quiet: false },
  { path: '/v1/responses/{id}/input_items', methods: { GET: responseInputItemsRoute }, authenticated: true, quiet: false },
  { path: '/v1/responses/{id}', methods: { GET: responseRoute, DELETE: deleteResponseRoute }, authenticated: true, quiet: false },
  { path: '/v1/models', methods: { GET: modelsRoute }, authenticated: true, quiet: false },
  { path: '/v1/models/{model}', methods: { GET: modelRoute }, authenticated: true, quiet: false },
  // The admin API checks its own key (GROUNDWORK_ADMIN_KEY), never a caller's.
  { path: '/admin/keys', methods: {}, otherMethods: adminKeysRoute, authenticated: false, quiet: false },
  { path: '/admin/keys/{key}', methods: {}, otherMethods: adminKeysRoute, authenticated: false, quiet: false },
  { path: '/admin/teams', methods: {}, otherMethods: adminTeamsRoute, authenticated: false, quiet: false },
  { path: '/admin/teams/{team}', methods: {}, otherMethods: adminTeamsRoute, authenticated: false, quiet: false },
  { path: '/admin/usage', methods: {}, otherMethods: adminUsageRoute, authenticated: false, quiet: false },
  // The dashboard checks the admin key or its login session itself, for every method, before a 404 or 405.
  { path: '/admin/api/{path}', methods: {}, otherMethods: adminApiRoute, authenticated: false, quiet: false },
  { path: '/ui', methods: UI, authenticated: false, quiet: true },
  { path: '/ui/{path}', methods: UI, authenticated: false, quiet: true },
];

/** The route for `path` (trailing slash ignored), if any. */
export function findRoute(path: string, routes: readonly Route[] = ROUTES): Route | undefined {
  const normalized = routePath(path);
  return routes.find((route) => route.path === normalized) ?? routes.find((route) => parameterOf(route, normalized) !== undefined);
}

/** The handler for `method`, with `HEAD` falling back to `GET`, then to the route's handler of other methods. */
export function findHandler(route: Route, method: string): RouteHandler | undefined {
  return methodHandler(route.methods, method) ?? route.otherMethods;
}
