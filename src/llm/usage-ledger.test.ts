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
});
