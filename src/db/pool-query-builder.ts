import {
  type CompiledQuery,
  type ConnectionProvider,
  type DatabaseConnection,
  DefaultQueryExecutor,
  type Dialect,
  type Driver,
  Kysely,
  type QueryCompiler,
  type QueryExecutor,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { Clock } from '../internal/clock.js';
import type { TransactionDriver } from './open-transaction.js';
import { untilIdle } from './until-idle.js';

/** Runs one statement on a connection of the pool, checked out for it alone. */
export type PoolStatementRunner = (compiled: CompiledQuery) => Promise<QueryResult<unknown>>;

/**
 * The executor of the pooled query builder. Without plugins a query goes to the routed runner
 * (the session runner's one checkout per statement) rather than through Kysely's connection
 * provider and runtime driver, whose async layers have nothing to do once the driver is
 * initialised. Until routed, and with plugins (`withPlugin`, `withSchema`, which make Kysely
 * executors over the same connection provider), Kysely's own path.
 */
class PoolExecutor extends DefaultQueryExecutor {
  #run: PoolStatementRunner | undefined;

  route(run: PoolStatementRunner): void {
    this.#run = run;
  }

  override executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const run = this.#run;
    if (run === undefined) return super.executeQuery<R>(compiledQuery);
    return run(compiledQuery) as Promise<QueryResult<R>>;
  }
}

/**
 * The connection provider of the pooled query builder's executors (its own and those `withPlugin`
 * makes), counting the checkouts it has handed out and not had back: a transaction
 * (`db.transaction()`, `db.startTransaction()`) or `db.connection()` holds one from the call until
 * it ends, so that close() waits for it even while it still waits for a connection or its BEGIN.
 * Plain queries are routed past it (see {@link PoolExecutor}) and cost nothing here.
 */
class HeldConnections implements ConnectionProvider {
  readonly #base: ConnectionProvider;
  #held = 0;
  #idle: (() => void) | undefined;

  constructor(base: ConnectionProvider) {
    this.#base = base;
  }

  provideConnection<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    // Counted in before the first await, as the caller's call returns.
    this.#held++;
    return this.#base.provideConnection(consumer).finally(() => {
      if (--this.#held === 0) this.#idle?.();
    });
  }

  /** Checkouts handed out and not yet back. */
  get held(): number {
    return this.#held;
  }

  /** Resolves true once no checkout is out, or false when `timeoutMs` passes first. */
  async drain(timeoutMs: number, clock: Clock): Promise<boolean> {
    if (this.#held === 0) return true;
    return untilIdle(
      (idle) => {
        this.#idle = idle;
      },
      timeoutMs,
      clock,
    );
  }
}

/**
 * The driver the pooled query builder's own transactions (`db.transaction()`) and `destroy()`
 * use: transactions go to the dialect's driver as Kysely's runtime driver sends them;
 * destroying goes through the Kysely instance that owns the runtime driver, which initialises
 * the dialect's driver at its first checkout and destroys it only if it did.
 */
class PooledDriver implements Driver {
  readonly #driver: Driver & TransactionDriver;
  readonly #owner: Kysely<unknown>;

  constructor(driver: Driver & TransactionDriver, owner: Kysely<unknown>) {
    this.#driver = driver;
    this.#owner = owner;
  }

  /** Initialised by the owner's runtime driver at its first checkout. */
  async init(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    return this.#driver.acquireConnection();
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#driver.releaseConnection(connection);
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#driver.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#driver.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#driver.rollbackTransaction(connection);
  }

  savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return this.#driver.savepoint(connection, name, compile);
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return this.#driver.rollbackToSavepoint(connection, name, compile);
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return this.#driver.releaseSavepoint(connection, name, compile);
  }

  destroy(): Promise<void> {
    return this.#owner.destroy();
  }
}

/** A pooled query builder whose plain queries can be routed past Kysely's connection provider. */
export interface PoolQueryBuilder<DB> {
  readonly db: Kysely<DB>;
  /** Sends the builder's queries without plugins to `run` from now on. */
  route(run: PoolStatementRunner): void;
  /**
   * Resolves true once every transaction begun through `db.transaction()` (or
   * `db.startTransaction()`, or a `db.connection()`) has ended, or false when `timeoutMs` passes
   * first. One called before drain() is waited for even if it had no connection yet.
   */
  drain(timeoutMs: number, clock: Clock): Promise<boolean>;
  /** Transactions (and `db.connection()` calls) on the builder not yet ended. */
  readonly running: number;
  /**
   * The builder's executor, its checkouts left out of {@link PoolQueryBuilder.running}: for the
   * session runner, which counts its own sessions (its first checkout goes through Kysely's
   * executor, which initialises the driver).
   */
  readonly uncountedExecutor: QueryExecutor;
}

/** Kysely over `dialect`, as `new Kysely({ dialect })`, with plain queries routable (see {@link PoolExecutor}). */
export function poolQueryBuilder<DB>(dialect: Dialect, driver: Driver & TransactionDriver): PoolQueryBuilder<DB> {
  const owner = new Kysely<unknown>({ dialect });
  const base = owner.getExecutor();
  const held = new HeldConnections(base);
  const executor = new PoolExecutor(dialect.createQueryCompiler(), base.adapter, held);
  const db = new Kysely<DB>({ config: { dialect }, dialect, driver: new PooledDriver(driver, owner), executor });
  return {
    db,
    route: (run) => executor.route(run),
    drain: (timeoutMs, clock) => held.drain(timeoutMs, clock),
    get running() {
      return held.held;
    },
    uncountedExecutor: executor.withConnectionProvider(base),
  };
}
