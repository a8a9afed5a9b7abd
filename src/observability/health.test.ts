import { describe, expect, it } from 'vitest';
import { runHealthChecks } from './health.js';

describe('runHealthChecks', () => {
  it('keeps credentials out of a check’s detail, thrown or answered', async () => {
    const canary = 'hunter2canary';
    const report = await runHealthChecks([
      {
        name: 'thrown',
        required: false,
        check: () => Promise.reject(new Error(`connect failed for postgres://app:${canary}@db:5432/app?sslpassword=${canary}`)),
      },
      {
        name: 'answered',
        required: false,
        check: () => Promise.resolve({ status: 'degraded', detail: `slow answers from redis://cache:${canary}@cache:6379` }),
      },
    ]);
    expect(report.dependencies.map((dependency) => dependency.detail)).toEqual([
      'connect failed for postgres://app:***@db:5432/app?sslpassword=***',
      'slow answers from redis://cache:***@cache:6379',
    ]);
    expect(JSON.stringify(report)).not.toContain(canary);
  });
});
