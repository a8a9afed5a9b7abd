import { type TracerProvider, trace } from '@opentelemetry/api';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresUrl } from '../../test/services.js';
import { openContractDatabase } from './database-contract.test-helpers.js';

/** A tracer provider whose spans cannot start. */
const throwingProvider = {
  getTracer: () => ({
    startSpan: () => {
      throw new Error('tracer failed');
    },
    startActiveSpan: () => {
      throw new Error('tracer failed');
    },
  }),
} as unknown as TracerProvider;

describe('SessionRunner', () => {
  beforeEach(() => {
    trace.disable();
  });

  afterEach(() => {
    trace.disable();
  });

  it('releases the connection when the tracer throws as the transaction starts', async () => {
    const database = await openContractDatabase(postgresUrl(), { poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 1000 });
    try {
      // Checked out once before, so that the transaction goes to the driver direct.
      await sql`select 1`.execute(database.db);
      trace.setGlobalTracerProvider(throwingProvider);
      await expect(database.withSession((tx) => sql`select 1`.execute(tx))).rejects.toThrow('tracer failed');
      trace.disable();
      expect(database.poolStats()).toMatchObject({ total: 1, idle: 1 });
      expect((await database.withSession((tx) => sql<{ one: number }>`select 1 as one`.execute(tx))).rows).toEqual([{ one: 1 }]);
    } finally {
      await database.close();
    }
  });
});
