import { AsyncLocalStorage } from 'node:async_hooks';
import type { OpenTransaction } from './open-transaction.js';

/** One level of an open transaction: the outermost one, or a savepoint inside it. */
export interface Scope {
  /** The session runner (one per database) the transaction belongs to. */
  readonly owner: unknown;
  /** The transaction's query builder (a Kysely `Transaction` of the owner's schema). */
  readonly transaction: unknown;
  readonly open: OpenTransaction;
  /** The level this one is nested in (a savepoint's): undefined for the outermost. */
  readonly parent: Scope | undefined;
  /**
   * Serialises what runs at this level while a nested call is open: sibling nested calls, and this
   * level's own statements, which would otherwise run inside the nested call's savepoint and be undone
   * with it.
   */
  tail: Promise<unknown> | undefined;
  /** Nested calls and statements queued or running on {@link Scope.tail}. */
  queued: number;
  /** Set once this level's savepoint is released or rolled back: statements it still sends belong to its parent. */
  closed: boolean;
}

/*
 * On Node 20 an enabled AsyncLocalStorage installs promise hooks that tax every promise in the
 * process (measured: an `await` costs about 3.5 times as much), the LLM call path included. So
 * the storage is entered only around the caller's function, and switched off again once no
 * transaction runs in any database of this process. It is switched off at the next turn of the
 * event loop rather than at once: installing and removing the hooks costs more than a short
 * transaction's statements do in JavaScript, and back-to-back transactions (one caller running
 * them in a loop) would otherwise pay for both every time.
 */
const scopes = new AsyncLocalStorage<Scope>();
let running = 0;
/** Set while a switch-off is scheduled. */
let switchOff: NodeJS.Immediate | undefined;

/** The open scope of `owner` in the current async context, if any (ended transactions do not count). */
export function scopeOf(owner: unknown): Scope | undefined {
  if (running === 0) return undefined;
  const scope = scopes.getStore();
  return scope !== undefined && scope.owner === owner && !scope.open.ended ? scope : undefined;
}

/** Counts an outermost transaction in; the storage switches on at its first {@link runInScope}. */
export function enterScope(): void {
  running++;
}

/**
 * Counts an outermost transaction out. When the last one leaves, the storage (and its hooks) is
 * switched off at the next turn of the event loop, unless a transaction runs again by then.
 */
export function leaveScope(): void {
  running--;
  if (running !== 0 || switchOff !== undefined) return;
  switchOff = setImmediate(switchOffIfIdle);
  // A pending switch-off never keeps the process alive (an Immediate from a replaced global setImmediate may lack unref).
  (switchOff as Partial<NodeJS.Immediate>).unref?.();
}

function switchOffIfIdle(): void {
  switchOff = undefined;
  if (running === 0) scopes.disable();
}

/** The current scope, of any owner (undefined outside every transaction). */
export function currentScope(): Scope | undefined {
  return running === 0 ? undefined : scopes.getStore();
}

/**
 * Runs `task` at `scope`'s level in turn: at once when nothing is queued there, else once everything
 * queued before it has settled. Counted on the level and on its transaction until it settles.
 */
export function queueAt<T>(scope: Scope, task: () => Promise<T>): Promise<T> {
  const { open } = scope;
  const waitFor = scope.queued === 0 ? undefined : scope.tail;
  scope.queued++;
  open.queued++;
  const result = waitFor === undefined ? startNow(task) : waitFor.then(task, task);
  const done = (): void => {
    scope.queued--;
    open.queued--;
  };
  scope.tail = result.then(done, done);
  return result;
}

/** `task()`, whose synchronous throw becomes a rejection (the counts of {@link queueAt} are then still taken back). */
function startNow<T>(task: () => Promise<T>): Promise<T> {
  try {
    return task();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Calls `fn(argument)` with `scope` as the current scope of everything it starts. */
export function runInScope<A, T>(scope: Scope, fn: (argument: A) => Promise<T>, argument: A): Promise<T> {
  return scopes.run(scope, fn, argument);
}
