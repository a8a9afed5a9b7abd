import { describe, expect, it } from 'vitest';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import type { Logger } from '../observability/logger.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { KeptSettlements } from './kept-settlements.js';

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
});
