import type { CompiledQuery, DatabaseConnection, Driver, QueryResult, TransactionSettings } from 'kysely';
import type { Logger } from '../../observability/logger.js';
import { isConnectionLost } from '../driver-errors.js';
import type { Replica } from './replica.js';
import type { ReplicaSet } from './replica-set.js';

/**
 * Statements `dbRead` refuses before sending them, with a clear error. Those it cannot see (raw SQL,
 * a data-modifying `with`) fail on the server instead: a replica refuses writes, and on the primary
 * each statement runs in a `READ ONLY` transaction.
 */
const WRITES = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode']);

/** A connection checked out of a replica's pool, or of the primary's when no replica is healthy. */
class RoutedConnection implements DatabaseConnection {
  inner: DatabaseConnection;
  target: { readonly driver: Driver; readonly replica: Replica<unknown> | undefined };
  inTransaction = false;
  readonly #router: ReadRoutingDriver;

  constructor(inner: DatabaseConnection, target: RoutedConnection['target'], router: ReadRoutingDriver) {
    this.inner = inner;
    this.target = target;
    this.#router = router;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    if (WRITES.has(compiledQuery.query.kind)) {
      throw new Error('dbRead is read-only: it runs on a replica; write through db or withSession (on the primary) instead');
    }
    for (;;) {
      try {
        if (this.target.replica === undefined && !this.inTransaction) return await this.#readOnlyOnPrimary<R>(compiledQuery);
        return await this.inner.executeQuery<R>(compiledQuery);
      } catch (error) {
        // A single statement outside a transaction read nothing the caller has seen: run it again elsewhere.
        const replica = this.target.replica;
        if (replica === undefined || this.inTransaction || !isConnectionLost(error)) throw error;
        await this.#router.reroute(this, error);
      }
    }
  }

  /**
   * Runs a statement on the primary in a transaction of its own, `READ ONLY`, so the server refuses
   * what {@link WRITES} cannot see: raw SQL, a select over a data-modifying `with`, a function that
   * writes. A replica refuses them by itself, and its statements go out bare. BEGIN goes out with
   * the statement (see `PostgresDriver`): one round trip more, for COMMIT, and on the fallback only.
   *
   * Once the statement has succeeded, a COMMIT lost with its connection changes nothing (a
   * read-only transaction wrote nothing, and the server rolls back whatever it leaves open): the
   * result is returned, the loss logged at debug, and the driver discards the dead client on
   * release. Any other COMMIT failure is the caller's error.
   */
  async #readOnlyOnPrimary<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { driver } = this.target;
    await driver.beginTransaction(this.inner, { accessMode: 'read only' });
    let result: QueryResult<R>;
    try {
      result = await this.inner.executeQuery<R>(compiledQuery);
    } catch (error) {
      // ROLLBACK fails only on a connection that was lost, which the statement's own error already
      // says (the driver discards that connection on release): the caller gets the statement's error.
      await driver.rollbackTransaction(this.inner).catch(() => undefined);
      throw error;
    }
    try {
      await driver.commitTransaction(this.inner);
    } catch (error) {
      if (!isConnectionLost(error)) throw error;
      this.#router.logger.debug(
        { reason: error instanceof Error ? error.message : String(error) },
        'database: the connection was lost under the COMMIT of a read on the primary; its result stands',
      );
    }
    return result;
  }

  /** Streams as one chunk, as Groundwork's PostgreSQL driver does. */
  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield await this.executeQuery<R>(compiledQuery);
  }
}

/**
 * The driver behind `dbRead`: each checkout comes from the next healthy replica's pool (round
 * robin), or from the primary's when none is healthy. Its transactions are read-only. It owns no
 * pool: the replicas and the primary close their own.
 */
export class ReadRoutingDriver implements Driver {
  readonly #replicas: ReplicaSet<unknown>;
  readonly #primary: Driver;
  /** Where a read's lost COMMIT on the primary is noted. */
  readonly logger: Logger;

  constructor(replicas: ReplicaSet<unknown>, primary: Driver, logger: Logger) {
    this.#replicas = replicas;
    this.#primary = primary;
    this.logger = logger;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const excluded = new Set<Replica<unknown>>();
    for (;;) {
      const replica = this.#replicas.pick(excluded);
      if (replica === undefined) {
        this.#replicas.count('primary_fallback');
        return new RoutedConnection(await this.#primary.acquireConnection(), { driver: this.#primary, replica: undefined }, this);
      }
      this.#replicas.count('replica', replica);
      try {
        return new RoutedConnection(await replica.driver.acquireConnection(), { driver: replica.driver, replica }, this);
      } catch (error) {
        if (!isConnectionLost(error)) throw error;
        excluded.add(replica);
        this.#replicas.failed(replica, error);
      }
    }
  }

  /** Moves `connection` off its failed replica onto the next healthy one, or the primary. */
  async reroute(connection: RoutedConnection, error: unknown): Promise<void> {
    const failed = connection.target.replica;
    if (failed !== undefined) this.#replicas.failed(failed, error);
    await connection.target.driver.releaseConnection(connection.inner);
    const next = (await this.acquireConnection()) as RoutedConnection;
    connection.inner = next.inner;
    connection.target = next.target;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const routed = connection as RoutedConnection;
    routed.inTransaction = true;
    await routed.target.driver.beginTransaction(routed.inner, { ...settings, accessMode: 'read only' });
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const routed = connection as RoutedConnection;
    routed.inTransaction = false;
    await routed.target.driver.commitTransaction(routed.inner);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const routed = connection as RoutedConnection;
    routed.inTransaction = false;
    await routed.target.driver.rollbackTransaction(routed.inner);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const routed = connection as RoutedConnection;
    await routed.target.driver.releaseConnection(routed.inner);
  }

  async destroy(): Promise<void> {}
}
