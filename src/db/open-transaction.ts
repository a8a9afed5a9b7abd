import {
  type CompiledQuery,
  type ConnectionProvider,
  type DatabaseConnection,
  DefaultQueryExecutor,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  type QueryExecutor,
  type QueryResult,
  Transaction,
} from 'kysely';
import { currentScope, queueAt, type Scope } from './session-scope.js';

/** The transaction methods Groundwork's drivers all implement (Kysely marks the savepoint ones optional). */
export type TransactionDriver = Pick<Driver, 'beginTransaction' | 'commitTransaction' | 'rollbackTransaction'> &
  Required<Pick<Driver, 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint'>>;

const ENDED = 'This transaction has already ended: use the transaction object only inside its withSession function';

/**
 * One open transaction on one checked-out connection. It is also the connection provider of the
 * transaction's query builder, which runs every query on this connection and refuses once the
 * transaction has ended (the connection may by then belong to someone else).
 */
export class OpenTransaction implements ConnectionProvider {
  readonly connection: DatabaseConnection;
  /** Savepoint counter, shared by every level of the transaction. */
  savepoints = 0;
  ended = false;
  /** The outermost level, set before the caller's function runs. */
  root: Scope | undefined;
  /**
   * Nested calls, and statements waiting for them, queued or running at any level. While it is 0
   * (no savepoint open) statements go straight to the connection.
   */
  queued = 0;

  constructor(connection: DatabaseConnection) {
    this.connection = connection;
  }

  /** `pg:3`, `sqlite:0`…: the physical connection now (a dead client may be replaced at the first statement). */
  get connectionId(): string {
    const id = (this.connection as { readonly id?: unknown }).id;
    return typeof id === 'string' ? id : 'unknown';
  }

  /** Marks the transaction finished: its query builder refuses from now on. */
  end(): void {
    this.ended = true;
  }

  provideConnection<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    if (this.ended) return Promise.reject(new Error(ENDED));
    if (this.queued === 0) return consumer(this.connection);
    return this.#inTurn(consumer);
  }

  /** Runs `compiled` on the transaction's connection. */
  execute<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (this.ended) return Promise.reject(new Error(ENDED));
    if (this.queued === 0) return this.connection.executeQuery<R>(compiled);
    return this.#inTurn((connection) => connection.executeQuery<R>(compiled));
  }

  /**
   * Runs `consumer` once its level may use the connection. A statement sent while a savepoint
   * nested in its level is open (or queued) would run inside that savepoint and be undone should
   * it roll back: it waits for its turn behind the nested calls started before it.
   */
  #inTurn<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    const level = this.#levelNow();
    if (level === undefined || level.queued === 0) return consumer(this.connection);
    return queueAt(level, () => (this.ended ? Promise.reject(new Error(ENDED)) : consumer(this.connection)));
  }

  /**
   * The level a statement sent now belongs to: the caller's scope when it is one of this
   * transaction's (the outermost one otherwise); a nested level whose savepoint has closed hands
   * its late statements to its parent.
   */
  #levelNow(): Scope | undefined {
    const current = currentScope();
    let level = current !== undefined && current.open === this ? current : this.root;
    while (level?.closed === true) level = level.parent;
    return level;
  }
}

/**
 * The executor of a transaction's query builder. Without plugins a query goes straight to the
 * transaction's connection: Kysely's own `executeQuery` wraps it in three async layers (the
 * connection consumer, the result transformation, a check for outdated drivers) that have
 * nothing to do then. With plugins (`tx.withPlugin(…)`, which makes a Kysely executor) nothing
 * changes.
 */
class TransactionExecutor extends DefaultQueryExecutor {
  readonly #open: OpenTransaction;

  constructor(compiler: QueryCompiler, adapter: DialectAdapter, open: OpenTransaction) {
    super(compiler, adapter, open);
    this.#open = open;
  }

  override executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return this.#open.execute<R>(compiledQuery);
  }
}

/** What building a transaction's query builder needs, built once per database. */
export interface TransactionProps {
  readonly config: { readonly dialect: Dialect };
  readonly dialect: Dialect;
  readonly driver: Driver;
  readonly executor: QueryExecutor;
  /** The dialect's compiler, for executors without plugins. */
  readonly compiler: QueryCompiler;
}

/** A Kysely `Transaction` whose queries run on `open`'s connection. */
export function transactionOn<DB>(props: TransactionProps, open: OpenTransaction): Transaction<DB> {
  const { executor } = props;
  return new Transaction<DB>({
    config: props.config,
    dialect: props.dialect,
    driver: props.driver,
    executor:
      executor.plugins.length === 0
        ? new TransactionExecutor(props.compiler, executor.adapter, open)
        : executor.withConnectionProvider(open),
  });
}

/** Thrown by a nested `withSession` queued behind siblings that outlived their transaction. */
export function transactionEnded(): Error {
  return new Error(ENDED);
}
