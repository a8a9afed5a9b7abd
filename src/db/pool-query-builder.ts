import {
  type CompiledQuery,
  type DatabaseConnection,
  DefaultQueryExecutor,
  type Dialect,
  type Driver,
  Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { TransactionDriver } from './open-transaction.js';

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
}

/** Kysely over `dialect`, as `new Kysely({ dialect })`, with plain queries routable (see {@link PoolExecutor}). */
export function poolQueryBuilder<DB>(dialect: Dialect, driver: Driver & TransactionDriver): PoolQueryBuilder<DB> {
  const owner = new Kysely<unknown>({ dialect });
  const base = owner.getExecutor();
  const executor = new PoolExecutor(dialect.createQueryCompiler(), base.adapter, base);
  const db = new Kysely<DB>({ config: { dialect }, dialect, driver: new PooledDriver(driver, owner), executor });
  return { db, route: (run) => executor.route(run) };
}
