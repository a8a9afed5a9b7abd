import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../internal/clock.js';
import { ConnectionLock } from './connection-lock.js';
import { DatabaseClosedError } from './database-closed-error.js';
import { PoolTimeoutError } from './pool-timeout-error.js';

describe('connection lock', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('takes a free connection at once, and never past a holder or a queue', async () => {
    const lock = new ConnectionLock(1000, systemClock);
    expect(lock.tryAcquire()).toBe(true);
    expect(lock.held).toBe(true);
    expect(lock.tryAcquire()).toBe(false);
    const order: string[] = [];
    const first = lock.acquire().then(() => order.push('first'));
    const second = lock.acquire().then(() => order.push('second'));
    lock.release();
    // Handed to the first waiter: still held, so a newcomer cannot jump the queue.
    expect(lock.tryAcquire()).toBe(false);
    await first;
    lock.release();
    await second;
    lock.release();
    expect(order).toEqual(['first', 'second']);
    expect(lock.held).toBe(false);
    expect(lock.tryAcquire()).toBe(true);
  });

  it('times a waiter out, and refuses everyone once closed', async () => {
    const lock = new ConnectionLock(1000, systemClock);
    expect(lock.tryAcquire()).toBe(true);
    const waiting = lock.acquire();
    vi.advanceTimersByTime(1000);
    await expect(waiting).rejects.toBeInstanceOf(PoolTimeoutError);
    lock.release();
    lock.close();
    expect(lock.tryAcquire()).toBe(false);
    await expect(lock.acquire()).rejects.toBeInstanceOf(DatabaseClosedError);
  });
});
