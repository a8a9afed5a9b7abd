import { createInfrastructure } from '../src/create-infrastructure.js';
import type { Infrastructure } from '../src/infrastructure.js';
import { type FakeProviderServer, startFakeProviderServer } from '../src/testing/fake-provider-server.js';
import { freshDatabase, type ServeFleet, startServeFleet } from './serve-fleet.js';

/** $0.1 per thousand input tokens, $1 per thousand output tokens. */
export const FLEET_PRICES = { 'metered-model': { input: 100, output: 1000 } };
const PROMPT_TOKENS = 5;

/** A fleet of `serve` processes on a fresh database and a fake provider whose answers vary in length. */
export interface TenantFleet {
  fleet: ServeFleet;
  infrastructure: Infrastructure;
  fake: FakeProviderServer;
  close(): Promise<void>;
}

export async function startTenantFleet(replicas: number): Promise<TenantFleet> {
  const database = await freshDatabase();
  const fake = await startFakeProviderServer({
    // Each answer as long as a random share of what the call may use, after a short random delay.
    handler: (request) => {
      const body = request.body as { max_tokens?: number; max_completion_tokens?: number };
      const maximum = body.max_completion_tokens ?? body.max_tokens ?? 20;
      const completionTokens = 1 + Math.floor(Math.random() * maximum);
      return {
        type: 'answer',
        content: 'word '.repeat(completionTokens).trim(),
        usage: { promptTokens: PROMPT_TOKENS, completionTokens },
        delayMs: Math.floor(Math.random() * 20),
      };
    },
  });
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-fleet',
    OPENAI_BASE_URL: fake.openaiBaseUrl,
  };
  const infrastructure = await createInfrastructure({ env });
  await infrastructure.database.migrate('up');
  let fleet: ServeFleet;
  try {
    fleet = await startServeFleet({
      replicas,
      databaseUrl: database.url,
      providerBaseUrl: fake.openaiBaseUrl,
      env: {
        LLM_PRICES: JSON.stringify(FLEET_PRICES),
        TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: '20',
        TENANT_MIN_OUTPUT_TOKENS: '1',
        TENANT_BUDGET_MAX_WAIT_MS: '30000',
      },
    });
  } catch (error) {
    await infrastructure.close();
    await fake.close();
    await database.drop();
    throw error;
  }
  return {
    fleet,
    infrastructure,
    fake,
    async close() {
      await fleet.close();
      await infrastructure.close();
      await fake.close();
      await database.drop();
    },
  };
}

interface CallOutcome {
  status: number;
  code: string | undefined;
  costUsd: number;
  totalTokens: number;
}

async function call(url: string, key: string, maxTokens?: number): Promise<CallOutcome> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      model: 'metered-model',
      messages: [{ role: 'user', content: 'Hello there!' }],
      ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
    }),
  });
  const text = await response.text();
  let body: { usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number }; error?: { code?: string } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Counted as another failure, by status: an answer without a JSON body.
    body = { error: { code: `http_${response.status}_without_json` } };
  }
  const usage = body.usage;
  const price = FLEET_PRICES['metered-model'];
  return {
    status: response.status,
    code: body.error?.code,
    costUsd: usage === undefined ? 0 : (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1e6,
    totalTokens: usage?.total_tokens ?? 0,
  };
}

/** What the budget run measured. */
export interface BudgetRun {
  calls: number;
  admitted: number;
  refusedForBudget: number;
  /** 429 `rate_limit_exceeded`: waited `TENANT_BUDGET_MAX_WAIT_MS` for budget held by calls in flight. */
  refusedAfterWaiting: number;
  otherFailures: number;
  /** The codes of the other failures, with their counts. */
  otherCodes: string;
  /** Spend in the ledger, written by every process. */
  settledUsd: number;
  overspendUsd: number;
  /** Spend answered to callers before the first `insufficient_quota`, as a share of the budget. */
  usedBeforeFirstRefusal: number;
}

/** `calls` concurrent calls, spread over the fleet, against one key whose total budget is `budgetUsd`. */
export async function runBudget(tenant: TenantFleet, options: { calls: number; budgetUsd: number }): Promise<BudgetRun> {
  const { key, plainKey } = await tenant.infrastructure.tenants.repository.createKey({
    name: `budget-${Date.now()}`,
    totalBudgetUsd: options.budgetUsd,
  });
  const plain = plainKey.reveal();
  let answeredUsd = 0;
  let atFirstRefusal: number | undefined;
  const outcomes = await Promise.all(
    Array.from({ length: options.calls }, async (_, index) => {
      const outcome = await call(tenant.fleet.urls[index % tenant.fleet.urls.length] as string, plain);
      if (outcome.status === 200) answeredUsd += outcome.costUsd;
      else if (outcome.code === 'insufficient_quota') atFirstRefusal ??= answeredUsd;
      return outcome;
    }),
  );
  // The ledger is complete once every process has flushed it: on shutdown.
  await tenant.fleet.close();
  const ledger = await tenant.infrastructure.db
    .selectFrom('llm_usage')
    .select((select) => select.fn.sum<string | number | null>('cost_usd').as('spent'))
    .where('key_id', '=', key.id)
    .executeTakeFirst();
  const settledUsd = Number(ledger?.spent ?? 0);
  return {
    calls: options.calls,
    admitted: outcomes.filter((outcome) => outcome.status === 200).length,
    refusedForBudget: outcomes.filter((outcome) => outcome.code === 'insufficient_quota').length,
    refusedAfterWaiting: outcomes.filter((outcome) => outcome.code === 'rate_limit_exceeded').length,
    otherFailures: outcomes.filter(
      (outcome) => outcome.status !== 200 && outcome.code !== 'insufficient_quota' && outcome.code !== 'rate_limit_exceeded',
    ).length,
    otherCodes: [
      ...outcomes
        .filter((outcome) => outcome.status !== 200 && outcome.code !== 'insufficient_quota' && outcome.code !== 'rate_limit_exceeded')
        .reduce(
          (counts, outcome) => counts.set(`${outcome.status}:${outcome.code}`, (counts.get(`${outcome.status}:${outcome.code}`) ?? 0) + 1),
          new Map<string, number>(),
        ),
    ]
      .map(([code, count]) => `${code}×${count}`)
      .join(' '),
    settledUsd,
    overspendUsd: Math.max(0, settledUsd - options.budgetUsd),
    usedBeforeFirstRefusal: (atFirstRefusal ?? answeredUsd) / options.budgetUsd,
  };
}

/** What an overload run measured. */
export interface OverloadRun {
  limit: number;
  /** What the limit allows over the run: the full bucket plus its refill while the run lasted. */
  allowed: number;
  /** Requests admitted (rpm), or tokens used by admitted calls (tpm). */
  admitted: number;
  offered: number;
  elapsedMs: number;
}

/**
 * Offers 3× what a key's per-minute limit allows, from `workers` callers spread over the fleet,
 * each calling again after a refusal, and counts what was admitted.
 */
export async function runOverload(
  tenant: TenantFleet,
  options: { kind: 'requests' | 'tokens'; limit: number; workers: number; maxTokens: number },
): Promise<OverloadRun> {
  const { plainKey } = await tenant.infrastructure.tenants.repository.createKey({
    name: `overload-${options.kind}-${Date.now()}`,
    ...(options.kind === 'requests' ? { requestsPerMinute: options.limit } : { tokensPerMinute: options.limit }),
  });
  const plain = plainKey.reveal();
  // Tokens per call, at most: what the 3× offer is counted in for a token limit.
  const perCall = options.kind === 'requests' ? 1 : PROMPT_TOKENS + options.maxTokens;
  const offerTarget = Math.ceil((3 * options.limit) / perCall);
  let offered = 0;
  let admitted = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: options.workers }, async (_, worker) => {
      while (offered < offerTarget) {
        offered++;
        const outcome = await call(tenant.fleet.urls[worker % tenant.fleet.urls.length] as string, plain, options.maxTokens);
        if (outcome.status === 200) admitted += options.kind === 'requests' ? 1 : outcome.totalTokens;
        else if (outcome.status !== 429) throw new Error(`unexpected answer ${outcome.status} ${outcome.code ?? ''}`);
      }
    }),
  );
  const elapsedMs = Date.now() - started;
  return {
    limit: options.limit,
    allowed: Math.floor(options.limit * (1 + elapsedMs / 60_000)),
    admitted,
    offered,
    elapsedMs,
  };
}
