import { describe, expect, it, vi } from 'vitest';
import { GroundworkMetrics } from '../observability/metrics.js';
import { ManualClock } from '../testing/manual-clock.js';
import { capturingLogger } from './llm.test-helpers.js';
import { UsageLedger } from './usage-ledger.js';
import type { UsageRecord, UsageSink } from './usage-record.js';

function row(index: number): UsageRecord {
  return {
    createdAt: new Date(0),
    provider: 'openai',
    model: 'gpt-4o-mini',
    promptName: null,
    promptVersion: null,
    promptTokens: index,
    completionTokens: 1,
    totalTokens: index + 1,
    cachedPromptTokens: 0,
    reasoningTokens: 0,
    costUsd: 0,
    latencyMs: 1,
    outcome: 'success',
    cacheHit: false,
    attempts: 1,
    requestId: null,
  };
}

async function counter(metrics: GroundworkMetrics, result: string): Promise<number> {
  const data = await metrics.ledgerRows.get();
  return data.values.find((value) => value.labels['result'] === result)?.value ?? 0;
}

describe('UsageLedger', () => {
  it('writes a batch when it is full, and the rest when the interval passes', async () => {
    const batches: UsageRecord[][] = [];
    const sink: UsageSink = { writeBatch: async (records) => void batches.push([...records]) };
    const clock = new ManualClock();
    const ledger = new UsageLedger({ sink, logger: capturingLogger().logger, clock, batchSize: 2, flushIntervalMs: 1000 });
    ledger.record(row(1));
    ledger.record(row(2));
    ledger.record(row(3));
    await vi.waitFor(() => expect(batches).toHaveLength(1));
    expect(ledger.buffered).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1000);
    await ledger.close();
    expect(batches.map((batch) => batch.map((record) => record.promptTokens))).toEqual([[1, 2], [3]]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('logs and counts a failed write, never throwing at the caller', async () => {
    const metrics = new GroundworkMetrics();
    const { logger, lines } = capturingLogger();
    const sink: UsageSink = {
      writeBatch: async () => {
        throw new Error('database is down');
      },
    };
    const ledger = new UsageLedger({ sink, logger, metrics, clock: new ManualClock(), batchSize: 10 });
    ledger.record(row(1));
    ledger.record(row(2));
    await expect(ledger.flush()).resolves.toBeUndefined();
    expect(await counter(metrics, 'failed')).toBe(2);
    expect(lines.join('')).toContain('usage ledger write failed');
  });

  it('bounds its buffer and drops beyond it', async () => {
    const metrics = new GroundworkMetrics();
    let release: () => void = () => {};
    const slowSink: UsageSink = { writeBatch: () => new Promise<void>((resolve) => (release = resolve)) };
    const ledger = new UsageLedger({
      sink: slowSink,
      logger: capturingLogger().logger,
      metrics,
      clock: new ManualClock(),
      batchSize: 10,
      maxBuffered: 20,
    });
    for (let index = 0; index < 25; index++) ledger.record(row(index));
    expect(await counter(metrics, 'dropped')).toBe(5);
    const closed = ledger.close();
    await vi.waitFor(() => {
      release();
      expect(ledger.buffered).toBe(0);
    });
    await vi.waitFor(async () => {
      release();
      expect(await counter(metrics, 'written')).toBe(20);
    });
    await closed;
    ledger.record(row(1));
    expect(await counter(metrics, 'dropped')).toBe(6);
  });

  describe('when a batch fails', () => {
    class Refused extends Error {}
    /** A sink that refuses any write holding a row whose `promptTokens` is in `refused`, and fails for good from the write `downAt` on. */
    function database(refused: Set<number>, downAt = Number.POSITIVE_INFINITY) {
      const writes: number[][] = [];
      const written: number[] = [];
      const sink: UsageSink = {
        writeBatch: async (records) => {
          writes.push(records.map((record) => record.promptTokens));
          if (writes.length >= downAt) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
          if (records.some((record) => refused.has(record.promptTokens))) throw new Refused('null value in column "provider"');
          written.push(...records.map((record) => record.promptTokens));
        },
        isRowRefusal: (error) => error instanceof Refused,
      };
      return { sink, writes, written };
    }

    it('writes it again in halves until only the refused rows are left out, and logs and counts each of them', async () => {
      const metrics = new GroundworkMetrics();
      const { logger, lines } = capturingLogger();
      const { sink, writes, written } = database(new Set([3, 6]));
      const ledger = new UsageLedger({ sink, logger, metrics, clock: new ManualClock(), batchSize: 8 });
      for (let index = 0; index < 8; index++) ledger.record({ ...row(index), promptText: 'the prompt' });
      await ledger.close();
      expect(written).toEqual([0, 1, 2, 4, 5, 7]);
      expect(writes).toEqual([[0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 2, 3], [0, 1], [2, 3], [2], [3], [4, 5, 6, 7], [4, 5], [6, 7], [6], [7]]);
      expect(await counter(metrics, 'written')).toBe(6);
      expect(await counter(metrics, 'refused')).toBe(2);
      expect(await counter(metrics, 'failed')).toBe(0);
      const refusedLines = lines.filter((line) => line.includes('usage ledger row refused'));
      expect(refusedLines).toHaveLength(2);
      expect(refusedLines[0]).toContain('null value in column');
      expect(lines.join('')).not.toContain('the prompt');
    });

    it('stops at the first failure that is not about a row, and loses every row not yet written', async () => {
      const metrics = new GroundworkMetrics();
      const { logger, lines } = capturingLogger();
      // The database goes down while the halves are written: the third write finds it gone.
      const { sink, writes, written } = database(new Set([1]), 3);
      const ledger = new UsageLedger({ sink, logger, metrics, clock: new ManualClock(), batchSize: 8 });
      for (let index = 0; index < 8; index++) ledger.record(row(index));
      await ledger.close();
      expect(writes).toHaveLength(3);
      expect(written).toEqual([]);
      expect(await counter(metrics, 'failed')).toBe(8);
      expect(await counter(metrics, 'refused')).toBe(0);
      expect(lines.join('')).toContain('usage ledger write failed; 8 rows lost: connect ECONNREFUSED');
    });

    it('writes a batch once when the database cannot be reached, or when the sink cannot tell', async () => {
      for (const isRowRefusal of [() => false, undefined]) {
        const metrics = new GroundworkMetrics();
        let writes = 0;
        const sink: UsageSink = {
          writeBatch: async () => {
            writes++;
            throw new Error('No database connection became free within 5000 ms');
          },
          ...(isRowRefusal === undefined ? {} : { isRowRefusal }),
        };
        const ledger = new UsageLedger({ sink, logger: capturingLogger().logger, metrics, clock: new ManualClock(), batchSize: 100 });
        for (let index = 0; index < 100; index++) ledger.record(row(index));
        await ledger.close();
        expect(writes).toBe(1);
        expect(await counter(metrics, 'failed')).toBe(100);
      }
    });
  });
});
