import { describe, expect, it } from 'vitest';
import { systemClock } from '../../internal/clock.js';
import { captureLogger } from '../../observability/capture-logger.test-helpers.js';
import type { Replica } from './replica.js';
import type { LagReading } from './replica-lag.js';
import { ReplicaSet } from './replica-set.js';

/** A replica whose measurements answer `readings` in turn (an Error is thrown). */
function standIn(readings: Array<LagReading | Error>): Replica<unknown> {
  return {
    label: 'replica-0',
    state: 'starting',
    reason: undefined,
    mark: undefined,
    lagMs: undefined,
    checkedAt: undefined,
    stats: () => ({ total: 0, idle: 0, waiting: 0, max: 1 }),
    probe: {
      running: false,
      abandon: () => undefined,
      measure: async () => {
        const next = readings.shift();
        if (next === undefined || next instanceof Error) throw next ?? new Error('no reading');
        return next;
      },
    },
  } as unknown as Replica<unknown>;
}

describe('a replica found not to be a standby', () => {
  it('says so at warn even when it was already skipped as unreachable', async () => {
    const captured = captureLogger('debug');
    const replica = standIn([new Error('connect ECONNREFUSED'), { lagMs: 0, inRecovery: false, receiver: undefined, mark: undefined }]);
    const set = new ReplicaSet([replica], {
      maxLagMs: 10_000,
      checkIntervalMs: 1000,
      clock: systemClock,
      logger: captured.logger,
      metrics: undefined,
    });
    await set.checkNow();
    await set.checkNow();
    expect(set.status()[0]).toMatchObject({ state: 'down', reason: expect.stringMatching(/not a standby/) });
    const skipped = captured.records
      .filter((record) => record.level === 'warn' && String(record.msg).includes('is skipped'))
      .map((record) => String(record.msg));
    expect(skipped).toEqual([expect.stringMatching(/unreachable/), expect.stringMatching(/not a standby/)]);
  });

  it('reports no lag for it: it replays nothing from the primary', async () => {
    const replica = standIn([{ lagMs: 0, inRecovery: false, receiver: undefined, mark: undefined }]);
    const set = new ReplicaSet([replica], {
      maxLagMs: 10_000,
      checkIntervalMs: 1000,
      clock: systemClock,
      logger: captureLogger('debug').logger,
      metrics: undefined,
    });
    await set.checkNow();
    expect(set.status()[0]).toMatchObject({ state: 'down', lagMs: null });
  });
});
