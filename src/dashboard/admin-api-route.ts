import { GroundworkError } from '../errors/groundwork-error.js';
import type { Exchange } from '../server/exchange.js';
import { HttpError, methodNotAllowed } from '../server/http-error.js';
import { readJsonBody } from '../server/read-json-body.js';
import { sendJson } from '../server/respond.js';
import type { ServerContext } from '../server/server-context.js';
import { tenantFields } from '../tenants/tenant-fields.js';
import { callDetail, listCalls } from './call-list.js';
import type { Dashboard, DashboardTenants } from './dashboard.js';
import type { DashboardGuard } from './dashboard-guard.js';
import { DashboardInputError } from './dashboard-input-error.js';
import type { BreakdownOthers, BreakdownRow, OverviewAnswer, UsageAnswer } from './dashboard-wire.js';
import { errorSeries } from './error-series.js';
import { keysWithSpend, teamsWithSpend } from './keys-view.js';
import { latencySeries } from './latency-series.js';
import { liveState } from './live-state.js';
import { promptStats } from './prompt-stats.js';
import { timeRange } from './time-range.js';
import { BREAKDOWN_DIMENSIONS, usageBreakdownWithOthers } from './usage-breakdown.js';
import { usageSeries } from './usage-series.js';

type Handler = (request: Request) => Promise<[number, unknown]>;

interface Request {
  dashboard: Dashboard;
  guard: DashboardGuard;
  exchange: Exchange;
  context: ServerContext;
  query: URLSearchParams;
  /** The path after `/admin/api/`, split on `/`. */
  parts: string[];
  now: number;
}

const READS: Record<string, Handler> = {
  session: async ({ guard, exchange, dashboard }) => {
    const access = guard.requireRead(exchange.request);
    return [
      200,
      {
        access: access.kind,
        csrfToken: guard.csrfToken(access) ?? null,
        loginRequired: guard.loginRequired,
        tenants: dashboard.tenants !== undefined,
      },
    ];
  },
  overview: async ({ dashboard, query, now }) => {
    const range = timeRange(query.get('range') ?? 'day', now);
    const db = dashboard.db;
    const [usage, latency, errors] = [await usageSeries(db, range), await latencySeries(db, range), await errorSeries(db, range)];
    const breakdown: Record<string, BreakdownRow[]> = {};
    const others: Record<string, BreakdownOthers | null> = {};
    for (const dimension of BREAKDOWN_DIMENSIONS) {
      const listed = await usageBreakdownWithOthers(db, range, dimension, OVERVIEW_GROUPS);
      breakdown[dimension] = listed.data;
      others[dimension] = listed.others;
    }
    const totals = usage.reduce(
      (sum, point) => ({
        calls: sum.calls + point.calls,
        failures: sum.failures + point.failures,
        tokens: sum.tokens + point.tokens,
        costUsd: sum.costUsd + point.costUsd,
      }),
      { calls: 0, failures: 0, tokens: 0, costUsd: 0 },
    );
    return [200, { range, totals, usage, latency, errors, breakdown, others } satisfies OverviewAnswer];
  },
  usage: async ({ dashboard, query, now }) => {
    const range = timeRange(query.get('range') ?? 'day', now);
    const by = query.get('by') ?? 'model';
    const limit = positiveInteger(query, 'limit', 'use a whole number of groups, or leave it out for every group');
    const { data, others } = await usageBreakdownWithOthers(dashboard.db, range, by, limit);
    return [200, { range, by, data, others } satisfies UsageAnswer];
  },
  calls: async ({ dashboard, query }) => {
    const page = await listCalls(dashboard.db, {
      search: query.get('search') ?? undefined,
      outcome: query.get('outcome') ?? undefined,
      before: positiveInteger(query, 'before', 'use the "next" of the previous page'),
      limit: positiveInteger(query, 'limit', 'use a whole number from 1 to 200'),
    });
    return [200, { data: page.data, next: page.next ?? null }];
  },
  prompts: async ({ dashboard, query, now }) => {
    const range = timeRange(query.get('range') ?? 'week', now);
    return [200, { range, data: await promptStats(dashboard.db, range) }];
  },
  live: async ({ dashboard }) => [200, await liveState(dashboard)],
  keys: async ({ dashboard, now }) => [200, { data: await keysWithSpend(dashboard, now) }],
  teams: async ({ dashboard, now }) => [200, { data: await teamsWithSpend(dashboard, now) }],
};

/** How many groups per dimension the overview lists; the rest are summed in its `others`. */
const OVERVIEW_GROUPS = 8;

/** The query parameter `name` as a positive whole number; undefined when absent or empty (`before=`), a 400 naming it otherwise. */
function positiveInteger(query: URLSearchParams, name: string, advice: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  const value = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1)) throw new DashboardInputError(name, `"${text.slice(0, 40)}" is not a positive whole number; ${advice}`);
  return value;
}

const WRITE_METHODS = new Set(['POST', 'PATCH', 'DELETE']);

/** The methods `/admin/api/{resource}` (or `…/{resource}/{id}`) accepts, for a 405's `Allow`. */
function acceptedMethods(parts: readonly string[]): string[] {
  const [resource, reference] = parts;
  if (resource === 'keys') return reference === undefined ? ['GET', 'HEAD', 'POST'] : ['PATCH', 'DELETE'];
  if (resource === 'teams') return reference === undefined ? ['GET', 'HEAD', 'POST'] : ['PATCH'];
  return ['GET', 'HEAD'];
}

/** The 405 for a method the resource of `request` does not accept, after the caller has shown it may write. */
function notAccepted(request: Pick<Request, 'exchange' | 'parts'>): HttpError {
  const [resource = '', reference] = request.parts;
  const path = `/admin/api/${resource.slice(0, 40)}${reference === undefined ? '' : '/{id}'}`;
  return methodNotAllowed(request.exchange.response, path, acceptedMethods(request.parts));
}

/** `calls/{id}`: one call, with its prompt and answer text when the service records them. */
const readCall: Handler = async ({ dashboard, parts }) => {
  const call = await callDetail(dashboard.db, Number(parts[1]), dashboard.logContent === true);
  if (call === undefined)
    throw new HttpError({
      status: 404,
      type: 'not_found_error',
      code: 'not_found',
      message: `No call with id ${String(parts[1]).slice(0, 40)}.`,
    });
  return [200, call];
};

/**
 * `/admin/api/…`: the JSON the dashboard draws, for scripts too — `session`, `overview?range=`,
 * `usage?range=&by=&limit=`, `calls?search=&outcome=&before=&limit=`, `calls/{id}` (with the prompt and answer text under `LLM_LOG_CONTENT=true`), `prompts?range=`, `live`,
 * `keys` (GET, POST; `keys/{id}` PATCH, DELETE to revoke) and `teams` (GET, POST; `teams/{id}` PATCH).
 */
export async function adminApiRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const { dashboard, guard } = dashboardOf(context);
  const method = exchange.request.method ?? 'GET';
  const url = new URL(exchange.request.url ?? '/', 'http://localhost');
  const parts = url.pathname.slice('/admin/api/'.length).replace(/\/+$/, '').split('/');
  const request: Request = { dashboard, guard, exchange, context, query: url.searchParams, parts, now: dashboard.now?.() ?? Date.now() };
  const resource = parts[0] ?? '';
  let outcome: [number, unknown];
  try {
    if (method === 'GET' || method === 'HEAD') {
      guard.requireRead(exchange.request);
      const handler = parts.length === 1 ? READS[resource] : resource === 'calls' && parts.length === 2 ? readCall : undefined;
      if (handler === undefined) throw notFound(url.pathname);
      outcome = await handler(request);
    } else {
      guard.requireWrite(exchange.request);
      if (!WRITE_METHODS.has(method)) throw notAccepted(request);
      if (resource !== 'keys' && resource !== 'teams') throw notFound(url.pathname);
      outcome = resource === 'keys' ? await writeKey(request, method) : await writeTeam(request, method);
    }
  } catch (error) {
    throw asHttpError(error);
  }
  sendJson(exchange.response, outcome[0], outcome[1], { 'cache-control': 'no-store' });
}

function tenantsOf(request: Request): DashboardTenants {
  const tenants = request.dashboard.tenants;
  if (tenants === undefined) {
    throw new HttpError({
      status: 404,
      type: 'not_found_error',
      code: 'tenants_off',
      message: 'Keys and teams are managed when the service has virtual keys: set GROUNDWORK_VIRTUAL_KEYS=true.',
    });
  }
  return tenants;
}

/** `POST teams` creates a team, `PATCH teams/{id}` changes its name, limits and budgets. */
async function writeTeam(request: Request, method: string): Promise<[number, unknown]> {
  const tenants = tenantsOf(request);
  const reference = request.parts[1];
  const options = { actor: 'dashboard' };
  let result: [number, unknown] | undefined;
  if (reference === undefined && method === 'POST') {
    result = [201, await tenants.repository.createTeam(tenantFields(await body(request), 'team') as { name: string }, options)];
  } else if (reference !== undefined && request.parts.length === 2 && method === 'PATCH') {
    result = [200, await tenants.repository.updateTeam(reference, tenantFields(await body(request), 'team'), options)];
  }
  if (result === undefined) throw notAccepted(request);
  tenants.invalidate();
  return result;
}

async function writeKey(request: Request, method: string): Promise<[number, unknown]> {
  const tenants = tenantsOf(request);
  const reference = request.parts[1];
  const options = { actor: 'dashboard' };
  let result: [number, unknown] | undefined;
  if (reference === undefined && method === 'POST') {
    const issued = await tenants.repository.createKey(tenantFields(await body(request), 'key') as { name: string }, options);
    result = [201, { key: issued.key, plainKey: issued.plainKey.reveal(), note: 'The plain key is shown this once; store it now.' }];
  } else if (reference !== undefined && request.parts.length === 2 && method === 'PATCH') {
    result = [200, await tenants.repository.updateKey(reference, tenantFields(await body(request), 'key'), options)];
  } else if (reference !== undefined && request.parts.length === 2 && method === 'DELETE') {
    result = [200, await tenants.repository.revokeKey(reference, options)];
  }
  if (result === undefined) throw notAccepted(request);
  tenants.invalidate();
  return result;
}

async function body(request: Request): Promise<Record<string, unknown>> {
  const parsed = await readJsonBody(request.exchange.request, request.context.config.bodyLimitBytes);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError({ status: 400, type: 'invalid_request_error', code: 'invalid_body', message: 'The body must be a JSON object.' });
  }
  return parsed as Record<string, unknown>;
}

/** The dashboard and its guard, or a 404 when `serve` has none. */
export function dashboardOf(context: ServerContext): { dashboard: Dashboard; guard: DashboardGuard } {
  const served = context.dashboard;
  if (served === undefined) {
    throw new HttpError({ status: 404, type: 'not_found_error', code: 'not_found', message: 'This service has no dashboard.' });
  }
  return served;
}

function notFound(path: string): HttpError {
  return new HttpError({
    status: 404,
    type: 'not_found_error',
    code: 'not_found',
    message: `No dashboard API at ${path.slice(0, 100)}; see /admin/api/session, overview, usage, calls, prompts, live, keys, teams.`,
  });
}

function asHttpError(error: unknown): unknown {
  if (!GroundworkError.isInstance(error)) return error;
  const status = { tenant_not_found: 404, tenant_conflict: 409, tenant_invalid: 400, dashboard_invalid: 400 }[error.code];
  if (status === undefined) return error;
  return new HttpError({
    status,
    type: status === 404 ? 'not_found_error' : 'invalid_request_error',
    code: error.code,
    message: error.message,
  });
}
