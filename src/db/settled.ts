/**
 * A promise settled once, handed back by driver methods that have nothing to wait for (BEGIN
 * deferred to the first statement, a connection released synchronously). The session runner
 * recognises it and does not await it: each `await` costs a turn of the microtask queue, and
 * inside `withSession` every promise also pays AsyncLocalStorage's hooks.
 */
export const SETTLED: Promise<void> = Promise.resolve();

/**
 * `promise`, or undefined when it is {@link SETTLED}. The caller awaits only a promise it gets
 * (`const p = settledOr(x); if (p !== undefined) await p;`): `await undefined` would still cost a turn.
 */
export function settledOr(promise: Promise<void>): Promise<void> | undefined {
  return promise === SETTLED ? undefined : promise;
}
