import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisUrl, uniqueName } from '../../../test/services.js';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { createLogger } from '../../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { JobInputError } from '../job-errors.js';
import type { JobsDatabase } from '../jobs.test-helpers.js';
import { BUDGET_SETUPS, echoWord, keyTotal, translatePrompt } from './batch.test-helpers.js';

const translate = translatePrompt('tx-batch-translate');

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.setHandler(echoWord);
});

describe.each(BUDGET_SETUPS)('batches and the caller’s transaction on $name', ({ target, redis }) => {
  let database: JobsDatabase;
  let infra: Infrastructure;
  let keyId: string;

  beforeEach(async () => {
    database = await target.create();
    infra = await createInfrastructure({
      env: {
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-batch-tx-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        OPENAI_MODEL: 'gpt-4o-mini',
        DATABASE_URL: database.url,
        LLM_CACHE: 'off',
        JOBS_POLL_INTERVAL_MS: '50',
        JOBS_SCHEMA: 'batch_tx_test',
        TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: '200',
        // A session waiting for a connection its own transaction holds fails fast rather than after 10 s.
        DB_ACQUIRE_TIMEOUT_MS: '2000',
        ...(redis ? { REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: `${uniqueName('batchtx')}:` } : {}),
      },
      envFile: false,
      logger: createLogger({ level: 'warn', format: 'json' }, { destination: { write: () => {} } }),
    });
    await infra.initDb();
    ({
      key: { id: keyId },
    } = await infra.tenants.repository.createKey({ name: 'customer-tx', totalBudgetUsd: 1 }));
  }, 60_000);

  afterEach(async () => {
    await infra.close();
    await database.drop();
  });

  const reservedUsd = async () => (await keyTotal(infra, keyId)).reservedUsd;

  if (!redis) {
    it('reserves a tenant’s batch in withSession’s transaction: held once it commits', async () => {
      const id = await infra.withSession(() => infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-tx' }));
      expect((await infra.jobs.getBatch(id))?.state).toBe('submitting');
      expect(await reservedUsd()).toBeGreaterThan(0);
    });

    it('leaves neither the batch nor its reservation when the transaction rolls back', async () => {
      const attempt = infra.withSession(async () => {
        await infra.jobs.enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }], { tenant: 'customer-tx' });
        throw new Error('the application changed its mind');
      });
      await expect(attempt).rejects.toThrow('the application changed its mind');
      expect(await infra.jobs.listBatches()).toEqual([]);
      expect(await reservedUsd()).toBe(0);
    });

    it('reserves in the transaction given as tx, and rolls back with it', async () => {
      const attempt = infra.db.transaction().execute(async (tx) => {
        await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-tx', tx });
        throw new Error('rolled back');
      });
      await expect(attempt).rejects.toThrow('rolled back');
      expect(await infra.jobs.listBatches()).toEqual([]);
      expect(await reservedUsd()).toBe(0);
    });

    it('releases in the transaction the reservation of a batch whose idempotency key exists already', async () => {
      const first = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-tx', idempotencyKey: 'once' });
      const held = await reservedUsd();
      const again = await infra.withSession(() =>
        infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-tx', idempotencyKey: 'once' }),
      );
      expect(again).toBe(first);
      expect(await reservedUsd()).toBe(held);
    });
  } else {
    it('refuses a tenant’s batch in a transaction, naming the fix, with nothing reserved or enqueued', async () => {
      const attempt = infra.withSession(() => infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-tx' }));
      await expect(attempt).rejects.toBeInstanceOf(JobInputError);
      await expect(infra.withSession(() => infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-tx' }))).rejects.toThrow(
        /budgets live in Redis.*after that transaction commits/,
      );
      expect(await infra.jobs.listBatches()).toEqual([]);
      expect(await reservedUsd()).toBe(0);
      // Outside a transaction it is reserved as before.
      await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'customer-tx' });
      expect(await reservedUsd()).toBeGreaterThan(0);
    });
  }

  it('enqueues a batch without a tenant in the transaction, whatever the budgets', async () => {
    const id = await infra.withSession(() => infra.jobs.enqueueBatch(translate, [{ word: 'a' }]));
    expect((await infra.jobs.getBatch(id))?.state).toBe('submitting');
  });
});
