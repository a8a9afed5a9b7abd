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

  it('keeps two concurrent sessions apart, and a task an ended session left behind sees the pool', async () => {
    const database = await openContractDatabase(postgresUrl(), { poolSize: 2, maxOverflow: 0, acquireTimeoutMs: 1000 });
    const connectionId = (): string => database.getDatabaseSession().connectionId;
    try {
      let resumeDetached: () => void = () => undefined;
      const detachedGate = new Promise<void>((resolve) => {
        resumeDetached = resolve;
      });
      let finishSecond: () => void = () => undefined;
      const secondGate = new Promise<void>((resolve) => {
        finishSecond = resolve;
      });
      const seen: { first: string[]; second: string[] } = { first: [], second: [] };
      let detached: Promise<string> | undefined;
      let secondStarted: () => void = () => undefined;
      const started = new Promise<void>((resolve) => {
        secondStarted = resolve;
      });
      const second = database.withSession(async (tx) => {
        seen.second.push(connectionId());
        await sql`select 1`.execute(tx);
        secondStarted();
        await secondGate;
        seen.second.push(connectionId());
      });
      await started;
      await database.withSession(async (tx) => {
        seen.first.push(connectionId());
        // Left running past the session's end.
        detached = detachedGate.then(connectionId);
        await sql`select 1`.execute(tx);
        seen.first.push(connectionId());
      });
      // The first session ended while the second still runs: its task must not find its transaction.
      resumeDetached();
      expect(await detached).toBe('pool');
      finishSecond();
      await second;
      const [first] = seen.first;
      const [other] = seen.second;
      expect(first).toMatch(/^pg:/);
      expect(other).toMatch(/^pg:/);
      expect(first).not.toBe(other);
      expect(seen).toEqual({ first: [first, first], second: [other, other] });
      expect(connectionId()).toBe('pool');
    } finally {
      await database.close();
    }
  });
});
