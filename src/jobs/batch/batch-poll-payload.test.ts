import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Infrastructure } from '../../infrastructure.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { type JobsDatabase, sqliteJobsTarget } from '../jobs.test-helpers.js';
import { echoWord, openBatchInfrastructure, translatePrompt, until } from './batch.test-helpers.js';
import { BATCH_POLL_JOB } from './batches.js';

const translate = translatePrompt('poll-payload-translate');

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());

describe('a batch poll job', () => {
  let database: JobsDatabase;
  let infra: Infrastructure;

  beforeEach(async () => {
    fake.reset();
    fake.setHandler(echoWord);
    database = await sqliteJobsTarget.create();
    infra = await openBatchInfrastructure(fake, database.url);
  }, 60_000);

  afterEach(async () => {
    await infra.close();
    await database.drop();
  });

  // biome-ignore lint/suspicious/noExplicitAny: the queue's own table, read raw.
  const db = () => infra.database.db as any;

  it('carries none of the batch’s item ids: its row stays small however many items, and the items come out whole', async () => {
    fake.batches.settings.pollsBeforeEnd = 3;
    const contexts = Array.from({ length: 2000 }, (_, index) => ({ word: `w${index}` }));
    const ids = contexts.map((_, index) => `item-${index.toString().padStart(8, '0')}-0000-4000-8000-000000000000`);
    const id = await infra.jobs.enqueueBatch(translate, contexts, { ids, pollIntervalMs: 0 });
    const worker = infra.jobs.work({ prompts: [translate], pollIntervalMs: 20 });
    const batch = await infra.jobs.waitBatch(id, { pollIntervalMs: 50 });
    await worker.stop();
    expect(batch.state).toBe('completed');
    expect(batch.items?.map((item) => item.id)).toEqual(ids);
    expect(batch.items?.every((item) => item.ok)).toBe(true);
    const rows = await sql<{ bytes: number }>`select length(data) as bytes from groundwork_jobs where name = ${BATCH_POLL_JOB}`.execute(
      db(),
    );
    expect(rows.rows.length).toBeGreaterThan(1);
    for (const row of rows.rows) expect(Number(row.bytes)).toBeLessThan(2000);
  }, 60_000);

  it('still finishes a poll queued with the item ids in it, taking those', async () => {
    fake.batches.settings.manual = true;
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }], { pollIntervalMs: 0 });
    const first = infra.jobs.work({ prompts: [translate], pollIntervalMs: 20 });
    await until(async () => (await infra.jobs.getBatch(id))?.providerBatchId !== undefined);
    await first.stop();
    // A poll queued by an earlier version carries the whole spec, ids included.
    await sql`update groundwork_jobs set data = json_set(data, '$.payload.spec.ids', json(${JSON.stringify(['old-0', 'old-1'])})) where name = ${BATCH_POLL_JOB} and state in ('created', 'retry')`.execute(
      db(),
    );
    const waiting = await sql<{
      n: number;
    }>`select count(*) as n from groundwork_jobs where name = ${BATCH_POLL_JOB} and state in ('created', 'retry') and json_extract(data, '$.payload.spec.ids') is not null`.execute(
      db(),
    );
    expect(Number(waiting.rows[0]?.n)).toBe(1);
    fake.batches.complete();
    const second = infra.jobs.work({ prompts: [translate], pollIntervalMs: 20 });
    const batch = await infra.jobs.waitBatch(id, { pollIntervalMs: 50 });
    await second.stop();
    expect(batch.state).toBe('completed');
    expect(batch.items?.map((item) => item.id)).toEqual(['old-0', 'old-1']);
  }, 60_000);
});
