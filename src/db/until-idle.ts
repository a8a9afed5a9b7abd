import type { Clock } from '../internal/clock.js';

/**
 * Resolves true once the `idle` callback handed to `watch` is called, or false when `timeoutMs`
 * passes first; the timer is cleared and the callback withdrawn (`watch(undefined)`) either way.
 * How `close()` waits for the sessions and checkouts still out.
 */
export async function untilIdle(watch: (idle: (() => void) | undefined) => void, timeoutMs: number, clock: Clock): Promise<boolean> {
  let timer: unknown;
  const finished = await Promise.race([
    new Promise<boolean>((resolve) => {
      watch(() => resolve(true));
    }),
    new Promise<boolean>((resolve) => {
      timer = clock.setTimeout(() => resolve(false), timeoutMs);
    }),
  ]);
  clock.clearTimeout(timer);
  watch(undefined);
  return finished;
}
