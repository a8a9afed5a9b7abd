import { sql } from 'kysely';
import { keyStatus } from '../tenants/virtual-key.js';
import type { Dashboard } from './dashboard.js';
import type { LiveBucket, LiveKeyLimit, LiveLimit, LiveState } from './dashboard-wire.js';
import { callCountSql, failureCountSql, numberOf } from './ledger-sql.js';

export type { LiveBreaker, LiveConcurrency, LiveKeyLimit, LiveLimit, LiveState } from './dashboard-wire.js';

/** Reads the live state: breakers from their store, counters from the Prometheus registry, health, and the last five minutes of the ledger. */
export async function liveState(dashboard: Dashboard): Promise<LiveState> {
  const now = dashboard.now?.() ?? Date.now();
  const { metrics } = dashboard;
  const [breakers, health, inFlight, lookups, waits, refusals, recent] = await Promise.all([
    dashboard.breakers(),
    dashboard.health(),
    metrics.llmInFlight.get(),
    metrics.cacheLookups.get(),
    metrics.rateLimitWait.get(),
    metrics.llmRefusals.get(),
    dashboard.db
      .selectFrom('llm_usage')
      .select([callCountSql().as('calls'), failureCountSql().as('failures'), sql<number>`sum(cost_usd)`.as('cost_usd')])
      .where('created_at', '>=', new Date(now - 300_000))
      .executeTakeFirst(),
  ]);
  const cache: Record<string, number> = {};
  for (const value of lookups.values) cache[String(value.labels['result'])] = value.value;
  const lookedUp = Object.values(cache).reduce((sum, count) => sum + count, 0);
  const limits = new Map<string, LiveLimit>();
  for (const value of waits.values) {
    const provider = String(value.labels['provider']);
    const model = String(value.labels['model']);
    const limit = limits.get(`${provider}:${model}`) ?? emptyLimit(provider, model);
    if (value.metricName?.endsWith('_count')) limit.waits[String(value.labels['limit'])] = value.value;
    else if (value.metricName?.endsWith('_sum')) limit.waitedSeconds += value.value;
    else continue;
    limits.set(`${provider}:${model}`, limit);
  }
  const refused: Record<string, number> = {};
  for (const value of refusals.values) {
    const reason = String(value.labels['reason']);
    refused[reason] = (refused[reason] ?? 0) + value.value;
  }
  for (const breaker of breakers) {
    const key = `${breaker.provider}:${breaker.model}`;
    if (!limits.has(key)) limits.set(key, emptyLimit(breaker.provider, breaker.model));
  }
  await Promise.all([...limits.values()].map((limit) => addBuckets(dashboard, limit)));
  const flying: Record<string, number> = {};
  for (const value of inFlight.values) flying[String(value.labels['provider'])] = value.value;
  return {
    at: new Date(now).toISOString(),
    breakers: breakers
      .map((breaker) => ({
        provider: breaker.provider,
        model: breaker.model,
        state: breaker.state,
        consecutiveFailures: breaker.consecutiveFailures,
        nextProbeAt: breaker.state === 'open' && breaker.retryAt !== undefined ? new Date(breaker.retryAt).toISOString() : null,
      }))
      .sort((a, b) => `${a.provider}:${a.model}`.localeCompare(`${b.provider}:${b.model}`)),
    inFlight: flying,
    concurrency: (dashboard.concurrency?.() ?? []).sort((a, b) => a.provider.localeCompare(b.provider)),
    cache: { lookups: cache, hitRate: lookedUp === 0 ? null : (cache['hit'] ?? 0) / lookedUp },
    limits: [...limits.values()].sort((a, b) => `${a.provider}:${a.model}`.localeCompare(`${b.provider}:${b.model}`)),
    keyLimits: await keyLimits(dashboard, now),
    refusals: refused,
    recent: { calls: numberOf(recent?.calls), failures: numberOf(recent?.failures), costUsd: numberOf(recent?.cost_usd) },
    health: {
      status: health.status,
      dependencies: health.dependencies.map((dependency) => ({
        name: dependency.name,
        status: dependency.status,
        latencyMs: dependency.latencyMs,
        required: dependency.required,
        ...(dependency.detail === undefined ? {} : { detail: dependency.detail }),
      })),
    },
  };
}

function emptyLimit(provider: string, model: string): LiveLimit {
  return { provider, model, waits: {}, waitedSeconds: 0, requests: null, tokens: null, waiting: 0 };
}

/** Adds the buckets' levels now; a store that cannot answer (Redis down) leaves them null. */
async function addBuckets(dashboard: Dashboard, limit: LiveLimit): Promise<void> {
  const levels = await dashboard.rateLimitLevels?.(limit.provider, limit.model).catch(() => undefined);
  if (levels === undefined) return;
  const bucket = (level: { level: number; capacity: number; windowMs: number }): LiveBucket => ({
    level: Math.floor(level.level),
    capacity: level.capacity,
    windowMs: level.windowMs,
  });
  limit.requests = bucket(levels.requests);
  limit.tokens = levels.tokens === undefined ? null : bucket(levels.tokens);
  limit.waiting = levels.waiting;
}

/** Each active key's per-minute buckets, for keys with a rate limit (at most 50, the first by name). */
async function keyLimits(dashboard: Dashboard, now: number): Promise<LiveKeyLimit[]> {
  const tenants = dashboard.tenants;
  const admission = tenants?.admission;
  if (tenants === undefined || admission === undefined) return [];
  const at = new Date(now);
  const keys = (await tenants.repository.listKeys())
    .filter((key) => keyStatus(key, at) === 'active' && (key.requestsPerMinute !== null || key.tokensPerMinute !== null))
    .sort((a, b) => a.name.localeCompare(b.name))
    .slice(0, 50);
  const states = await Promise.all(keys.map((key) => admission.rateLimitLevels('key', key.id, key).catch(() => undefined)));
  return keys.map((key, index) => ({
    keyId: key.id,
    name: key.name,
    requests: states[index]?.requests ?? null,
    tokens: states[index]?.tokens ?? null,
  }));
}
