import { sql } from 'kysely';
import type { DependencyHealth } from '../observability/health.js';
import type { Dashboard } from './dashboard.js';
import { numberOf } from './ledger-sql.js';

/** One circuit as the live view shows it. */
export interface LiveBreaker {
  provider: string;
  model: string;
  state: 'closed' | 'open' | 'half_open';
  consecutiveFailures: number;
  /** When an open circuit lets its next test request through, ISO 8601. */
  nextProbeAt: string | null;
}

/** Rate-limit activity per provider and model since the process started. */
export interface LiveLimit {
  provider: string;
  model: string;
  /** Calls that waited for a permit, by bucket (`requests` or `tokens`). */
  waits: Record<string, number>;
  /** Total seconds spent waiting. */
  waitedSeconds: number;
}

/** What the live view refreshes every few seconds. */
export interface LiveState {
  at: string;
  breakers: LiveBreaker[];
  /** LLM calls in flight, by provider. */
  inFlight: Record<string, number>;
  /** Response-cache lookups since start, by result, and the hit rate (null before any lookup). */
  cache: { lookups: Record<string, number>; hitRate: number | null };
  limits: LiveLimit[];
  /** Calls refused by Groundwork since start, by reason (rate limit, queue, breaker…). */
  refusals: Record<string, number>;
  /** Calls and failures in the ledger over the last five minutes. */
  recent: { calls: number; failures: number; costUsd: number };
  health: { status: string; dependencies: DependencyHealth[] };
}

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
      .select([
        sql<number>`count(*)`.as('calls'),
        sql<number>`sum(case when outcome = 'success' then 0 else 1 end)`.as('failures'),
        sql<number>`sum(cost_usd)`.as('cost_usd'),
      ])
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
    const limit = limits.get(`${provider}:${model}`) ?? { provider, model, waits: {}, waitedSeconds: 0 };
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
    cache: { lookups: cache, hitRate: lookedUp === 0 ? null : (cache['hit'] ?? 0) / lookedUp },
    limits: [...limits.values()],
    refusals: refused,
    recent: { calls: numberOf(recent?.calls), failures: numberOf(recent?.failures), costUsd: numberOf(recent?.cost_usd) },
    health: { status: health.status, dependencies: health.dependencies },
  };
}
