import { setTimeout as delay } from 'node:timers/promises';
import { CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, type TransactionSettings } from 'kysely';
import { ConnectionLock } from '../connection-lock.js';
import { DatabaseClosedError } from '../database-closed-error.js';
import type { DriverConfig } from '../driver-config.js';
import { toDatabaseError } from '../driver-errors.js';
import type { PoolStats } from '../pool-stats.js';
import { PoolTimeoutError } from '../pool-timeout-error.js';
import { TransactionAbortedError } from '../transaction-aborted-error.js';
import type { SqliteClient, SqliteStatement } from './sqlite-client.js';
import { type ColumnKind, columnKind, fromSqliteValue, toSqliteParameter } from './sqlite-values.js';

const STATEMENT_CACHE_SIZE = 256;
const DDL = /^\s*(create|alter|drop)\b/i;
// Compiled once: `CompiledQuery.raw` freezes a new object and draws a random query id per call.
const BEGIN = CompiledQuery.raw('begin');
const BEGIN_IMMEDIATE = CompiledQuery.raw('begin immediate');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');
const QUERY_ONLY_ON = CompiledQuery.raw('pragma query_only = 1');
const QUERY_ONLY_OFF = CompiledQuery.raw('pragma query_only = 0');

interface PreparedStatement {
  statement: SqliteStatement;
  /** Schema changes invalidate every cached statement. */
  ddl: boolean;
  /** Result columns that need mapping; undefined when none do (the fast path). */
  mapped: Array<[string, ColumnKind]> | undefined;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED');
}

/** Closing the connection (close() giving up on a transaction after DB_CLOSE_TIMEOUT_MS) rolled the transaction back too. */
function closedUnder(): DatabaseClosedError {
  return new DatabaseClosedError(
    'The database was closed while this transaction ran (close() waits DB_CLOSE_TIMEOUT_MS for it), so SQLite rolled it back: nothing it wrote was kept.',
  );
}

function rolledBackBySqlite(): TransactionAbortedError {
  return new TransactionAbortedError(
    'The statement was not run: SQLite rolled back the transaction when an earlier statement in it failed, so nothing the transaction wrote was kept. Let that error propagate, or run the failing statement in a nested session so that only it is undone.',
  );
}

/** The single, serialised better-sqlite3 connection. */
class SqliteConnection implements DatabaseConnection {
  readonly id = 'sqlite:0';
  readonly #client: SqliteClient;
  readonly #config: DriverConfig;
  readonly #statements = new Map<string, PreparedStatement>();
  /** Set while a read-only transaction has `query_only` switched on. */
  readOnly = false;
  /**
   * Set from `BEGIN` to `COMMIT` or `ROLLBACK`. Some failures (`RAISE(ROLLBACK)`, `INSERT OR
   * ROLLBACK`, some FULL, IOERR, BUSY and NOMEM errors) make SQLite roll the whole transaction back
   * by itself: while this is set and SQLite says no transaction is open, a statement would run in
   * autocommit, outside the session, and be kept although the session fails. Such statements are
   * refused.
   */
  transactionOpen = false;

  constructor(client: SqliteClient, config: DriverConfig) {
    this.#client = client;
    this.#config = config;
  }

  #prepare(sql: string): PreparedStatement {
    const cached = this.#statements.get(sql);
    if (cached !== undefined) return cached;
    const statement = this.#client.prepare(sql);
    let mapped: Array<[string, ColumnKind]> | undefined;
    if (statement.reader) {
      for (const column of statement.columns()) {
        const kind = columnKind(column.type);
        if (kind === undefined) continue;
        mapped ??= [];
        mapped.push([column.name, kind]);
      }
    }
    const prepared = { statement, mapped, ddl: DDL.test(sql) };
    if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
      const oldest = this.#statements.keys().next().value;
      if (oldest !== undefined) this.#statements.delete(oldest);
    }
    this.#statements.set(sql, prepared);
    return prepared;
  }

  #run<R>(compiledQuery: CompiledQuery): QueryResult<R> {
    const { sql, parameters } = compiledQuery;
    const { statement, mapped, ddl } = this.#prepare(sql);
    if (ddl) this.#statements.clear();
    const bound = parameters.length === 0 ? parameters : parameters.map(toSqliteParameter);
    if (statement.reader) {
      const rows = statement.all(bound) as Array<Record<string, unknown>>;
      if (mapped !== undefined) {
        for (const row of rows) for (const [name, kind] of mapped) if (name in row) row[name] = fromSqliteValue(kind, row[name]);
      }
      return { rows: rows as R[] };
    }
    const { changes, lastInsertRowid } = statement.run(bound);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    if (this.transactionOpen && !this.#client.inTransaction) throw this.#client.open ? rolledBackBySqlite() : closedUnder();
    try {
      return this.#run<R>(compiledQuery);
    } catch (error) {
      // Another process holds the write lock. Outside a transaction the statement did nothing,
      // so wait (without blocking the event loop) and try again. Inside one (even one SQLite has
      // just rolled back), running it again would run it alone.
      if (isBusy(error) && !this.transactionOpen && !this.#client.inTransaction) return this.#retryBusy<R>(compiledQuery);
      throw toDatabaseError(error, this.#config.displayUrl);
    }
  }

  /** Whether SQLite still holds the transaction `BEGIN` opened. */
  get sqliteInTransaction(): boolean {
    return this.#client.inTransaction;
  }

  /** Whether the connection is still open (close() has not closed it). */
  get open(): boolean {
    return this.#client.open;
  }

  async #retryBusy<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { clock, acquireTimeoutMs } = this.#config;
    const started = clock.now();
    for (let attempt = 1; ; attempt++) {
      // A referenced timer: waiting for another process's lock must keep this process alive.
      await delay(Math.min(2 ** attempt, 50));
      try {
        return this.#run<R>(compiledQuery);
      } catch (error) {
        if (!isBusy(error) || this.#client.inTransaction) throw toDatabaseError(error, this.#config.displayUrl);
        const waited = clock.now() - started;
        if (waited >= acquireTimeoutMs) {
          throw new PoolTimeoutError(waited, { total: 1, idle: 0, waiting: 1, max: 1 });
        }
      }
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield await this.executeQuery<R>(compiledQuery);
  }
}

/**
 * A Kysely driver over one better-sqlite3 connection, serialised: a transaction holds the
 * connection until it ends, other callers wait in order (`DB_ACQUIRE_TIMEOUT_MS`). Write
 * transactions begin `IMMEDIATE`, so two processes on one file queue for the write lock instead
 * of failing halfway; read-only transactions switch on `query_only`.
 */
export class SqliteDriver implements Driver {
  readonly #client: SqliteClient;
  readonly #lock: ConnectionLock;
  readonly #connection: SqliteConnection;

  constructor(client: SqliteClient, config: DriverConfig) {
    this.#client = client;
    this.#lock = new ConnectionLock(config.acquireTimeoutMs, config.clock);
    this.#connection = new SqliteConnection(client, config);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.acquire();
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const sqlite = connection as SqliteConnection;
    if (settings.accessMode === 'read only') {
      await sqlite.executeQuery(BEGIN);
      sqlite.transactionOpen = true;
      await sqlite.executeQuery(QUERY_ONLY_ON);
      sqlite.readOnly = true;
    } else {
      await sqlite.executeQuery(BEGIN_IMMEDIATE);
      sqlite.transactionOpen = true;
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection as SqliteConnection, 'commit');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection as SqliteConnection, 'rollback');
  }

  async #end(connection: SqliteConnection, command: 'commit' | 'rollback'): Promise<void> {
    const begun = connection.transactionOpen;
    connection.transactionOpen = false;
    try {
      // SQLite already rolled it back (by itself, or on closing): nothing is left to commit, or to roll back.
      if (!connection.sqliteInTransaction) {
        if (command === 'commit' && begun) throw connection.open ? new TransactionAbortedError() : closedUnder();
        return;
      }
      await connection.executeQuery(command === 'commit' ? COMMIT : ROLLBACK);
    } finally {
      if (connection.readOnly) {
        connection.readOnly = false;
        if (this.#client.open) await connection.executeQuery(QUERY_ONLY_OFF);
      }
    }
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint "${name}"`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint "${name}"`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint "${name}"`));
  }

  async releaseConnection(): Promise<void> {
    this.#lock.release();
  }

  /** The connection's state in pool terms. */
  stats(): PoolStats {
    return this.#lock.stats();
  }

  async destroy(): Promise<void> {
    this.#lock.close();
    if (this.#client.open) this.#client.close();
  }
}
