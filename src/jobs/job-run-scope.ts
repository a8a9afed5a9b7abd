import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which job queue the code running now is a job run of, if any: while `infra.close()` gives
 * running jobs their grace period, their own calls through the facade are let through, and
 * every other call is refused. Its own small module, so that the facade's module can ask
 * without loading the queue.
 */
const scope = new AsyncLocalStorage<object>();

/** Runs `fn`, and everything it starts, as a job run of `queue`. */
export function runAsJob<T>(queue: object, fn: () => T): T {
  return scope.run(queue, fn);
}

/** The queue whose job run the current code is part of; undefined outside any. */
export function currentJobQueue(): object | undefined {
  return scope.getStore();
}
