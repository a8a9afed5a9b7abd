import { describe, expect, it } from 'vitest';
import type { SseEvent } from './sse-decoder.js';
import { PAUSE_AT_EVENTS, SseEventQueue } from './sse-event-queue.js';

/** A queue over a source that counts what it is asked to do. */
function queue(): { events: SseEventQueue; resumed: () => number; stopped: () => number } {
  let resumed = 0;
  let stopped = 0;
  const events = new SseEventQueue({
    resumeReading: () => resumed++,
    stopReading: () => stopped++,
  });
  return { events, resumed: () => resumed, stopped: () => stopped };
}

function numbered(from: number, count: number): SseEvent[] {
  return Array.from({ length: count }, (_, index) => ({ event: undefined, data: `${from + index}` }));
}

describe('SseEventQueue', () => {
  it('hands events to waiting readers first, in order, and ends them all when the body ends', async () => {
    const { events, stopped } = queue();
    const first = events.next();
    const second = events.next();
    const third = events.next();
    expect(events.add(numbered(0, 3))).toBe(true);
    expect(await first).toEqual({ value: { event: undefined, data: '0' }, done: false });
    expect(await second).toEqual({ value: { event: undefined, data: '1' }, done: false });
    expect(await third).toEqual({ value: { event: undefined, data: '2' }, done: false });
    const waiting = [events.next(), events.next()];
    events.end();
    expect(await Promise.all(waiting)).toEqual([
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);
    expect(await events.return()).toEqual({ value: undefined, done: true });
    expect(stopped()).toBe(0);
  });

  it('gives a failure after the queued events, once, then is done; an abort drops the queued events', async () => {
    const failed = queue().events;
    failed.add(numbered(0, 2));
    const error = new Error('socket closed');
    failed.fail(error, false);
    expect((await failed.next()).value).toEqual({ event: undefined, data: '0' });
    expect((await failed.next()).value).toEqual({ event: undefined, data: '1' });
    await expect(failed.next()).rejects.toBe(error);
    expect(await failed.next()).toEqual({ value: undefined, done: true });

    const aborted = queue().events;
    aborted.add(numbered(0, 2));
    const reason = new Error('caller left');
    aborted.fail(reason, true);
    await expect(aborted.next()).rejects.toBe(reason);
    expect(await aborted.next()).toEqual({ value: undefined, done: true });

    const pending = queue().events;
    const first = pending.next();
    const second = pending.next();
    pending.fail(reason, true);
    await expect(first).rejects.toBe(reason);
    expect(await second).toEqual({ value: undefined, done: true });
  });

  it('asks the source to pause at the limit and to resume once most waiting events are read', async () => {
    const { events, resumed } = queue();
    expect(events.add(numbered(0, PAUSE_AT_EVENTS - 1))).toBe(true);
    expect(events.paused).toBe(false);
    expect(events.add(numbered(PAUSE_AT_EVENTS - 1, 1))).toBe(false);
    expect(events.paused).toBe(true);
    let read = 0;
    while (resumed() === 0) {
      expect((await events.next()).value).toEqual({ event: undefined, data: `${read}` });
      read++;
    }
    expect(read).toBeLessThan(PAUSE_AT_EVENTS);
    expect(events.paused).toBe(false);
    expect(events.buffered).toBe(PAUSE_AT_EVENTS - read);
    for (; read < PAUSE_AT_EVENTS; read++) await events.next();
    expect(resumed()).toBe(1);
  });

  it('stops the source when the consumer returns or throws before the end, not after it', async () => {
    const returned = queue();
    returned.events.add(numbered(0, 3));
    expect(await returned.events.return()).toEqual({ value: undefined, done: true });
    expect(returned.stopped()).toBe(1);
    expect(returned.events.buffered).toBe(0);
    expect(await returned.events.next()).toEqual({ value: undefined, done: true });
    await returned.events.return();
    expect(returned.stopped()).toBe(1);

    const thrown = queue();
    const error = new Error('consumer failed');
    await expect(thrown.events.throw(error)).rejects.toBe(error);
    expect(thrown.stopped()).toBe(1);

    const ended = queue();
    ended.events.end();
    await ended.events.return();
    expect(ended.stopped()).toBe(0);
  });
});
