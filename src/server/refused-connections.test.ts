import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import { RefusedConnections } from './create-server.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const warnings = (records: Array<Record<string, unknown>>) =>
  records.filter((line) => String(line['msg']).includes('SERVER_MAX_CONNECTIONS')).map((line) => line['refused']);

describe('the warning of connections refused beyond SERVER_MAX_CONNECTIONS', () => {
  it('tells the refusals after the first once its ten seconds are over, not only at the next refusal or at shutdown', () => {
    const { logger, records } = captureLogger('info');
    const refusals = new RefusedConnections(logger, 2);
    refusals.refused();
    expect(warnings(records)).toEqual([1]);
    for (let i = 0; i < 40; i++) refusals.refused();
    expect(warnings(records)).toEqual([1]);
    vi.advanceTimersByTime(10_000);
    expect(warnings(records)).toEqual([1, 40]);
    refusals.report();
    expect(warnings(records)).toEqual([1, 40]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer behind when told at shutdown', () => {
    const { logger, records } = captureLogger('info');
    const refusals = new RefusedConnections(logger, 2);
    refusals.refused();
    refusals.refused();
    refusals.report();
    expect(warnings(records)).toEqual([1, 1]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
