import type { IncomingMessage } from 'node:http';
import type { Secret } from '../config/secret.js';
import { GroundworkError } from '../errors/groundwork-error.js';
import type { RebuiltBudget } from '../tenants/create-tenant-services.js';
import { TenantInputError } from '../tenants/tenant-errors.js';
import { tenantFields } from '../tenants/tenant-fields.js';
import type { TenantRepository } from '../tenants/tenant-repository.js';
import { parseSince, type UsageGrouping, type UsageRow } from '../tenants/usage-report.js';
import type { Exchange } from './exchange.js';
import { HttpError, methodNotAllowed } from './http-error.js';
import { methodHandler } from './method-handler.js';
import { readJsonBody } from './read-json-body.js';
import { sendJson } from './respond.js';
import type { ServerContext } from './server-context.js';

/** What the admin API needs: the repository, its own key, and how to drop cached keys after a change. */
export interface AdminApi {
  repository: Pick<
    TenantRepository,
    | 'createKey'
    | 'listKeys'
    | 'showKey'
    | 'updateKey'
    | 'revokeKey'
    | 'rotateKey'
    | 'createTeam'
    | 'listTeams'
    | 'showTeam'
    | 'updateTeam'
    | 'deleteTeam'
  >;
  /** `GROUNDWORK_ADMIN_KEY`: the only key the admin API accepts. */
  adminKey: Secret;
  /** Called after every change, so this replica sees it at once. */
  invalidate(): void;
  /** The ledger's usage by key, team, model or prompt since a moment (`GET /admin/usage`). */
  usage(options: { by: UsageGrouping; since: Date }): Promise<UsageRow[]>;
  /** Sets a key's or team's budget counters to the ledger's spend (`POST /admin/keys/{key}/rebuild-budgets`). Optional. */
  rebuildBudgets?(scope: 'key' | 'team', reference: string): Promise<RebuiltBudget[]>;
}

/** `GET /admin/usage?by=key|team|model|prompt&since=7d`: the figures `groundwork usage` prints. */
export async function adminUsageRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const admin = checkAdmin(exchange.request, context);
  const query = new URL(exchange.request.url ?? '/', 'http://localhost').searchParams;
  const by = query.get('by') ?? 'key';
  const endpoint: Endpoint = {
    path: '/admin/usage',
    methods: {
      async GET() {
        if (by !== 'key' && by !== 'team' && by !== 'model' && by !== 'prompt')
          throw new TenantInputError('by', 'use key, team, model or prompt');
        const since = new Date(Date.now() - parseSince(query.get('since') ?? '7d', 'since'));
        return [200, { by, since: since.toISOString(), data: await admin.usage({ by, since }) }];
      },
    },
  };
  await answer(exchange, endpoint, admin);
}

const ACTOR = 'admin-api';

/** `/admin/keys` and `/admin/keys/{key}` (`…/{key}/rotate` to rotate). */
export async function adminKeysRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const admin = checkAdmin(exchange.request, context);
  const path = splitPath(exchange.request, '/admin/keys');
  const reference = path[0] ?? '';
  const { repository, rebuildBudgets } = admin;
  const input = async () => keyInput(await body(exchange, context));
  const endpoints: Endpoints = {
    list: {
      path: '/admin/keys',
      methods: {
        GET: async () => [200, { data: await repository.listKeys() }],
        POST: async () => [201, issued(await repository.createKey(await input(), { actor: ACTOR }))],
      },
    },
    one: {
      path: '/admin/keys/{key}',
      methods: {
        GET: async () => [200, await repository.showKey(reference)],
        PATCH: async () => [200, await repository.updateKey(reference, await input(), { actor: ACTOR })],
        DELETE: async () => [200, await repository.revokeKey(reference, { actor: ACTOR })],
      },
    },
    actions: {
      rotate: {
        path: '/admin/keys/{key}/rotate',
        methods: { POST: async () => [200, issued(await repository.rotateKey(reference, { actor: ACTOR }))] },
      },
      'rebuild-budgets': rebuildEndpoint('key', reference, rebuildBudgets),
    },
  };
  await answer(exchange, pick(endpoints, path), admin);
}

/** `/admin/teams` and `/admin/teams/{team}`. */
export async function adminTeamsRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const admin = checkAdmin(exchange.request, context);
  const path = splitPath(exchange.request, '/admin/teams');
  const reference = path[0] ?? '';
  const { repository, rebuildBudgets } = admin;
  const input = async () => teamInput(await body(exchange, context));
  const endpoints: Endpoints = {
    list: {
      path: '/admin/teams',
      methods: {
        GET: async () => [200, { data: await repository.listTeams() }],
        POST: async () => [201, await repository.createTeam(await input(), { actor: ACTOR })],
      },
    },
    one: {
      path: '/admin/teams/{team}',
      methods: {
        GET: async () => [200, await repository.showTeam(reference)],
        PATCH: async () => [200, await repository.updateTeam(reference, await input(), { actor: ACTOR })],
        async DELETE() {
          await repository.deleteTeam(reference, { actor: ACTOR });
          return [200, { deleted: true }];
        },
      },
    },
    actions: { 'rebuild-budgets': rebuildEndpoint('team', reference, rebuildBudgets) },
  };
  await answer(exchange, pick(endpoints, path), admin);
}

/** `POST /admin/{keys|teams}/{reference}/rebuild-budgets`, when this service can rebuild budgets. */
function rebuildEndpoint(scope: 'key' | 'team', reference: string, rebuild: AdminApi['rebuildBudgets']): Endpoint | undefined {
  if (rebuild === undefined) return undefined;
  return {
    path: `/admin/${scope}s/{${scope}}/rebuild-budgets`,
    methods: { POST: async () => [200, { data: await rebuild(scope, reference) }] },
  };
}

/** One path of the admin API: its template, and what each method it accepts answers (status and body). */
interface Endpoint {
  path: string;
  methods: Readonly<Record<string, () => Promise<[number, unknown]>>>;
}

/** The endpoints under one prefix: the collection, one item, and the item's actions (undefined: not offered here). */
interface Endpoints {
  list: Endpoint;
  one: Endpoint;
  actions: Readonly<Record<string, Endpoint | undefined>>;
}

/**
 * The endpoint a path names. A path that names none (an unknown action, an empty reference, more
 * segments) is answered 404, listing the paths there are; the path is not echoed, as it may hold a
 * key by mistake.
 */
function pick(endpoints: Endpoints, [reference, action]: [string | undefined, string | undefined]): Endpoint {
  const found =
    reference === undefined
      ? endpoints.list
      : reference === ''
        ? undefined
        : action === undefined
          ? endpoints.one
          : Object.hasOwn(endpoints.actions, action)
            ? endpoints.actions[action]
            : undefined;
  if (found === undefined) {
    throw new HttpError({
      status: 404,
      type: 'not_found_error',
      code: 'not_found',
      message: `No such admin path: the paths here are ${pathsOf(endpoints)}.`,
    });
  }
  return found;
}

/** The paths under one prefix that this service offers, as a list in words. */
function pathsOf(endpoints: Endpoints): string {
  const actions = Object.values(endpoints.actions).filter((endpoint) => endpoint !== undefined);
  const paths = [endpoints.list.path, endpoints.one.path, ...actions.map((endpoint) => endpoint.path)];
  return `${paths.slice(0, -1).join(', ')} and ${paths.at(-1)}`;
}

/** Runs the endpoint's handler for the request's method (405 with `Allow` when it has none), then answers as JSON. */
async function answer(exchange: Exchange, endpoint: Endpoint, admin: AdminApi): Promise<void> {
  const method = exchange.request.method ?? 'GET';
  const run = methodHandler(endpoint.methods, method);
  if (run === undefined) throw methodNotAllowed(exchange.response, endpoint.path, Object.keys(endpoint.methods));
  let outcome: [number, unknown];
  try {
    outcome = await run();
  } catch (error) {
    throw asHttpError(error);
  }
  if (method !== 'GET' && method !== 'HEAD') admin.invalidate();
  sendJson(exchange.response, outcome[0], outcome[1], { 'cache-control': 'no-store' });
}

/**
 * The admin key, compared in constant time; a caller key is refused like any other. A wrong key
 * counts against the same minute's allowance of the caller's address as the dashboard's login, and
 * once that is spent every key from that address gets a 429 with `Retry-After`.
 */
function checkAdmin(request: IncomingMessage, context: ServerContext): AdminApi {
  const admin = context.admin;
  if (admin === undefined) {
    throw new HttpError({
      status: 404,
      type: 'not_found_error',
      code: 'not_found',
      message: 'The admin API is off: set GROUNDWORK_ADMIN_KEY and GROUNDWORK_VIRTUAL_KEYS=true.',
    });
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  const presented = match?.[1];
  if (presented === undefined || !context.adminKeyLockout.check(presented, admin.adminKey, request.socket.remoteAddress)) {
    throw new HttpError({
      status: 401,
      type: 'invalid_request_error',
      code: 'invalid_admin_key',
      message: 'The admin API accepts only GROUNDWORK_ADMIN_KEY, as "Authorization: Bearer <key>"; caller keys are refused.',
    });
  }
  return admin;
}

/** The `{reference}` and optional action after `prefix`, decoded. */
function splitPath(request: IncomingMessage, prefix: string): [string | undefined, string | undefined] {
  const url = request.url ?? '/';
  const path = (url.includes('?') ? url.slice(0, url.indexOf('?')) : url).replace(/\/+$/, '');
  const rest = path.slice(prefix.length).replace(/^\//, '');
  if (rest === '') return [undefined, undefined];
  const [reference, action, ...more] = rest.split('/');
  if (more.length > 0 || reference === undefined) return ['', 'unknown'];
  try {
    return [decodeURIComponent(reference), action];
  } catch {
    return ['', 'unknown'];
  }
}

async function body(exchange: Exchange, context: ServerContext): Promise<Record<string, unknown>> {
  const parsed = await readJsonBody(exchange.request, context.config.bodyLimitBytes);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError({ status: 400, type: 'invalid_request_error', code: 'invalid_body', message: 'The body must be a JSON object.' });
  }
  return parsed as Record<string, unknown>;
}

function teamInput(fields: Record<string, unknown>): { name: string } & Record<string, unknown> {
  return tenantFields(fields, 'team') as { name: string };
}

function keyInput(fields: Record<string, unknown>): { name: string } & Record<string, unknown> {
  return tenantFields(fields, 'key') as { name: string };
}

function issued(result: { key: unknown; plainKey: Secret }): unknown {
  return { key: result.key, plainKey: result.plainKey.reveal(), note: 'The plain key is shown this once; store it now.' };
}

function asHttpError(error: unknown): unknown {
  if (!GroundworkError.isInstance(error)) return error;
  const status = { tenant_not_found: 404, tenant_conflict: 409, tenant_invalid: 400 }[error.code];
  if (status === undefined) return error;
  return new HttpError({
    status,
    type: status === 404 ? 'not_found_error' : 'invalid_request_error',
    code: error.code,
    message: error.message,
  });
}
