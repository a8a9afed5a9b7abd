import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ServerConfig } from '../config/app-config.js';
import type { Dashboard } from '../dashboard/dashboard.js';
import { DashboardGuard } from '../dashboard/dashboard-guard.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { CLIENT_CLOSED_STATUS, recordRequest } from './access-log.js';
import type { AdminApi } from './admin-api.js';
import { AdminKeyLockout } from './admin-key-lockout.js';
import { ApiKeyVerifier } from './api-key-verifier.js';
import { authenticate } from './authenticate.js';
import { assertSafeBind } from './bind-address.js';
import { ConnectionTracker } from './connection-tracker.js';
import { applyCors } from './cors.js';
import { errorAnswer } from './error-answer.js';
import type { Exchange } from './exchange.js';
import { type ErrorAnswer, errorBody, HttpError, methodNotAllowed } from './http-error.js';
import { refuseCrossSite, refuseForeignHost } from './keyless-guard.js';
import { logFailure } from './log-failure.js';
import { requestIdOf } from './request-id.js';
import { sendError } from './respond.js';
import { findHandler, findRoute, type Route, type RouteHandler } from './routes.js';
import type { ServerContext } from './server-context.js';
import type { ServiceBackend } from './service-backend.js';
import type { ServiceTenants } from './service-tenants.js';

/** Where the server logs and records its HTTP metrics. */
export interface ServerDependencies {
  logger: Logger;
  /** HTTP metrics are recorded here. @default `backend.metrics` */
  metrics?: GroundworkMetrics;
  /** Accept virtual keys from the database, with their budgets and limits; every API call then needs a key. */
  tenants?: ServiceTenants;
  /** Serve the admin API (`/admin/…`) with these keys and teams. */
  admin?: AdminApi;
  /** Serve the dashboard (`/ui`) and its JSON API (`/admin/api/…`) over this ledger and live state. */
  dashboard?: Dashboard;
}

/** Where a listening server can be reached. */
export interface ListenAddress {
  port: number;
  host: string;
}

/** A `groundwork serve` HTTP server. */
export interface GroundworkServer {
  /** Binds to `config.host:config.port` (port 0: an ephemeral port). Refuses a non-loopback host without API keys. */
  listen(): Promise<ListenAddress>;
  /**
   * Graceful shutdown: stops accepting, lets in-flight requests finish for up to
   * `config.shutdownTimeoutMs`, destroys what is left, then closes the backend. Idempotent.
   */
  close(): Promise<void>;
  /** The bound address; undefined before `listen()`. */
  readonly address: ListenAddress | undefined;
  /** Requests being answered right now. */
  readonly inFlight: number;
}

/**
 * Builds the HTTP service over a {@link ServiceBackend}: probes, Prometheus metrics and an
 * OpenAI-compatible API, with bearer-key auth, size-limited validated bodies, OpenAI's error JSON,
 * access logs without prompt text, and graceful shutdown.
 */
export function createServer(backend: ServiceBackend, config: ServerConfig, dependencies: ServerDependencies): GroundworkServer {
  const logger = dependencies.logger.child({ component: 'server' });
  // One count of wrong admin keys for the admin API, the dashboard's API and its login form.
  const adminKeyLockout = new AdminKeyLockout(() => dependencies.dashboard?.now?.() ?? Date.now());
  const context: ServerContext = {
    backend,
    config,
    logger,
    metrics: dependencies.metrics ?? backend.metrics,
    tenants: dependencies.tenants,
    admin: dependencies.admin,
    adminKeyLockout,
    dashboard:
      dependencies.dashboard === undefined
        ? undefined
        : { dashboard: dependencies.dashboard, guard: new DashboardGuard(dependencies.dashboard, config.host, adminKeyLockout) },
  };
  // Read at each check: GROUNDWORK_API_KEYS rotates with reloadSecrets().
  const verifier = new ApiKeyVerifier(() => config.apiKeys);
  const authenticated = verifier.enabled || dependencies.tenants !== undefined;
  const tracker = new ConnectionTracker();
  let closing: Promise<void> | undefined;
  let address: ListenAddress | undefined;
  const refused = new WeakMap<ServerResponse, number>();
  const options: HandleOptions = {
    context,
    verifier,
    keyless: !authenticated,
    tracker,
    draining: () => closing !== undefined,
    refused,
  };
  const server: Server = createHttpServer(connectionLimits(config), (request, response) => {
    const aborter = new AbortController();
    tracker.track(request.socket, response, aborter);
    void handle(request, response, aborter, options);
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, context, refused));
  tracker.attach(server);
  server.maxConnections = config.maxConnections;
  const refusedConnections = new RefusedConnections(logger, config.maxConnections);
  server.on('drop', () => refusedConnections.refused());

  return {
    async listen() {
      assertSafeBind(config.host, authenticated);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const bound = server.address() as AddressInfo;
      address = { port: bound.port, host: bound.address };
      logger.info(
        { host: address.host, port: address.port, authenticated },
        authenticated ? 'listening' : 'listening on loopback only: no GROUNDWORK_API_KEYS configured',
      );
      // The operator's default cannot apply to every call: said once here, not refused on each.
      if (config.cache && backend.responses?.mode === 'forwarded') {
        logger.info(
          { provider: backend.responses.provider },
          'SERVER_CACHE does not apply to forwarded Responses API calls (OpenAI, Azure OpenAI): they are answered by the provider, never from the response cache',
        );
      }
      return address;
    },
    close() {
      if (closing === undefined) refusedConnections.report();
      closing ??= shutdown(server, tracker, backend, config.shutdownTimeoutMs, logger);
      return closing;
    },
    get address() {
      return address;
    },
    get inFlight() {
      return tracker.inFlight;
    },
  };
}

interface HandleOptions {
  context: ServerContext;
  verifier: ApiKeyVerifier;
  /** No caller keys (static or virtual): the service is on loopback, and browsers' requests from elsewhere are refused. */
  keyless: boolean;
  /** Counts the request until its response closes. */
  tracker: ConnectionTracker;
  draining: () => boolean;
  /** Responses Node's parser cut short with an answer of the server's own (408 for a body that stopped arriving), by the status sent. */
  refused: WeakMap<ServerResponse, number>;
}

async function handle(request: IncomingMessage, response: ServerResponse, aborter: AbortController, options: HandleOptions): Promise<void> {
  const { context } = options;
  const started = performance.now();
  const requestId = requestIdOf(request.headers['x-request-id']);
  const path = pathOf(request);
  const route = findRoute(path);
  const socket = request.socket;
  // One listener for the tracker, the abort and the record: each listener on a response costs its
  // own wrapper and array growth. A response emits `close` once, so no `once` wrapper either.
  response.on('close', () => {
    options.tracker.release(socket, response);
    const finished = response.writableFinished;
    if (!finished) aborter.abort(new Error('The caller disconnected before the answer was complete'));
    recordRequest(
      {
        method: request.method ?? 'GET',
        route: route?.path ?? 'unmatched',
        status: finished ? response.statusCode : (options.refused.get(response) ?? CLIENT_CLOSED_STATUS),
        durationMs: performance.now() - started,
        requestId,
        quiet: route?.quiet ?? false,
      },
      context.metrics,
      context.logger,
      context.config.accessLog,
    );
  });
  response.setHeader('x-request-id', requestId);
  const exchange: Exchange = { request, response, requestId, signal: aborter.signal };
  try {
    if (options.draining()) {
      response.setHeader('connection', 'close');
      throw new HttpError({
        status: 503,
        type: 'service_unavailable',
        code: 'shutting_down',
        message: 'The server is shutting down; try another instance.',
        retryAfterMs: 1000,
      });
    }
    if (options.keyless) refuseForeignHost(request, context.config.host);
    // Only the API is for other origins' pages: the dashboard and its JSON (`/admin/…`, `/ui…`) never get CORS headers.
    if (path.startsWith('/v1/') && applyCors(request, response, context.config.corsOrigins)) return;
    const handler = dispatch(route, request, response);
    if (route?.authenticated === true) {
      // Before the body is read: a page elsewhere must not get a keyless service to call a provider.
      if (options.keyless) refuseCrossSite(request, context.config.corsOrigins);
      exchange.caller = await authenticate(request, options.verifier, context.tenants);
    }
    await handler(exchange, context);
  } catch (error) {
    if (aborter.signal.aborted || response.destroyed) return;
    const answer = errorAnswer(error, requestId);
    logFailure(context.logger, error, answer, requestId);
    if (response.headersSent) response.destroy();
    else sendError(response, answer);
  }
}

function dispatch(route: Route | undefined, request: IncomingMessage, response: ServerResponse): RouteHandler {
  if (route === undefined) {
    // The path is not echoed: a key pasted into it by mistake would come back in the answer.
    throw new HttpError({
      status: 404,
      type: 'not_found_error',
      code: 'not_found',
      message: `No route matches this ${String(request.method).slice(0, 16)} request's path.`,
    });
  }
  const handler = findHandler(route, request.method ?? 'GET');
  if (handler === undefined) throw methodNotAllowed(response, route.path, Object.keys(route.methods));
  return handler;
}

async function shutdown(
  server: Server,
  tracker: ConnectionTracker,
  backend: ServiceBackend,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  if (!server.listening) {
    // Never served (the port was taken, a migration failed): nothing to drain, and nothing to announce.
    await backend.close();
    return;
  }
  logger.info({ inFlight: tracker.inFlight, timeoutMs }, 'shutting down: no new connections, finishing requests in flight');
  const stopped = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
  tracker.drain();
  const timer = setTimeout(() => {
    logger.warn(
      { inFlight: tracker.inFlight },
      `requests still in flight after ${timeoutMs} ms (SERVER_SHUTDOWN_TIMEOUT_MS); closing their connections`,
    );
    tracker.destroyAll(new Error(`The server shut down before the answer was complete (SERVER_SHUTDOWN_TIMEOUT_MS=${timeoutMs})`));
  }, timeoutMs);
  try {
    await stopped;
  } finally {
    clearTimeout(timer);
  }
  await backend.close();
  logger.info('server closed');
}

/** How long after one warning about refused connections the next may be written. */
const REFUSED_CONNECTIONS_REPORT_MS = 10_000;

/**
 * Warns of connections Node closed at once because `SERVER_MAX_CONNECTIONS` were open (their
 * callers see a reset, and nothing else would say why): the first at once, then at most one line
 * in {@link REFUSED_CONNECTIONS_REPORT_MS} with how many were refused since the last (written when
 * that time is up), and at shutdown those not yet told.
 */
export class RefusedConnections {
  readonly #logger: Logger;
  readonly #maxConnections: number;
  #untold = 0;
  #reportedAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(logger: Logger, maxConnections: number) {
    this.#logger = logger;
    this.#maxConnections = maxConnections;
  }

  refused(): void {
    this.#untold++;
    const since = performance.now() - this.#reportedAt;
    if (since >= REFUSED_CONNECTIONS_REPORT_MS) this.report();
    // Told when the window ends, not at the next refusal (which may never come) or at shutdown.
    else this.#timer ??= setTimeout(() => this.report(), REFUSED_CONNECTIONS_REPORT_MS - since).unref();
  }

  /** Writes the refusals not yet told, if any. */
  report(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#untold === 0) return;
    this.#logger.warn(
      { refused: this.#untold, maxConnections: this.#maxConnections },
      'refused new connections: SERVER_MAX_CONNECTIONS connections were open; raise it, or add instances',
    );
    this.#untold = 0;
    this.#reportedAt = performance.now();
  }
}

/**
 * Answers what Node's HTTP parser refuses before a route can (headers over Node's size limit, a
 * request that is not HTTP, headers or a body that stopped arriving within the timeouts) with
 * OpenAI's error JSON, as every other refusal, where Node would send a bare status line; and
 * records it in the access log and `groundwork_http_requests_total`; a connection that sent nothing
 * before the headers' timeout is closed and not recorded. A request whose route was
 * already answering (its body timed out) is recorded by its own response's `close`, with the status sent here.
 */
function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Socket,
  context: ServerContext,
  refused: WeakMap<ServerResponse, number>,
): void {
  const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
  // Only the parser's refusals and the timeouts are the request's; a socket's own error (a reset) has no one to answer.
  const code = error.code ?? '';
  // A connection that timed out without sending a byte (a browser's preconnect, a pool's spare) made
  // no request: it is closed, neither answered nor counted as a request.
  const answerable = code.startsWith('HPE_') || (code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead > 0);
  if (!answerable || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const answer = clientErrorAnswer(error, context.config, inFlight !== undefined);
  // A request already being answered keeps its id, which its log line carries.
  const answering = inFlight?.getHeader('x-request-id');
  const requestId = typeof answering === 'string' ? answering : requestIdOf(undefined);
  const payload = JSON.stringify(errorBody(answer));
  socket.write(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(payload)}\r\n` +
      `x-request-id: ${requestId}\r\n` +
      'connection: close\r\n\r\n' +
      payload,
  );
  socket.destroySoon();
  if (inFlight !== undefined) {
    refused.set(inFlight, answer.status);
    return;
  }
  recordRequest(
    { method: 'unknown', route: 'unmatched', status: answer.status, durationMs: 0, requestId, quiet: false },
    context.metrics,
    context.logger,
    context.config.accessLog,
  );
}

/** `headersArrived`: the request's headers were read (a route is answering it), so a timeout is its body's. */
function clientErrorAnswer(error: NodeJS.ErrnoException, config: ServerConfig, headersArrived: boolean): ErrorAnswer {
  const refusal = (status: number, code: string, message: string): ErrorAnswer => ({
    status,
    type: 'invalid_request_error',
    code,
    message,
    param: null,
  });
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return refusal(
        431,
        'request_headers_too_large',
        "The request's headers are larger than the service accepts (Node's --max-http-header-size); send smaller headers.",
      );
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return refusal(413, 'request_too_large', "The request body's chunk extensions are larger than the service accepts.");
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      // Headers not all read: the headers' timeout ran out (it is never the longer of the two).
      return refusal(
        408,
        'request_timeout',
        headersArrived
          ? `The request's body did not all arrive within ${Math.max(config.requestTimeoutMs, config.headersTimeoutMs)} ms of its start ` +
              `(SERVER_REQUEST_TIMEOUT_MS=${config.requestTimeoutMs}); check the connection and send it again.`
          : `The request's headers did not all arrive within ${config.headersTimeoutMs} ms (SERVER_HEADERS_TIMEOUT_MS); check the connection and send it again.`,
      );
    default:
      return refusal(
        400,
        'malformed_http_request',
        `The request is not valid HTTP/1.1${error.code?.startsWith('HPE_') === true ? ` (${error.code})` : ''}; send a well-formed request.`,
      );
  }
}

/** How long an idle kept-alive connection stays open without `SERVER_KEEP_ALIVE_TIMEOUT_MS`, in ms. */
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5000;

/**
 * Node's defaults let a client hold a connection for a minute without sending headers and five
 * minutes for a body, with no limit on connections: a few hundred slow clients hold the service.
 * (`maxConnections` is set on the server.) Node checks both timeouts every `connectionsCheckingInterval`.
 */
function connectionLimits(config: ServerConfig): ServerOptions {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: Math.max(config.requestTimeoutMs, config.headersTimeoutMs),
    connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
    keepAliveTimeout: config.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  };
}

/** The request's path without its query (which is never logged or echoed). */
function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
