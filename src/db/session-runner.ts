import { AsyncLocalStorage } from 'node:async_hooks';
import type { ControlledTransaction, Kysely, Transaction } from 'kysely';
import type { Clock } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { DatabaseSession, SessionOptions } from './database.js';
import { DatabaseClosedError } from './database-closed-error.js';

/** One level of an open transaction: the outermost one, or a savepoint inside it. */
interface Scope {
  readonly owner: SessionRunner<unknown>;
  transaction: ControlledTransaction<unknown, string[]> | undefined;
  connectionId: string;
  /** Serialises sibling nested calls at this level (one connection runs one statement at a time). */
  tail: Promise<unknown>;
  /** Savepoint counter, shared by every level of one transaction. */
  readonly counter: { value: number };
}

const scopes = new AsyncLocalStorage<Scope>();

/** Runs units of work in transactions and savepoints, and tracks them for `close()`. */
export class SessionRunner<DB> {
  readonly #db: Kysely<DB>;
  readonly #logger: Logger;
  readonly #metrics: GroundworkMetrics | undefined;
  #running = 0;
  #closing = false;
  #idle: (() => void) | undefined;

  readonly #clock: Clock;

  constructor(db: Kysely<DB>, logger: Logger, metrics: GroundworkMetrics | undefined, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    this.#logger = logger;
    this.#metrics = metrics;
  }

  /** Records the connection a transaction began on (called by the driver, inside the scope). */
  began(connectionId: string): void {
    const scope = scopes.getStore();
    if (scope !== undefined && scope.transaction === undefined) scope.connectionId = connectionId;
  }

  /** Transactions running now. */
  get running(): number {
    return this.#running;
  }

  current(): DatabaseSession<DB> {
    const scope = scopes.getStore();
    if (scope?.owner === this && scope.transaction !== undefined) {
      return { session: scope.transaction as unknown as Kysely<DB>, connectionId: scope.connectionId };
    }
    return { session: this.#db, connectionId: 'pool' };
  }

  run<T>(fn: (tx: Transaction<DB>) => Promise<T>, options: SessionOptions = {}): Promise<T> {
    const scope = scopes.getStore();
    if (scope?.owner === this && scope.transaction !== undefined) return this.#nested(scope, fn);
    if (this.#closing) return Promise.reject(new DatabaseClosedError());
    this.#running++;
    const root: Scope = {
      owner: this as SessionRunner<unknown>,
      transaction: undefined,
      connectionId: 'unknown',
      tail: Promise.resolve(),
      counter: { value: 0 },
    };
    return scopes
      .run(root, () => this.#outermost(root, fn, options))
      .finally(() => {
        this.#running--;
        if (this.#running === 0) this.#idle?.();
      });
  }

  async #outermost<T>(scope: Scope, fn: (tx: Transaction<DB>) => Promise<T>, options: SessionOptions): Promise<T> {
    let builder = this.#db.startTransaction();
    if (options.isolationLevel !== undefined) builder = builder.setIsolationLevel(options.isolationLevel);
    if (options.readOnly === true) builder = builder.setAccessMode('read only');
    const started = performance.now();
    const transaction = await builder.execute();
    scope.transaction = transaction as unknown as ControlledTransaction<unknown, string[]>;
    let result: T;
    try {
      result = await fn(transaction);
    } catch (error) {
      await this.#rollbackQuietly(transaction);
      this.#record('rollback', started);
      throw error;
    }
    try {
      await transaction.commit().execute();
    } catch (error) {
      // A failed commit leaves the connection checked out; rolling back returns (or destroys) it.
      await this.#rollbackQuietly(transaction);
      this.#record('rollback', started);
      throw error;
    }
    this.#record('commit', started);
    return result;
  }

  #nested<T>(parent: Scope, fn: (tx: Transaction<DB>) => Promise<T>): Promise<T> {
    const step = async (): Promise<T> => {
      const transaction = parent.transaction as ControlledTransaction<unknown, string[]>;
      const name = `groundwork_sp_${++parent.counter.value}`;
      const savepoint = await transaction.savepoint(name).execute();
      const child: Scope = { ...parent, transaction: savepoint, tail: Promise.resolve() };
      try {
        const result = await scopes.run(child, () => fn(savepoint as unknown as Transaction<DB>));
        await savepoint.releaseSavepoint(name).execute();
        return result;
      } catch (error) {
        try {
          await savepoint.rollbackToSavepoint(name).execute();
        } catch (rollbackError) {
          this.#logger.warn({ err: rollbackError }, 'database: rolling back to a savepoint failed');
        }
        throw error;
      }
    };
    const result = parent.tail.then(step, step);
    parent.tail = result.catch(() => undefined);
    return result;
  }

  async #rollbackQuietly(transaction: ControlledTransaction<DB>): Promise<void> {
    try {
      await transaction.rollback().execute();
    } catch (error) {
      // The connection is gone (the server rolled back already) or the database is closing; the
      // caller's own error is the one that matters.
      this.#logger.debug({ err: error }, 'database: rollback failed');
    }
  }

  #record(outcome: 'commit' | 'rollback', started: number): void {
    this.#metrics?.dbTransactionDuration.observe({ outcome }, (performance.now() - started) / 1000);
  }

  /** Refuses new sessions and resolves when running ones finish or `timeoutMs` passes; true when all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.#closing = true;
    if (this.#running === 0) return true;
    let timer: unknown;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => {
        this.#idle = () => resolve(true);
      }),
      new Promise<boolean>((resolve) => {
        timer = this.#clock.setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    this.#clock.clearTimeout(timer);
    return finished;
  }
}
