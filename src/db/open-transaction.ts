import { type ConnectionProvider, type DatabaseConnection, type Dialect, type Driver, type QueryExecutor, Transaction } from 'kysely';

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
    return consumer(this.connection);
  }
}

/** What building a transaction's query builder needs, built once per database. */
export interface TransactionProps {
  readonly config: { readonly dialect: Dialect };
  readonly dialect: Dialect;
  readonly driver: Driver;
  readonly executor: QueryExecutor;
}

/** A Kysely `Transaction` whose queries run on `open`'s connection. */
export function transactionOn<DB>(props: TransactionProps, open: OpenTransaction): Transaction<DB> {
  return new Transaction<DB>({ ...props, executor: props.executor.withConnectionProvider(open) });
}

/** Thrown by a nested `withSession` queued behind siblings that outlived their transaction. */
export function transactionEnded(): Error {
  return new Error(ENDED);
}
