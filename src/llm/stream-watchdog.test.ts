import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { StreamWatchdog } from './stream-watchdog.js';

const where = { provider: 'openai', model: 'gpt-4o-mini' };

describe('StreamWatchdog', () => {
  it('aborts when the first chunk does not come in time', () => {
    const clock = new ManualClock();
    const watchdog = new StreamWatchdog(clock, 500, 1000, where);
    clock.advance(499);
    expect(watchdog.signal.aborted).toBe(false);
    clock.advance(1);
    expect(watchdog.signal.reason).toMatchObject({
      name: 'ProviderTimeoutError',
      message: expect.stringMatching(/no first chunk within 500 ms/),
    });
  });

  it('never aborts a stream whose chunks keep coming, and aborts one silence after the last chunk', () => {
    const clock = new ManualClock();
    const watchdog = new StreamWatchdog(clock, 500, 1000, where);
    for (let chunk = 0; chunk < 20; chunk++) {
      clock.advance(300);
      watchdog.touch();
      expect(watchdog.signal.aborted).toBe(false);
    }
    clock.advance(999);
    expect(watchdog.signal.aborted).toBe(false);
    clock.advance(1);
    expect(watchdog.signal.reason).toMatchObject({ name: 'ProviderTimeoutError', message: expect.stringMatching(/no chunk for 1000 ms/) });
  });

  it('ends a steadily dripping stream at the call deadline', () => {
    const clock = new ManualClock();
    const watchdog = new StreamWatchdog(clock, 500, 1000, where, { startedAt: clock.now(), deadlineMs: 2500 });
    for (let chunk = 0; chunk < 8; chunk++) {
      clock.advance(300);
      watchdog.touch();
    }
    expect(watchdog.signal.aborted).toBe(false);
    clock.advance(100);
    expect(watchdog.signal.reason).toMatchObject({ name: 'DeadlineExceededError' });
  });

  it('leaves no timer once stopped', () => {
    const clock = new ManualClock();
    const watchdog = new StreamWatchdog(clock, 500, 1000, where);
    watchdog.touch();
    watchdog.stop();
    clock.advance(10_000);
    expect(watchdog.signal.aborted).toBe(false);
  });
});
