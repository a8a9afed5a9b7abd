import { describe, expect, it } from 'vitest';
import { PriceBook } from '../llm/pricing.js';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import type { Logger } from '../observability/logger.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { MemoryRateLimitStore } from '../resilience/memory-rate-limit-store.js';
import { ManualClock } from '../testing/manual-clock.js';
import { type BudgetStore, SETTLED_MARKER_MS } from './budget-store.js';
import { KeptSettlements } from './kept-settlements.js';
import { MemoryBudgetStore } from './memory-budget-store.js';
import { TenantAdmission } from './tenant-admission.js';
import { OPEN_SETTINGS } from './tenant-settings.js';

const prices = new PriceBook({ 'metered-model': { input: 1000, output: 1000 } });

async function failures(metrics: GroundworkMetrics): Promise<number> {
  return (await metrics.storeFailures.get()).values.find((value) => value.labels.component === 'tenant_budget')?.value ?? 0;
}

/** A store operation that fails while `down.value` is true, recording each run that succeeded. */
function operation(name: string, down: { value: boolean }, done: string[]): () => Promise<void> {
  return async () => {
    if (down.value) throw Object.assign(new Error(`pool timeout (password=hunter2) for ${name}`), { code: 'ETIMEDOUT' });
    done.push(name);
  };
}

describe('KeptSettlements', () => {
  it('reports a failure by its code only, keeps a settlement to run again and runs the kept ones in their order', async () => {
    const { logger, lines } = captureLogger();
    const metrics = new GroundworkMetrics();
    const kept = new KeptSettlements({ logger, metrics });
    const down = { value: true };
    const done: string[] = [];
    await expect(kept.run(operation('charge', down, done), true)).resolves.toBeUndefined();
    await expect(kept.run(operation('refund', down, done), false)).resolves.toBeUndefined();
    await kept.run(operation('release', down, done), true);
    expect(kept.size).toBe(2);
    expect(await failures(metrics)).toBe(3);
    expect(lines.join('')).toContain('ETIMEDOUT');
    expect(lines.join('')).not.toContain('hunter2');
    // Still down: kept, in order, and not reported again.
    await kept.retry();
    expect(kept.size).toBe(2);
    expect(await failures(metrics)).toBe(3);
    down.value = false;
    await kept.retry();
    expect(kept.size).toBe(0);
    expect(done).toEqual(['charge', 'release']);
  });

  it('drops the oldest settlement past its bound, logged and counted', async () => {
    const { logger, lines } = captureLogger();
    const metrics = new GroundworkMetrics();
    const kept = new KeptSettlements({ logger, metrics, max: 1 });
    const down = { value: true };
    const done: string[] = [];
    await kept.run(operation('first', down, done), true);
    await kept.run(operation('second', down, done), true);
    expect(kept.size).toBe(1);
    expect(await failures(metrics)).toBe(3);
    expect(lines.join('')).toContain('Dropped a budget settlement');
    down.value = false;
    await kept.retry();
    expect(done).toEqual(['second']);
  });

  it('never rejects, even when its logger throws', async () => {
    const throwing = {
      error: () => {
        throw new Error('logger down');
      },
    } as unknown as Logger;
    const kept = new KeptSettlements({ logger: throwing });
    await expect(kept.run(() => Promise.reject(new Error('store down')), true)).resolves.toBeUndefined();
    expect(kept.size).toBe(1);
  });
  it('makes a second retry wait for the one already running, until its settlements have landed', async () => {
    const clock = new ManualClock();
    const kept = new KeptSettlements({ clock });
    const down = { value: true };
    let land: () => void = () => {};
    const landed: string[] = [];
    await kept.run(async () => {
      if (down.value) throw new Error('down');
      await new Promise<void>((resolve) => {
        land = resolve;
      });
      landed.push('charge');
    }, true);
    down.value = false;
    const first = kept.retry();
    let secondDone = false;
    const second = kept.retry().then(() => {
      secondDone = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(secondDone).toBe(false);
    land();
    await Promise.all([first, second]);
    expect(landed).toEqual(['charge']);
  });

  it('lets a caller go on after waitMs while the retry still runs', async () => {
    const clock = new ManualClock();
    const kept = new KeptSettlements({ clock, waitMs: 500 });
    const down = { value: true };
    let land: () => void = () => {};
    await kept.run(async () => {
      if (down.value) throw new Error('down');
      await new Promise<void>((resolve) => {
        land = resolve;
      });
    }, true);
    down.value = false;
    let done = false;
    const waiting = kept.retry().then(() => {
      done = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    clock.advance(500);
    await waiting;
    expect(done).toBe(true);
    land();
  });

  it('runs the backlog a chunk at a time, and stops at a chunk that fails whole, leaving the rest untried', async () => {
    const kept = new KeptSettlements({ chunkSize: 2 });
    const down = { value: true };
    const done: string[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const counted = (name: string) => async () => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      await Promise.resolve();
      running -= 1;
      await operation(name, down, done)();
    };
    for (const name of ['a', 'b', 'c', 'd', 'e']) await kept.run(counted(name), true);
    running = 0;
    mostAtOnce = 0;
    // Still down: the first chunk fails whole and the others are not tried.
    await kept.retry();
    expect(mostAtOnce).toBe(2);
    expect(kept.size).toBe(5);
    down.value = false;
    await kept.retry();
    expect(mostAtOnce).toBe(2);
    expect(done).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(kept.size).toBe(0);
  });

  it('drops a settlement after maxRetries retries the store failed while it took others, logged and counted', async () => {
    const { logger, lines } = captureLogger();
    const metrics = new GroundworkMetrics();
    const kept = new KeptSettlements({ logger, metrics, maxRetries: 2 });
    const down = { value: true };
    const done: string[] = [];
    await kept.run(() => Promise.reject(new Error('constraint violated')), true);
    expect(await failures(metrics)).toBe(1);
    for (const name of ['first', 'second']) {
      // Another settlement lands in the same retry: the store answers, and refuses this one.
      await kept.run(operation(name, down, done), true);
      down.value = false;
      await kept.retry();
      down.value = true;
    }
    expect(done).toEqual(['first', 'second']);
    expect(kept.size).toBe(0);
    expect(await failures(metrics)).toBe(4);
    expect(lines.join('')).toContain('it kept failing');
  });

  it('counts no retry against a settlement while the store takes none: a short outage with many admissions drops nothing', async () => {
    const { logger, lines } = captureLogger();
    const kept = new KeptSettlements({ logger, maxRetries: 5 });
    const down = { value: true };
    const done: string[] = [];
    await kept.run(operation('charge', down, done), true);
    // Every admission retries, in the same millisecond.
    for (let admission = 0; admission < 20; admission++) await kept.retry();
    expect(kept.size).toBe(1);
    down.value = false;
    await kept.retry();
    expect(done).toEqual(['charge']);
    expect(lines.join('')).not.toContain('Dropped');
  });

  it('lands a charge kept through more failed admissions than maxRetries once the store answers again', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 30, 12));
    const inner = new MemoryBudgetStore();
    let down = false;
    const fail = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const store: BudgetStore = {
      reserve: (request) => (down ? fail() : inner.reserve(request)),
      settle: (...args) => (down ? fail() : inner.settle(...args)),
      read: (counters, now) => (down ? fail() : inner.read(counters, now)),
    };
    const { logger } = captureLogger();
    const admission = new TenantAdmission({
      budgets: store,
      rateLimits: (rules) => new MemoryRateLimitStore(rules),
      prices,
      clock,
      logger,
    });
    const key = {
      ...OPEN_SETTINGS,
      id: 'key_a',
      name: 'a',
      prefix: 'gw-abcdef',
      teamId: null,
      expiresAt: null,
      revokedAt: null,
      createdAt: new Date(0),
      updatedAt: new Date(0),
      dailyBudgetUsd: 10,
    };
    const request = { model: 'metered-model', messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 10 };
    const answered = await admission.admit({ key, team: undefined }, request);
    down = true;
    await answered.settle(1.5, 100);
    // A database blip: five admissions in the same millisecond, each retrying the kept charge and failing.
    for (let attempt = 0; attempt < 5; attempt++) await admission.admit({ key, team: undefined }, request).catch(() => {});
    down = false;
    await admission.admit({ key, team: undefined }, request);
    const [state] = await inner.read(['key:key_a:day:2026-11-30'], clock.now());
    expect(state?.spentNano).toBe(1_500_000_000);
  });

  it("drops a kept settlement older than the store's settled marker rather than count it twice", async () => {
    const { logger, lines } = captureLogger();
    const metrics = new GroundworkMetrics();
    const clock = new ManualClock();
    const kept = new KeptSettlements({ logger, metrics, clock });
    const down = { value: true };
    const done: string[] = [];
    await kept.run(operation('old', down, done), true);
    // A minute short of the marker's lifetime, with a minute to spare for a marker written before it was kept.
    clock.advance(SETTLED_MARKER_MS - 60_000 - 1);
    await kept.run(operation('young', down, done), true);
    clock.advance(1);
    down.value = false;
    await kept.retry();
    expect(done).toEqual(['young']);
    expect(kept.size).toBe(0);
    expect(await failures(metrics)).toBe(3);
    expect(lines.join('')).toContain('older than the store remembers');
  });

  it('at close runs the kept settlements once more, and drops those still failing with one log line and their count', async () => {
    const { logger, lines } = captureLogger();
    const metrics = new GroundworkMetrics();
    const kept = new KeptSettlements({ logger, metrics });
    const down = { value: true };
    const done: string[] = [];
    await kept.run(operation('first', down, done), true);
    await kept.run(operation('second', down, done), true);
    expect(await failures(metrics)).toBe(2);
    await kept.close();
    expect(kept.size).toBe(0);
    expect(done).toEqual([]);
    expect(await failures(metrics)).toBe(4);
    const dropped = lines.filter((line) => line.includes('the process is closing'));
    expect(dropped).toHaveLength(1);
    expect(JSON.parse(dropped[0] as string)).toMatchObject({ kept: 2 });
    expect(lines.join('')).not.toContain('hunter2');
  });

  it('at close lands what the store takes again, and drops nothing', async () => {
    const { logger, lines } = captureLogger();
    const metrics = new GroundworkMetrics();
    const kept = new KeptSettlements({ logger, metrics });
    const down = { value: true };
    const done: string[] = [];
    await kept.run(operation('charge', down, done), true);
    down.value = false;
    await kept.close();
    expect(done).toEqual(['charge']);
    expect(kept.size).toBe(0);
    expect(await failures(metrics)).toBe(1);
    expect(lines.join('')).not.toContain('Dropped');
  });

  it('at close waits for a store that does not answer no longer than waitMs (1 s), then reports what the retry still held, once', async () => {
    const { logger, lines } = captureLogger();
    const metrics = new GroundworkMetrics();
    const clock = new ManualClock();
    const kept = new KeptSettlements({ logger, metrics, clock });
    let fail!: () => void;
    let calls = 0;
    const down = { value: true };
    const done: string[] = [];
    await kept.run(() => {
      calls += 1;
      // Fails at once when first run; its retry answers only when the test says so.
      if (calls === 1) return Promise.reject(new Error('down'));
      return new Promise<void>((_, reject) => {
        fail = () => reject(new Error('still down'));
      });
    }, true);
    await kept.run(operation('second', down, done), true);
    expect(await failures(metrics)).toBe(2);
    let closed = false;
    const closing = kept.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    clock.advance(999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    clock.advance(1);
    await closing;
    expect(kept.size).toBe(0);
    const dropped = lines.filter((line) => line.includes('the process is closing'));
    expect(dropped).toHaveLength(1);
    expect(JSON.parse(dropped[0] as string)).toMatchObject({ kept: 2 });
    expect(await failures(metrics)).toBe(4);
    // The retry's late answer neither keeps the settlement again nor reports it a second time.
    fail();
    await new Promise((resolve) => setImmediate(resolve));
    expect(kept.size).toBe(0);
    expect(lines.filter((line) => line.includes('Dropped'))).toHaveLength(1);
    expect(await failures(metrics)).toBe(4);
  });
});
