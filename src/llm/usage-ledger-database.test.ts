import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgresDatabase, postgresUrl } from '../../test/services.js';
import { ConnectionLostError } from '../db/connection-lost-error.js';
import { createDatabase } from '../db/create-database.js';
import type { Database } from '../db/database.js';
import { databaseConfig } from '../db/database-contract.test-helpers.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { PoolTimeoutError } from '../db/pool-timeout-error.js';
import { isRowRefusal } from '../db/row-refusal.js';
import { TcpProxy } from '../db/tcp-proxy.test-helpers.js';
import { createUsageSink } from '../db/usage-sink.js';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import { silentLogger } from '../observability/logger.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { TENANT_DATABASE_TARGETS, type TenantDatabase } from '../tenants/tenant-databases.test-helpers.js';
import { UsageLedger } from './usage-ledger.js';
import type { UsageRecord, UsageSink } from './usage-record.js';

const HOUR = new Date('2026-03-10T12:00:00.000Z');

function record(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    createdAt: HOUR,
    provider: 'openai',
    model: 'gpt-4o-mini',
    promptName: null,
    promptVersion: null,
    promptTokens: 10,
    completionTokens: 5,
    totalTokens: 15,
    cachedPromptTokens: 0,
    reasoningTokens: 0,
    costUsd: 0.25,
    latencyMs: 1,
    outcome: 'success',
    cacheHit: false,
    attempts: 1,
    requestId: null,
    ...overrides,
  };
}

async function counter(metrics: GroundworkMetrics, result: string): Promise<number> {
  const data = await metrics.ledgerRows.get();
  return data.values.find((value) => value.labels['result'] === result)?.value ?? 0;
}

/** A sink that counts its writes. */
function counting(sink: UsageSink): { sink: UsageSink; writes: () => number } {
  let writes = 0;
  return {
    sink: {
      writeBatch: (records) => {
        writes++;
        return sink.writeBatch(records);
      },
      ...(sink.isRowRefusal === undefined ? {} : { isRowRefusal: sink.isRowRefusal }),
    },
    writes: () => writes,
  };
}

describe.each(TENANT_DATABASE_TARGETS)('the usage ledger on $name', (target) => {
  let opened: TenantDatabase;
  let database: Database<GroundworkTables>;

  beforeAll(async () => {
    opened = await target.open();
    database = opened.database;
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
  });

  async function rowsOf(keyId: string) {
    return database.db.selectFrom('llm_usage').selectAll().where('key_id', '=', keyId).orderBy('id').execute();
  }

  it('keeps every other row of a batch when the database refuses one, and logs and counts that one without its text', async () => {
    const metrics = new GroundworkMetrics();
    const { logger, records, text } = captureLogger();
    const { sink, writes } = counting(createUsageSink(database));
    const ledger = new UsageLedger({ sink, logger, metrics, batchSize: 100 });
    for (let index = 0; index < 60; index++) ledger.record(record({ keyId: 'key_paying', promptTokens: index }));
    // No provider: every dialect refuses the row (NOT NULL), and PostgreSQL's error quotes the whole row.
    ledger.record(record({ keyId: 'key_other', provider: undefined as never, promptText: 'the secret plan', requestId: 'req_refused' }));
    for (let index = 60; index < 99; index++) ledger.record(record({ keyId: 'key_paying', promptTokens: index }));
    await ledger.close();

    const rows = await rowsOf('key_paying');
    expect(rows.map((row) => row.prompt_tokens)).toEqual(Array.from({ length: 99 }, (_, index) => index));
    expect(await rowsOf('key_other')).toEqual([]);
    expect(await counter(metrics, 'written')).toBe(99);
    expect(await counter(metrics, 'refused')).toBe(1);
    expect(await counter(metrics, 'failed')).toBe(0);
    // The first write, then two halves a level down to the one row: 1 + 2·7.
    expect(writes()).toBe(15);
    const refused = records.filter((line) => String(line['msg']).includes('usage ledger row refused'));
    expect(refused).toHaveLength(1);
    expect(refused[0]?.['row']).toMatchObject({ keyId: 'key_other', requestId: 'req_refused', model: 'gpt-4o-mini' });
    expect(text()).not.toContain('the secret plan');
    // The roll-ups took the written rows and nothing of the refused one.
    const rollup = await database.db
      .selectFrom('llm_usage_hourly_key')
      .select(sql<number>`sum(calls)`.as('calls'))
      .where('key_id', '=', 'key_paying')
      .executeTakeFirstOrThrow();
    expect(Number(rollup.calls)).toBe(99);
  });

  it('finds several refused rows, wherever they are in the batch', async () => {
    const metrics = new GroundworkMetrics();
    const ledger = new UsageLedger({ sink: createUsageSink(database), logger: silentLogger(), metrics, batchSize: 40 });
    const refused = new Set([0, 17, 18, 39]);
    for (let index = 0; index < 40; index++) {
      ledger.record(record({ keyId: 'key_several', promptTokens: index, ...(refused.has(index) ? { outcome: undefined as never } : {}) }));
    }
    await ledger.close();
    const rows = await rowsOf('key_several');
    expect(rows.map((row) => row.prompt_tokens)).toEqual(
      Array.from({ length: 40 }, (_, index) => index).filter((index) => !refused.has(index)),
    );
    expect(await counter(metrics, 'refused')).toBe(4);
    expect(await counter(metrics, 'written')).toBe(36);
  });

  it('writes a NUL in any text value as U+FFFD, so a model name with one costs no row', async () => {
    const metrics = new GroundworkMetrics();
    const ledger = new UsageLedger({ sink: createUsageSink(database), logger: silentLogger(), metrics, batchSize: 100 });
    for (let index = 0; index < 5; index++) ledger.record(record({ keyId: 'key_nul', promptTokens: index }));
    // What a caller of `serve` sends as {"model": "gpt-4o-mini\u0000"}: valid JSON, a non-empty string.
    ledger.record(
      record({
        keyId: 'key_nul',
        teamId: 'team\u0000',
        promptTokens: 5,
        model: 'gpt-4o-mini\u0000',
        outcome: 'model_not\u0000found',
        deployment: 'eu\u0000',
        promptName: 'greet\u0000',
        promptVersion: '1\u0000',
        requestId: 'req\u0000',
        promptText: '[{"role":"user","content":"a\u0000b"}]',
        answerText: 'x\u0000y',
      }),
    );
    await ledger.close();
    expect(await counter(metrics, 'written')).toBe(6);
    const rows = await rowsOf('key_nul');
    expect(rows).toHaveLength(6);
    expect(rows[5]).toMatchObject({
      team_id: 'team\uFFFD',
      model: 'gpt-4o-mini\uFFFD',
      outcome: 'model_not\uFFFDfound',
      deployment: 'eu\uFFFD',
      prompt_name: 'greet\uFFFD',
      prompt_version: '1\uFFFD',
      request_id: 'req\uFFFD',
      prompt_text: '[{"role":"user","content":"a\uFFFDb"}]',
      answer_text: 'x\uFFFDy',
    });
    const rollup = await database.db
      .selectFrom('llm_usage_hourly_model')
      .select(['model', 'calls'])
      .where('model', '=', 'gpt-4o-mini\uFFFD')
      .execute();
    expect(rollup.map((row) => Number(row.calls))).toEqual([1]);
  });

  it('tells a row the database refuses from a database that cannot be used', async () => {
    const refusal = await createUsageSink(database)
      .writeBatch([record({ provider: undefined as never })])
      .catch((error: unknown) => error);
    expect(isRowRefusal(refusal)).toBe(true);
    expect(isRowRefusal(new ConnectionLostError('lost', { driverCode: 'ECONNREFUSED' }))).toBe(false);
    expect(isRowRefusal(new PoolTimeoutError(100, { total: 1, max: 1, idle: 0, waiting: 1 } as never))).toBe(false);
    expect(isRowRefusal(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))).toBe(false);
    expect(isRowRefusal(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isRowRefusal(new Error('no code'))).toBe(false);
  });
});

describe('the usage ledger on PostgreSQL that is down', () => {
  let fresh: { url: string; drop(): Promise<void> };
  let proxy: TcpProxy;
  let database: Database<GroundworkTables>;

  beforeAll(async () => {
    fresh = await freshPostgresDatabase('gw_ledger_down');
    const server = new URL(postgresUrl());
    proxy = new TcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    await proxy.accept();
    const url = new URL(fresh.url);
    url.host = `127.0.0.1:${proxy.port}`;
    database = await createDatabase<GroundworkTables>(
      databaseConfig(url.toString(), { poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 1000 }),
      {
        logger: silentLogger(),
      },
    );
    await database.migrate('up');
  }, 60_000);

  afterAll(async () => {
    await database?.close();
    await proxy?.close();
    await fresh?.drop();
  });

  it('loses the batch after one write, as before, rather than writing it again row by row', async () => {
    const metrics = new GroundworkMetrics();
    const { logger, text } = captureLogger();
    const { sink, writes } = counting(createUsageSink(database));
    const ledger = new UsageLedger({ sink, logger, metrics, batchSize: 100 });
    await proxy.refuse();
    proxy.cutOnNextWrite();
    for (let index = 0; index < 100; index++) ledger.record(record({ keyId: 'key_down' }));
    await ledger.close();
    expect(writes()).toBe(1);
    expect(await counter(metrics, 'failed')).toBe(100);
    expect(await counter(metrics, 'written')).toBe(0);
    expect(await counter(metrics, 'refused')).toBe(0);
    expect(text()).toContain('usage ledger write failed; 100 rows lost');
  });
});
