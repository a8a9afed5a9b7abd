import type { CompiledQuery, DatabaseConnection, Driver, QueryCompiler, QueryResult, TransactionSettings } from 'kysely';
import { ConnectionLock } from '../connection-lock.js';
import type { DriverConfig } from '../driver-config.js';
import { toDatabaseError } from '../driver-errors.js';
import type { PoolStats } from '../pool-stats.js';
import { beginStatement } from '../postgres/begin-statement.js';
import type { PgliteClient } from './pglite-client.js';

const COUNTED = /^\s*(insert|update|delete|merge)\b/i;

/** The single PGlite connection. */
class PgliteConnection implements DatabaseConnection {
  readonly id = 'pglite:0';
  readonly #client: PgliteClient;
  readonly #displayUrl: string;

  constructor(client: PgliteClient, displayUrl: string) {
    this.#client = client;
    this.#displayUrl = displayUrl;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const result = await this.#client.query<R>(compiledQuery.sql, [...compiledQuery.parameters]);
      return COUNTED.test(compiledQuery.sql) && result.affectedRows !== undefined
        ? { rows: result.rows, numAffectedRows: BigInt(result.affectedRows) }
        : { rows: result.rows };
    } catch (error) {
      throw toDatabaseError(error, this.#displayUrl);
    }
  }

  /**
   * Runs a transaction-control statement (begin, commit, savepoints) over the simple query
   * protocol, as PGlite's own `transaction()` does: `query()` parses, describes, binds and
   * executes in separate exchanges, which costs PGlite about as much as the statement itself.
   */
  async control(statement: string): Promise<void> {
    try {
      await this.#client.exec(statement);
    } catch (error) {
      throw toDatabaseError(error, this.#displayUrl);
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield await this.executeQuery<R>(compiledQuery);
  }
}

/**
 * A Kysely driver over PGlite (PostgreSQL in WebAssembly, in this process). PGlite has one
 * session, so the connection is serialised like SQLite's: a transaction holds it until it ends.
 */
export class PgliteDriver implements Driver {
  readonly #client: PgliteClient;
  readonly #lock: ConnectionLock;
  readonly #connection: PgliteConnection;

  constructor(client: PgliteClient, config: DriverConfig) {
    this.#client = client;
    this.#lock = new ConnectionLock(config.acquireTimeoutMs, config.clock);
    this.#connection = new PgliteConnection(client, config.displayUrl);
  }

  async init(): Promise<void> {
    await this.#client.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.acquire();
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await (connection as PgliteConnection).control(beginStatement(settings));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteConnection).control('commit');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteConnection).control('rollback');
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await savepointCommand(connection, 'savepoint', name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await savepointCommand(connection, 'rollback to savepoint', name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await savepointCommand(connection, 'release savepoint', name, compile);
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
    if (!this.#client.closed) await this.#client.close();
  }
}

async function savepointCommand(
  connection: DatabaseConnection,
  command: string,
  name: string,
  _compile: QueryCompiler['compileQuery'],
): Promise<void> {
  await (connection as PgliteConnection).control(`${command} "${name.replaceAll('"', '""')}"`);
}
