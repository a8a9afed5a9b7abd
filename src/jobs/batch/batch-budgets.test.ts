import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisUrl, uniqueName } from '../../../test/services.js';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { createLogger } from '../../observability/logger.js';
import { BudgetExceededError, KeyRefusedError, ModelNotAllowedError, TenantLimitError } from '../../tenants/tenant-refusals.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import type { JobsDatabase } from '../jobs.test-helpers.js';
import { BUDGET_SETUPS, echoWord, keyTotal, translatePrompt, until } from './batch.test-helpers.js';
import { batchRequestOf } from './batch-requests.js';

const translate = translatePrompt('budget-translate');

/** The output maximum reserved and sent for each item of a tenant's batch. */
const MAX_OUTPUT = 200;

let fake: FakeProviderServer;
/** The `max_tokens` of every batch line the provider ran. */
let sentMaxTokens: unknown[] = [];
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  sentMaxTokens = [];
  fake.setHandler((request) => {
    const body = request.body as { max_tokens?: unknown; max_completion_tokens?: unknown };
    sentMaxTokens.push(body.max_completion_tokens ?? body.max_tokens);
    return echoWord(request);
  });
});

describe.each(BUDGET_SETUPS)('tenant batch budgets on $name', ({ target, redis }) => {
  let database: JobsDatabase;
  let infra: Infrastructure;
  let prefix: string;
  const opened: Infrastructure[] = [];

  const open = async (extra: Record<string, string> = {}) => {
    const instance = await createInfrastructure({
      env: {
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-batch-budget-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        OPENAI_MODEL: 'gpt-4o-mini',
        DATABASE_URL: database.url,
        LLM_CACHE: 'off',
        JOBS_POLL_INTERVAL_MS: '50',
        JOBS_SCHEMA: 'batch_budget_test',
        TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: String(MAX_OUTPUT),
        ...(redis ? { REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: prefix } : {}),
        ...extra,
      },
      envFile: false,
      logger: createLogger({ level: 'warn', format: 'json' }, { destination: { write: () => {} } }),
    });
    await instance.initDb();
    opened.push(instance);
    return instance;
  };

  beforeEach(async () => {
    prefix = `${uniqueName('batchbudget')}:`;
    database = await target.create();
    infra = await open();
  }, 60_000);

  afterEach(async () => {
    for (const instance of opened.splice(0)) await instance.close();
    await database.drop();
  });

  const ledgerUsd = async (instance: Infrastructure) => {
    const rows = (await instance.db
      .selectFrom('llm_usage' as never)
      .select(['cost_usd', 'key_id', 'operation'] as never[])
      .execute()) as unknown as Array<{ cost_usd: number | string; key_id: string | null; operation: string }>;
    return { rows, usd: rows.reduce((sum, row) => sum + Number(row.cost_usd), 0) };
  };
  const totalOf = keyTotal;
  const words = (count: number) => Array.from({ length: count }, (_, index) => ({ word: `w${index}` }));

  it('reserves the worst case at batch prices, sends each line with that output maximum, and settles to the ledger', async () => {
    const { key } = await infra.tenants.repository.createKey({ name: 'customer-1', totalBudgetUsd: 1 });
    fake.batches.settings.manual = true;
    const id = await infra.jobs.enqueueBatch(translate, words(3), { tenant: 'customer-1', pollIntervalMs: 10 });
    const worstCase = infra.tenants.batches.worstCaseNano({
      model: 'gpt-4o-mini',
      // Each item as it is sent: its messages, output maximum and answer format (whose schema is billed as prompt).
      requests: words(3).map((context) => batchRequestOf(translate, context, 'gpt-4o-mini', MAX_OUTPUT)),
    });
    // gpt-4o-mini at half price: 200 output tokens cost $0.00006 each; three items with their prompts.
    expect(worstCase / 1e9).toBeGreaterThan(3 * 0.00006);
    expect(worstCase / 1e9).toBeLessThan(3 * 0.00007);
    expect(await totalOf(infra, key.id)).toEqual({ spentUsd: 0, reservedUsd: worstCase / 1e9 });

    const worker = infra.jobs.work({ prompts: [translate] });
    await until(async () => (await infra.jobs.getBatch(id))?.providerBatchId !== undefined);
    fake.batches.complete();
    const batch = await infra.jobs.waitBatch(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(batch.state).toBe('completed');
    expect(sentMaxTokens).toEqual([MAX_OUTPUT, MAX_OUTPUT, MAX_OUTPUT]);
    const { rows, usd } = await ledgerUsd(infra);
    expect(rows.map((row) => row.key_id)).toEqual([key.id, key.id, key.id]);
    expect(usd).toBeGreaterThan(0);
    const total = await totalOf(infra, key.id);
    expect(total.reservedUsd).toBe(0);
    expect(total.spentUsd).toBeCloseTo(usd, 9);
    expect(total.spentUsd).toBeGreaterThanOrEqual(usd);
    const metrics = await infra.metrics.registry.metrics();
    const spend = new RegExp(`^groundwork_tenant_spend_usd_total\\{key_id="${key.id}",team_id=""\\} (\\S+)$`, 'm').exec(metrics)?.[1];
    expect(Number(spend)).toBeCloseTo(usd, 9);
  }, 30_000);

  it('refuses a batch whose worst case exceeds the remaining budget, whole, with nothing sent or enqueued', async () => {
    const { key } = await infra.tenants.repository.createKey({ name: 'customer-2', totalBudgetUsd: 0.0001 });
    // One item's worst case fits ($0.00006…), two do not.
    const error = await infra.jobs.enqueueBatch(translate, words(2), { tenant: 'customer-2' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as BudgetExceededError).code).toBe('insufficient_quota');
    expect(await infra.jobs.listBatches()).toEqual([]);
    expect(await totalOf(infra, key.id)).toEqual({ spentUsd: 0, reservedUsd: 0 });
    await infra.jobs.enqueueBatch(translate, words(1), { tenant: 'customer-2' });
    expect(await infra.jobs.listBatches()).toHaveLength(1);
    expect(fake.requests).toHaveLength(0);
  });

  it("holds the team's budget as well as the key's, and leaves per-minute limits out", async () => {
    const team = await infra.tenants.repository.createTeam({ name: 'team-a', totalBudgetUsd: 0.0001 });
    // The key's own budget has room: the team's decides.
    const { key } = await infra.tenants.repository.createKey({ name: 'member', team: 'team-a', totalBudgetUsd: 1 });
    const error = await infra.jobs.enqueueBatch(translate, words(2), { tenant: 'member' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as BudgetExceededError).budget).toBe(`team:${team.id}:total`);
    await infra.jobs.enqueueBatch(translate, words(1), { tenant: 'member' });
    const [keyTotal, teamTotal] = await infra.tenants.batches.read([`key:${key.id}:total`, `team:${team.id}:total`]);
    expect(keyTotal?.reservedNano).toBeGreaterThan(0);
    expect(teamTotal?.reservedNano).toBe(keyTotal?.reservedNano);
    // Room held by the batch in flight, not spent: retry later rather than insufficient_quota.
    const other = await infra.jobs.enqueueBatch(translate, words(1), { tenant: 'member' }).catch((caught: unknown) => caught);
    expect(other).toBeInstanceOf(TenantLimitError);
    expect((other as TenantLimitError).limit).toBe('budget');
    // Per-minute limits do not apply to batches: two batches of three items from a key allowed one request and 10 tokens a minute.
    await infra.tenants.repository.createKey({ name: 'slow', totalBudgetUsd: 1, requestsPerMinute: 1, tokensPerMinute: 10 });
    await infra.jobs.enqueueBatch(translate, words(3), { tenant: 'slow' });
    await infra.jobs.enqueueBatch(translate, words(3), { tenant: 'slow' });
    expect(await infra.jobs.listBatches()).toHaveLength(3);
  });

  it('holds one reservation for a batch enqueued twice with the same idempotency key', async () => {
    const { key } = await infra.tenants.repository.createKey({ name: 'customer-6', totalBudgetUsd: 1 });
    const first = await infra.jobs.enqueueBatch(translate, words(2), { tenant: 'customer-6', idempotencyKey: 'night-1' });
    const once = await totalOf(infra, key.id);
    expect(once.reservedUsd).toBeGreaterThan(0);
    expect(await infra.jobs.enqueueBatch(translate, words(2), { tenant: 'customer-6', idempotencyKey: 'night-1' })).toBe(first);
    expect(await totalOf(infra, key.id)).toEqual(once);
  });

  it('refuses a disallowed model and an unusable key before reserving or enqueueing anything', async () => {
    await infra.tenants.repository.createKey({ name: 'only-4o', allowedModels: ['gpt-4o'], totalBudgetUsd: 1 });
    await expect(infra.jobs.enqueueBatch(translate, words(1), { tenant: 'only-4o' })).rejects.toThrow(ModelNotAllowedError);
    await expect(infra.jobs.enqueueBatch(translate, words(1), { tenant: 'only-4o' })).rejects.toThrow(/gpt-4o-mini/);
    await infra.tenants.repository.createKey({ name: 'revoked', totalBudgetUsd: 1 });
    await infra.tenants.repository.revokeKey('revoked');
    await expect(infra.jobs.enqueueBatch(translate, words(1), { tenant: 'revoked' })).rejects.toThrow(KeyRefusedError);
    expect(await infra.jobs.listBatches()).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it('a cancelled batch is charged its answered items and releases the rest; one cancelled before submission releases all', async () => {
    const { key } = await infra.tenants.repository.createKey({ name: 'customer-3', totalBudgetUsd: 1 });
    const early = await infra.jobs.enqueueBatch(translate, words(2), { tenant: 'customer-3', pollIntervalMs: 10 });
    expect((await totalOf(infra, key.id)).reservedUsd).toBeGreaterThan(0);
    expect(await infra.jobs.cancelBatch(early)).toBe(true);
    expect(await totalOf(infra, key.id)).toEqual({ spentUsd: 0, reservedUsd: 0 });

    fake.batches.settings.manual = true;
    const id = await infra.jobs.enqueueBatch(translate, words(2), { tenant: 'customer-3', pollIntervalMs: 10 });
    const worker = infra.jobs.work({ prompts: [translate] });
    await until(async () => (await infra.jobs.getBatch(id))?.providerBatchId !== undefined);
    expect(await infra.jobs.cancelBatch(id)).toBe(true);
    const batch = await infra.jobs.waitBatch(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(batch.state).toBe('cancelled');
    expect(batch.items?.map((item) => item.ok)).toEqual([true, false]);
    const { usd } = await ledgerUsd(infra);
    expect(usd).toBeGreaterThan(0);
    const total = await totalOf(infra, key.id);
    expect(total.reservedUsd).toBe(0);
    expect(total.spentUsd).toBeCloseTo(usd, 9);
  }, 30_000);

  it('settles once when the final poll is run again after its ledger write failed', async () => {
    const { key } = await infra.tenants.repository.createKey({ name: 'customer-4', totalBudgetUsd: 1 });
    // The ledger refuses rows while the flag table holds one: the final poll settles, then its transaction fails.
    if (target.engine === 'table') {
      await sql`CREATE TABLE refuse_ledger (x INTEGER)`.execute(infra.db);
      await sql`INSERT INTO refuse_ledger VALUES (1)`.execute(infra.db);
      await sql`CREATE TRIGGER refuse_ledger_insert BEFORE INSERT ON llm_usage WHEN EXISTS (SELECT 1 FROM refuse_ledger)
        BEGIN SELECT RAISE(ABORT, 'the ledger refuses rows'); END`.execute(infra.db);
    } else {
      await sql`CREATE TABLE refuse_ledger (x INTEGER)`.execute(infra.db);
      await sql`INSERT INTO refuse_ledger VALUES (1)`.execute(infra.db);
      await sql`CREATE FUNCTION refuse_ledger() RETURNS trigger AS $$
        BEGIN IF EXISTS (SELECT 1 FROM refuse_ledger) THEN RAISE EXCEPTION 'the ledger refuses rows'; END IF; RETURN NEW; END $$
        LANGUAGE plpgsql`.execute(infra.db);
      await sql`CREATE TRIGGER refuse_ledger_insert BEFORE INSERT ON llm_usage FOR EACH ROW EXECUTE FUNCTION refuse_ledger()`.execute(
        infra.db,
      );
    }
    const id = await infra.jobs.enqueueBatch(translate, words(2), { tenant: 'customer-4', pollIntervalMs: 10 });
    // A run whose completing transaction failed holds its job until the job's lease passes: keep it short.
    const retrying = await open({ JOBS_TIMEOUT_MS: '1000' });
    const worker = retrying.jobs.work({ prompts: [translate] });
    // Settled by a final poll whose completion was then rolled back: the batch has not ended.
    await until(async () => (await totalOf(infra, key.id)).spentUsd > 0);
    const settledOnce = await totalOf(infra, key.id);
    expect((await infra.jobs.getBatch(id))?.state).toBe('in_progress');
    // Let it fail again at least once more before the ledger takes rows.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await sql`DELETE FROM refuse_ledger`.execute(infra.db);
    const batch = await infra.jobs.waitBatch(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(batch.state).toBe('completed');
    const { rows, usd } = await ledgerUsd(infra);
    expect(rows).toHaveLength(2);
    const total = await totalOf(infra, key.id);
    expect(total).toEqual(settledOnce);
    expect(total.reservedUsd).toBe(0);
    expect(total.spentUsd).toBeCloseTo(usd, 9);
  }, 30_000);

  it('keeps the reservation across a restart and past a live call’s lease, then settles it in the new instance', async () => {
    const { key } = await infra.tenants.repository.createKey({ name: 'customer-5', totalBudgetUsd: 1 });
    fake.batches.settings.manual = true;
    const id = await infra.jobs.enqueueBatch(translate, words(3), { tenant: 'customer-5', pollIntervalMs: 10 });
    const worker = infra.jobs.work({ prompts: [translate] });
    await until(async () => (await infra.jobs.getBatch(id))?.providerBatchId !== undefined);
    await worker.stop();
    const reserved = (await totalOf(infra, key.id)).reservedUsd;
    expect(reserved).toBeGreaterThan(0);
    await infra.close();
    opened.splice(opened.indexOf(infra), 1);

    const second = await open();
    const counter = `key:${key.id}:total`;
    const hours = (count: number) => Date.now() + count * 3_600_000;
    // Still held past the batch window (a live call's lease is 10 minutes).
    expect((await second.tenants.batches.read([counter], hours(25)))[0]?.reservedNano).toBe(Math.round(reserved * 1e9));
    fake.batches.complete();
    const again = second.jobs.work({ prompts: [translate] });
    const batch = await second.jobs.waitBatch(id, { pollIntervalMs: 20 });
    await again.stop();
    expect(batch.state).toBe('completed');
    const { usd } = await ledgerUsd(second);
    const total = await totalOf(second, key.id);
    expect(total.reservedUsd).toBe(0);
    expect(total.spentUsd).toBeCloseTo(usd, 9);
  }, 30_000);
});
