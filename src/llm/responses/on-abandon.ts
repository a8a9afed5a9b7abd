/**
 * Wraps a generator so that leaving it before its first `next()` still cleans up: a generator's
 * `finally` runs only once it started, and `return()` on one that never did skips its body.
 * `abandon` runs then, once.
 */
export function onAbandon<T>(generator: AsyncGenerator<T, void, undefined>, abandon: () => Promise<void>): AsyncIterable<T> {
  let started = false;
  const iterator: AsyncIterator<T, void, undefined> = {
    next: () => {
      started = true;
      return generator.next();
    },
    return: async () => {
      if (!started) {
        started = true;
        await abandon();
      }
      return generator.return(undefined);
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}
