import { type Span, SpanKind } from '@opentelemetry/api';
import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  Kysely,
  QueryCompiler,
  QueryExecutor,
  QueryResult,
  Transaction,
  TransactionSettings,
} from 'kysely';
import type { Clock } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import { observe } from '../observability/metric-series.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { groundworkTracer, recordSpanError } from '../observability/tracing.js';
import type { AloneStatementDriver } from './alone-statement-driver.js';
import type { DatabaseSession, SessionOptions } from './database.js';
import { DatabaseClosedError } from './database-closed-error.js';
import { OpenTransaction, type TransactionDriver, type TransactionProps, transactionEnded, transactionOn } from './open-transaction.js';
import { enterScope, leaveScope, queueAt, runInScope, type Scope, scopeOf } from './session-scope.js';
import { settledOr } from './settled.js';
import { untilIdle } from './until-idle.js';

const DEFAULT_SETTINGS: TransactionSettings = {};

/** Kysely's transaction settings for `options`. */
function transactionSettings(options: SessionOptions): TransactionSettings {
  if (options.isolationLevel === undefined && options.readOnly !== true) return DEFAULT_SETTINGS;
  return {
    ...(options.isolationLevel === undefined ? {} : { isolationLevel: options.isolationLevel }),
    ...(options.readOnly === true ? { accessMode: 'read only' as const } : {}),
  };
}

/** A connection checked out through Kysely's executor, held until released. */
interface ExecutorCheckout {
  readonly connection: DatabaseConnection;
  /** Hands the connection back; settles once the provider has released it. */
  release(): Promise<unknown>;
}

/** What {@link SessionRunner} drives transactions with. */
export interface SessionRunnerParts<DB> {
  /** The pooled query builder: its executor hands out connections (and initialises the driver once). */
  readonly db: Kysely<DB>;
  readonly dialect: Dialect;
  /** The dialect's driver, the same instance Kysely wraps: begins, commits and savepoints run on it directly. */
  readonly driver: Driver & TransactionDriver & AloneStatementDriver;
  readonly logger: Logger;
  readonly metrics: GroundworkMetrics | undefined;
  readonly clock: Clock;
  /** `db.system.name` of the transaction spans: `sqlite` or `postgresql`. */
  readonly system: string;
  /** The executor whose connection provider hands out connections; `db`'s when not given. */
  readonly executor?: QueryExecutor;
}

/**
 * Runs units of work in transactions and savepoints, and tracks them for `close()`.
 *
 * It drives BEGIN/COMMIT/ROLLBACK on a checked-out connection itself rather than through Kysely's
 * transaction builders: one `Transaction` object per transaction, no builder chain, no frozen
 * copies. The current transaction is found through an `AsyncLocalStorage` that is entered only
 * around the caller's function and switched off at the next turn of the event loop once no transaction
 * runs (see `session-scope.ts`).
 */
export class SessionRunner<DB> {
  readonly #parts: SessionRunnerParts<DB>;
  readonly #props: TransactionProps;
  readonly #compile: QueryCompiler['compileQuery'];
  #running = 0;
  #closing = false;
  /** Set once Kysely's executor handed out a connection, and so initialised the driver. */
  #driverReady = false;
  #idle: (() => void) | undefined;

  constructor(parts: SessionRunnerParts<DB>) {
    this.#parts = parts;
    const executor = parts.executor ?? parts.db.getExecutor();
    this.#props = {
      config: { dialect: parts.dialect },
      dialect: parts.dialect,
      driver: parts.driver,
      executor,
      compiler: parts.dialect.createQueryCompiler(),
    };
    this.#compile = (node, queryId) => executor.compileQuery(node, queryId);
  }

  /** Transactions running now. */
  get running(): number {
    return this.#running;
  }

  /** Whether the caller runs inside one of this runner's transactions. */
  get inTransaction(): boolean {
    return scopeOf(this) !== undefined;
  }

  current(): DatabaseSession<DB> {
    const scope = scopeOf(this);
    if (scope !== undefined) return { session: scope.transaction as unknown as Kysely<DB>, connectionId: scope.open.connectionId };
    return { session: this.#parts.db, connectionId: 'pool' };
  }

  /**
   * Runs a compiled statement (a prepared query's) on `on`, or on the current session when `on`
   * is undefined. This runner's own query builders (the pool's, and the current transaction's)
   * get the statement straight on their connection, past Kysely's executor; any other goes
   * through its executor as usual.
   */
  execute(compiled: CompiledQuery, on: Kysely<never> | undefined): Promise<QueryResult<unknown>> {
    const scope = scopeOf(this);
    if (scope !== undefined && (on === undefined || on === (scope.transaction as unknown))) {
      return scope.open.provideConnection((connection) => connection.executeQuery(compiled));
    }
    if (on === undefined || on === (this.#parts.db as unknown)) return this.onPool(compiled);
    return on.executeQuery(compiled);
  }

  /**
   * Runs a statement on a connection of the pool, checked out of the driver for it alone: in one
   * step where the driver can (once initialised, it then refuses by itself when closed), else
   * checked out, run and released in turn.
   */
  onPool(compiled: CompiledQuery): Promise<QueryResult<unknown>> {
    if (this.#driverReady && this.#parts.driver.executeAlone !== undefined) return this.#parts.driver.executeAlone(compiled);
    return this.#checkoutAndRun(compiled);
  }

  async #checkoutAndRun(compiled: CompiledQuery): Promise<QueryResult<unknown>> {
    if (!this.#driverReady && this.#closing) throw new DatabaseClosedError();
    const { driver } = this.#parts;
    const first = this.#driverReady ? undefined : await this.#firstCheckout();
    const connection = first === undefined ? await driver.acquireConnection() : first.connection;
    try {
      return await connection.executeQuery(compiled);
    } finally {
      const released = this.#release(connection, first);
      if (released !== undefined) await released;
    }
  }

  run<T>(fn: (tx: Transaction<DB>) => Promise<T>, options: SessionOptions = {}): Promise<T> {
    const scope = scopeOf(this);
    if (scope !== undefined) return this.#nested(scope, fn);
    if (this.#closing) return Promise.reject(new DatabaseClosedError());
    return this.#outermost(fn, options);
  }

  /**
   * Runs an outermost transaction: checks a connection out of the driver, begins, runs `fn` in
   * scope, commits or rolls back; one client span per transaction. It checks the connection out
   * itself rather than through Kysely's executor, whose connection provider and runtime driver
   * add two async layers per transaction, and it is one async function: every layer costs
   * promises, and inside `withSession` each promise pays AsyncLocalStorage's hooks.
   */
  async #outermost<T>(fn: (tx: Transaction<DB>) => Promise<T>, options: SessionOptions): Promise<T> {
    // Counted in before the first await, as run() returns: drain() sees it at once.
    this.#running++;
    enterScope();
    // Timed from before the checkout: the duration metric includes waiting for a connection.
    const started = performance.now();
    const { driver } = this.#parts;
    try {
      const first = this.#driverReady ? undefined : await this.#firstCheckout();
      const connection = first === undefined ? await driver.acquireConnection() : first.connection;
      let span: Span | undefined;
      try {
        // Started once the connection is held, so that a throwing tracer still releases it. Without a
        // registered OpenTelemetry SDK the span records nothing.
        span = groundworkTracer().startSpan('transaction', {
          kind: SpanKind.CLIENT,
          attributes: { 'db.system.name': this.#parts.system, 'db.operation.name': 'transaction' },
        });
        const open = new OpenTransaction(connection);
        const begun = settledOr(driver.beginTransaction(connection, transactionSettings(options)));
        if (begun !== undefined) await begun;
        const transaction = transactionOn<DB>(this.#props, open);
        let result: T;
        try {
          const root: Scope = {
            owner: this as SessionRunner<unknown>,
            transaction,
            open,
            parent: undefined,
            tail: undefined,
            queued: 0,
            closed: false,
          };
          open.root = root;
          result = await runInScope(root, fn, transaction);
        } catch (error) {
          open.end();
          await this.#rollbackQuietly(open);
          this.#record('rollback', started, span);
          throw error;
        }
        open.end();
        try {
          const committed = settledOr(driver.commitTransaction(connection));
          if (committed !== undefined) await committed;
        } catch (error) {
          // A failed commit leaves the transaction open on the connection; roll it back before it returns to the pool.
          await this.#rollbackQuietly(open);
          this.#record('rollback', started, span);
          throw error;
        }
        this.#record('commit', started, span);
        return result;
      } catch (error) {
        if (span !== undefined) recordSpanError(span, error);
        throw error;
      } finally {
        span?.end();
        const released = this.#release(connection, first);
        if (released !== undefined) await released;
      }
    } finally {
      // Counted out first: should leaving the scope throw, drain() still sees the transaction end.
      this.#running--;
      if (this.#running === 0) this.#idle?.();
      leaveScope();
    }
  }

  /** Hands `connection` back: to the driver, or to Kysely's executor when `first` checked it out; undefined when nothing is left to wait for. */
  #release(connection: DatabaseConnection, first: ExecutorCheckout | undefined): Promise<unknown> | undefined {
    return first === undefined ? settledOr(this.#parts.driver.releaseConnection(connection)) : first.release();
  }

  /**
   * Checks a connection out through Kysely's executor, whose connection provider initialises the
   * driver at its first checkout (and so lets the executor's owner destroy it on close). Until one
   * did, every checkout goes this way; afterwards they go to the driver direct, which refuses by
   * itself once closed. The connection is held until `release()`, which settles once the
   * provider has handed it back.
   */
  #firstCheckout(): Promise<ExecutorCheckout> {
    return new Promise<ExecutorCheckout>((resolve, reject) => {
      let handBack: () => void = () => undefined;
      const returned = this.#props.executor.provideConnection((connection) => {
        this.#driverReady = true;
        const held = new Promise<void>((done) => {
          handBack = done;
        });
        resolve({
          connection,
          release: () => {
            handBack();
            return returned;
          },
        });
        return held;
      });
      // The checkout itself failed (the consumer never ran): the caller gets its error.
      returned.catch(reject);
    });
  }

  /**
   * Runs `fn` in a savepoint, queued at `parent`'s level: behind sibling nested calls and behind the
   * parent's statements that were waiting for them; the parent's statements sent while it is open
   * wait for it in turn (see `OpenTransaction`), so that its rollback undoes only its own work.
   */
  #nested<T>(parent: Scope, fn: (tx: Transaction<DB>) => Promise<T>): Promise<T> {
    return queueAt(parent, async (): Promise<T> => {
      const { driver } = this.#parts;
      const { open } = parent;
      if (open.ended) throw transactionEnded();
      const name = `groundwork_sp_${++open.savepoints}`;
      const compile = this.#compile;
      await driver.savepoint(open.connection, name, compile);
      const transaction = parent.transaction as unknown as Transaction<DB>;
      const scope: Scope = { ...parent, parent, tail: undefined, queued: 0, closed: false };
      try {
        const result = await runInScope(scope, fn, transaction);
        scope.closed = true;
        await driver.releaseSavepoint(open.connection, name, compile);
        return result;
      } catch (error) {
        scope.closed = true;
        try {
          await driver.rollbackToSavepoint(open.connection, name, compile);
        } catch (rollbackError) {
          this.#parts.logger.warn({ err: rollbackError }, 'database: rolling back to a savepoint failed');
        }
        throw error;
      }
    });
  }

  async #rollbackQuietly(open: OpenTransaction): Promise<void> {
    try {
      await this.#parts.driver.rollbackTransaction(open.connection);
    } catch (error) {
      // The connection is gone (the server rolled back already) or the database is closing; the
      // caller's own error is the one that matters.
      this.#parts.logger.debug({ err: error }, 'database: rollback failed');
    }
  }

  #record(outcome: 'commit' | 'rollback', started: number, span: Span): void {
    const metrics = this.#parts.metrics;
    if (metrics !== undefined) observe(metrics.dbTransactionDuration, { outcome }, (performance.now() - started) / 1000);
    span.setAttribute('groundwork.db.transaction.outcome', outcome);
  }

  /** Refuses new sessions and resolves when running ones finish or `timeoutMs` passes; true when all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.#closing = true;
    if (this.#running === 0) return true;
    return untilIdle(
      (idle) => {
        this.#idle = idle;
      },
      timeoutMs,
      this.#parts.clock,
    );
  }
}
