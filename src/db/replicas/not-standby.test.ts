import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgresDatabase } from '../../../test/services.js';
import { loadConfig } from '../../config/load-config.js';
import { systemClock } from '../../internal/clock.js';
import { captureLogger } from '../../observability/capture-logger.test-helpers.js';
import { createDatabase } from '../create-database.js';
import type { Database } from '../database.js';
import { Replica } from './replica.js';

/*
 * A server listed in DATABASE_REPLICA_URLS that is not a standby (a replica promoted in a
 * failover, or the primary listed by mistake) may hold data that parted from the primary's, and
 * takes writes: it must take no reads, say so, and refuse writes that reach it.
 */
describe('a replica URL that is not a standby', () => {
  let primary: { url: string; drop(): Promise<void> };
  const opened: Array<Database<unknown>> = [];

  beforeAll(async () => {
    primary = await freshPostgresDatabase('gw_not_standby');
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()));
  });

  afterAll(async () => {
    await primary.drop();
  });

  it('is skipped with its reason, logged once at warn, and health is degraded', async () => {
    const captured = captureLogger('debug');
    const config = loadConfig({ env: { DATABASE_URL: primary.url, DATABASE_REPLICA_URLS: primary.url }, envFile: false }).database;
    const database = await createDatabase(config, { logger: captured.logger });
    opened.push(database);
    const [status] = database.replicaStatus();
    expect(status?.state).toBe('down');
    expect(status?.reason).toMatch(/not a standby/);
    const health = await database.replicaHealthCheck?.check(new AbortController().signal, {});
    expect(health?.status).toBe('degraded');
    const warnings = captured.records.filter((record) => record.level === 'warn' && String(record.msg).includes('is skipped'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.msg)).toMatch(/not a standby/);

    // dbRead goes to the primary, in a READ ONLY transaction: raw SQL that writes is refused there.
    await sql`create table written (x int)`.execute(database.db);
    await expect(sql`insert into written values (1)`.execute(database.dbRead)).rejects.toThrow(/read-only transaction/);
    const { rows } = await sql<{ n: string }>`select count(*) as n from written`.execute(database.db);
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it("refuses writes on the replica's own pool, before a measurement finds it out", async () => {
    const captured = captureLogger('debug');
    const config = loadConfig({ env: { DATABASE_URL: primary.url }, envFile: false }).database;
    const replica = await Replica.open<unknown>({
      index: 0,
      label: 'replica-0',
      url: primary.url,
      config,
      logger: captured.logger,
      metrics: undefined,
      clock: systemClock,
      lagTimeoutMs: 1000,
    });
    try {
      const client = new pg.Client({ connectionString: primary.url });
      await client.connect();
      await client.query('create table kept (x int)');
      await client.end();
      await expect(sql`insert into kept values (1)`.execute(replica.db)).rejects.toThrow(/read-only transaction/);
      await expect(sql`select 1 as one`.execute(replica.db)).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      await replica.close(1000);
    }
  });

  it('refuses writes on a replica whose URL passes server options of its own, and keeps those', async () => {
    const config = loadConfig({ env: { DATABASE_URL: primary.url }, envFile: false }).database;
    const url = new URL(primary.url);
    url.searchParams.set('options', '-c statement_timeout=4321');
    const replica = await Replica.open<unknown>({
      index: 0,
      label: 'replica-0',
      url: url.toString(),
      config,
      logger: captureLogger('debug').logger,
      metrics: undefined,
      clock: systemClock,
      lagTimeoutMs: 1000,
    });
    try {
      const client = new pg.Client({ connectionString: primary.url });
      await client.connect();
      await client.query('create table kept_too (x int)');
      await client.end();
      await expect(sql`insert into kept_too values (1)`.execute(replica.db)).rejects.toThrow(/read-only transaction/);
      await expect(sql`show statement_timeout`.execute(replica.db)).resolves.toMatchObject({ rows: [{ statement_timeout: '4321ms' }] });
    } finally {
      await replica.close(1000);
    }
  });
});
