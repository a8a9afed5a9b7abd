import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Secret } from '../config/secret.js';
import { GroundworkError } from '../errors/groundwork-error.js';
import type { RebuiltBudget } from '../tenants/create-tenant-services.js';
import { TenantInputError } from '../tenants/tenant-errors.js';
import { tenantFields } from '../tenants/tenant-fields.js';
import type { TenantRepository } from '../tenants/tenant-repository.js';
import { parseSince, type UsageGrouping, type UsageRow } from '../tenants/usage-report.js';
import type { Exchange } from './exchange.js';
import { HttpError } from './http-error.js';
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
  await answer(
    exchange,
    async () => {
      if (by !== 'key' && by !== 'team' && by !== 'model' && by !== 'prompt')
        throw new TenantInputError('by', 'use key, team, model or prompt');
      const since = new Date(Date.now() - parseSince(query.get('since') ?? '7d'));
      return [200, { by, since: since.toISOString(), data: await admin.usage({ by, since }) }];
    },
    admin,
  );
}

const ACTOR = 'admin-api';

/** `/admin/keys` and `/admin/keys/{key}` (`…/{key}/rotate` to rotate). */
export async function adminKeysRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const admin = checkAdmin(exchange.request, context);
  const [reference, action] = splitPath(exchange.request, '/admin/keys');
  const method = exchange.request.method ?? 'GET';
  await answer(
    exchange,
    async () => {
      if (reference === undefined) {
        if (method === 'GET') return [200, { data: await admin.repository.listKeys() }];
        if (method === 'POST')
          return [201, issued(await admin.repository.createKey(keyInput(await body(exchange, context)), { actor: ACTOR }))];
      } else if (action === 'rotate' && method === 'POST') {
        return [200, issued(await admin.repository.rotateKey(reference, { actor: ACTOR }))];
      } else if (action === 'rebuild-budgets' && method === 'POST' && admin.rebuildBudgets !== undefined) {
        return [200, { data: await admin.rebuildBudgets('key', reference) }];
      } else if (action === undefined) {
        if (method === 'GET') return [200, await admin.repository.showKey(reference)];
        if (method === 'PATCH')
          return [200, await admin.repository.updateKey(reference, keyInput(await body(exchange, context)), { actor: ACTOR })];
        if (method === 'DELETE') return [200, await admin.repository.revokeKey(reference, { actor: ACTOR })];
      }
      return undefined;
    },
    admin,
  );
}

/** `/admin/teams` and `/admin/teams/{team}`. */
export async function adminTeamsRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const admin = checkAdmin(exchange.request, context);
  const [reference, action] = splitPath(exchange.request, '/admin/teams');
  const method = exchange.request.method ?? 'GET';
  await answer(
    exchange,
    async () => {
      if (reference === undefined) {
        if (method === 'GET') return [200, { data: await admin.repository.listTeams() }];
        if (method === 'POST') return [201, await admin.repository.createTeam(teamInput(await body(exchange, context)), { actor: ACTOR })];
      } else if (action === 'rebuild-budgets' && method === 'POST' && admin.rebuildBudgets !== undefined) {
        return [200, { data: await admin.rebuildBudgets('team', reference) }];
      } else if (action === undefined) {
        if (method === 'GET') return [200, await admin.repository.showTeam(reference)];
        if (method === 'PATCH')
          return [200, await admin.repository.updateTeam(reference, teamInput(await body(exchange, context)), { actor: ACTOR })];
        if (method === 'DELETE') {
          await admin.repository.deleteTeam(reference, { actor: ACTOR });
          return [200, { deleted: true }];
        }
      }
      return undefined;
    },
    admin,
  );
}

type Outcome = [number, unknown] | undefined;

async function answer(exchange: Exchange, run: () => Promise<Outcome>, admin: AdminApi): Promise<void> {
  let outcome: Outcome;
  try {
    outcome = await run();
  } catch (error) {
    throw asHttpError(error);
  }
  if (outcome === undefined) {
    throw new HttpError({
      status: 405,
      type: 'invalid_request_error',
      code: 'method_not_allowed',
      message: `${exchange.request.method} is not accepted here.`,
    });
  }
  if ((exchange.request.method ?? 'GET') !== 'GET') admin.invalidate();
  sendJson(exchange.response, outcome[0], outcome[1], { 'cache-control': 'no-store' });
}

/** The admin key, compared in constant time; a caller key is refused like any other. */
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
  if (presented === undefined || !timingSafeEqual(digest(presented), digest(admin.adminKey.reveal()))) {
    throw new HttpError({
      status: 401,
      type: 'invalid_request_error',
      code: 'invalid_admin_key',
      message: 'The admin API accepts only GROUNDWORK_ADMIN_KEY, as "Authorization: Bearer <key>"; caller keys are refused.',
    });
  }
  return admin;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
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
