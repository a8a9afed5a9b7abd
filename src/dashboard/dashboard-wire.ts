/*
 * The JSON shapes of `/admin/api/…`, as the page reads them. The server's queries answer these
 * types and the page (ui/) imports them type-only, so that a change on one side is a type error
 * on the other. This file imports nothing: the page's type check reads it without the server's
 * dependencies. Dates travel as ISO 8601 text.
 */

/** One bucket of the overview's usage chart. */
export interface UsagePoint {
  /** The bucket's start, epoch ms. */
  t: number;
  calls: number;
  failures: number;
  tokens: number;
  costUsd: number;
}

/** One bucket of the latency chart; null where the bucket had no call. */
export interface LatencyPoint {
  t: number;
  p50: number | null;
  p95: number | null;
}

/** What kind of failure a ledger outcome is, as the overview groups them. */
export type OutcomeKind = 'rate_limited' | 'timeout' | 'provider' | 'breaker' | 'budget' | 'other';

/** One bucket of the errors chart: failed calls by kind. */
export type ErrorPoint = { t: number } & Record<OutcomeKind, number>;

/** One group's share of the period. */
export interface BreakdownRow {
  /** The model, provider, prompt name or key id; null for calls without a prompt or key. */
  group: string | null;
  /** A key's name, when it still exists. */
  label: string | null;
  calls: number;
  tokens: number;
  costUsd: number;
  failures: number;
}

/** `GET /admin/api/overview?range=`. */
export interface OverviewAnswer {
  range: { name: string; fromMs: number; toMs: number; stepMs: number };
  totals: { calls: number; failures: number; tokens: number; costUsd: number };
  usage: UsagePoint[];
  latency: LatencyPoint[];
  errors: ErrorPoint[];
  /** Per dimension, the costliest groups, at most eight. */
  breakdown: Record<string, BreakdownRow[]>;
  /** Per dimension, the groups `breakdown` leaves out, summed; null when none was. */
  others: Record<string, BreakdownOthers | null>;
}

/** Groups left out of a breakdown, summed. */
export interface BreakdownOthers {
  groups: number;
  calls: number;
  tokens: number;
  costUsd: number;
  failures: number;
}

/** `GET /admin/api/usage?range=&by=&limit=`: every group, or the costliest `limit` and the rest summed. */
export interface UsageAnswer {
  range: { name: string; fromMs: number; toMs: number; stepMs: number };
  by: string;
  /** Costliest first. */
  data: BreakdownRow[];
  /** The groups `limit` left out, summed; null when none was. */
  others: BreakdownOthers | null;
}

/** One prompt version's record over the period. */
export interface PromptVersionRow {
  name: string;
  version: string | null;
  calls: number;
  failures: number;
  /** failures / calls, 0–1. */
  failureRate: number;
  costUsd: number;
  /** Mean cost of one call, USD. */
  costPerCallUsd: number;
  tokens: number;
  meanLatencyMs: number;
  firstSeen: string;
  lastSeen: string;
}

/** One call as the Calls page lists it. */
export interface CallRow {
  id: number;
  createdAt: string;
  operation: string;
  provider: string;
  model: string;
  promptName: string | null;
  promptVersion: string | null;
  keyId: string | null;
  keyName: string | null;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number;
  outcome: string;
  attempts: number;
  cacheHit: boolean;
  requestId: string | null;
}

/** `GET /admin/api/calls/{id}`: one call with its text. */
export interface CallDetail extends CallRow {
  /** Whether the service records prompt and answer text (`LLM_LOG_CONTENT=true`); when false both texts are null. */
  contentLogged: boolean;
  /** The request's messages as JSON; null when not recorded. */
  promptText: string | null;
  /** The answer's text; null when not recorded (or the call failed). */
  answerText: string | null;
}

/** One circuit as the live view shows it. */
export interface LiveBreaker {
  provider: string;
  model: string;
  state: 'closed' | 'open' | 'half_open';
  consecutiveFailures: number;
  /** When an open circuit lets its next test request through, ISO 8601. */
  nextProbeAt: string | null;
}

/** A bucket's level now against its capacity per minute (or per its window). */
export interface LiveBucket {
  level: number;
  capacity: number;
  windowMs: number;
}

/** Rate limits per provider and model: activity since start, and the buckets now. */
export interface LiveLimit {
  provider: string;
  model: string;
  /** Calls that waited for a permit, by bucket (`requests` or `tokens`). */
  waits: Record<string, number>;
  /** Total seconds spent waiting. */
  waitedSeconds: number;
  /** The request bucket now; null when the store could not say (Redis unreachable). */
  requests: LiveBucket | null;
  /** The token bucket now; null without a token limit (or when the store could not say). */
  tokens: LiveBucket | null;
  /** Callers waiting in line for a permit. */
  waiting: number;
}

/** A provider's concurrency: calls in flight, callers in line for a slot, and the slots. */
export interface LiveConcurrency {
  provider: string;
  active: number;
  waiting: number;
  maxConcurrent: number;
}

/** One per-minute limit of a key, as `x-ratelimit-*` shows it. */
export interface LiveKeyBucket {
  limit: number;
  remaining: number;
  resetMs: number;
}

/** A key's per-minute buckets now. */
export interface LiveKeyLimit {
  keyId: string;
  name: string;
  requests: LiveKeyBucket | null;
  tokens: LiveKeyBucket | null;
}

/** One dependency's health. */
export interface LiveDependency {
  name: string;
  status: string;
  latencyMs: number;
  required: boolean;
  detail?: string;
}

/** `GET /admin/api/live`: what the live view refreshes every few seconds. */
export interface LiveState {
  at: string;
  breakers: LiveBreaker[];
  /** LLM calls in flight, by provider. */
  inFlight: Record<string, number>;
  /** Per provider: in flight, waiting for a slot, slots. */
  concurrency: LiveConcurrency[];
  /** Response-cache lookups since start, by result, and the hit rate (null before any lookup). */
  cache: { lookups: Record<string, number>; hitRate: number | null };
  limits: LiveLimit[];
  /** Each active key's per-minute buckets, when keys have rate limits (empty without virtual keys). */
  keyLimits: LiveKeyLimit[];
  /** Calls refused by Groundwork since start, by reason (rate limit, queue, breaker…). */
  refusals: Record<string, number>;
  /** Calls and failures in the ledger over the last five minutes. */
  recent: { calls: number; failures: number; costUsd: number };
  health: { status: string; dependencies: LiveDependency[] };
}

/** What a key or team spent today, this month and in all. */
export interface Spend {
  dayUsd: number;
  monthUsd: number;
  totalUsd: number;
}

/** The limits and budgets keys and teams share, as the page edits them. */
export interface TenantLimits {
  allowedModels: string[] | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  maxConcurrent: number | null;
  dailyBudgetUsd: number | null;
  monthlyBudgetUsd: number | null;
  totalBudgetUsd: number | null;
  enabled: boolean;
}

/** `GET /admin/api/keys`: a key with its status and spend. */
export interface KeyRow extends TenantLimits {
  id: string;
  name: string;
  prefix: string;
  teamId: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  status: string;
  spend: Spend;
}

/** `GET /admin/api/teams`: a team with its keys' spend. */
export interface TeamRow extends TenantLimits {
  id: string;
  name: string;
  spend: Spend;
}

/** A server-side value as JSON carries it: dates as text. */
export type Json<T> = T extends Date
  ? string
  : T extends Array<infer Item>
    ? Json<Item>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;
