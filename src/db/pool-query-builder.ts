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
import type { Clock } from '../internal/clock.js';
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
  /** Connections holding a transaction begun here and not yet ended, for {@link PooledDriver.drain}. */
  readonly #open = new Set<DatabaseConnection>();
  #idle: (() => void) | undefined;

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

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.#driver.beginTransaction(connection, settings);
    this.#open.add(connection);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#driver.commitTransaction(connection);
    // A failed commit is followed by a rollback, which ends the transaction.
    this.#ended(connection);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#driver.rollbackTransaction(connection);
    } finally {
      this.#ended(connection);
    }
  }

  #ended(connection: DatabaseConnection): void {
    if (this.#open.delete(connection) && this.#open.size === 0) this.#idle?.();
  }

  /** Resolves true once no transaction begun here is open, or false when `timeoutMs` passes first. */
  async drain(timeoutMs: number, clock: Clock): Promise<boolean> {
    if (this.#open.size === 0) return true;
    let timer: unknown;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => {
        this.#idle = () => resolve(true);
      }),
      new Promise<boolean>((resolve) => {
        timer = clock.setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clock.clearTimeout(timer);
    this.#idle = undefined;
    return finished;
  }

  /** Transactions begun here and still open. */
  get running(): number {
    return this.#open.size;
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
   * `db.startTransaction()`) has ended, or false when `timeoutMs` passes first.
   */
  drain(timeoutMs: number, clock: Clock): Promise<boolean>;
  /** Transactions begun through the builder and still open. */
  readonly running: number;
}

/** Kysely over `dialect`, as `new Kysely({ dialect })`, with plain queries routable (see {@link PoolExecutor}). */
export function poolQueryBuilder<DB>(dialect: Dialect, driver: Driver & TransactionDriver): PoolQueryBuilder<DB> {
  const owner = new Kysely<unknown>({ dialect });
  const base = owner.getExecutor();
  const executor = new PoolExecutor(dialect.createQueryCompiler(), base.adapter, base);
  const pooled = new PooledDriver(driver, owner);
  const db = new Kysely<DB>({ config: { dialect }, dialect, driver: pooled, executor });
  return {
    db,
    route: (run) => executor.route(run),
    drain: (timeoutMs, clock) => pooled.drain(timeoutMs, clock),
    get running() {
      return pooled.running;
    },
  };
}
