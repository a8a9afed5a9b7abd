import type { CompiledQuery, DatabaseConnection, Driver, QueryCompiler, QueryResult, TransactionSettings } from 'kysely';
import { ConnectionLock } from '../connection-lock.js';
import type { DriverConfig } from '../driver-config.js';
import { toDatabaseError } from '../driver-errors.js';
import type { PoolStats } from '../pool-stats.js';
import { beginStatement } from '../postgres/begin-statement.js';
import { SETTLED } from '../settled.js';
import { TransactionAbortedError } from '../transaction-aborted-error.js';
import type { PgliteClient, PgliteQueryable } from './pglite-client.js';

const COUNTED = /^\s*(insert|update|delete|merge)\b/i;

/** Handed back by the driver methods that have nothing to wait for (the session runner does not await it). */
const DONE: Promise<void> = SETTLED;

/** Thrown inside PGlite's transaction callback to make it roll back; never leaves the driver. */
const ROLLBACK = Symbol('rollback');

/** A transaction open in PGlite's `transaction()`, waiting to be told how to end. */
interface OpenPgliteTransaction {
  /** Lets the callback return (commit) or throw {@link ROLLBACK}. */
  settle(commit: boolean): void;
  /** Settles when PGlite has committed or rolled back; rejects when COMMIT failed. */
  readonly finished: Promise<void>;
}

/** The single PGlite connection. */
class PgliteConnection implements DatabaseConnection {
  readonly id = 'pglite:0';
  readonly #client: PgliteClient;
  readonly #displayUrl: string;
  /** Where statements run: the client, or the open transaction (which already holds PGlite's lock). */
  #target: PgliteQueryable;
  #open: OpenPgliteTransaction | undefined;
  /** Set when a statement failed inside the open transaction, which may have aborted it. */
  #failed = false;

  constructor(client: PgliteClient, displayUrl: string) {
    this.#client = client;
    this.#target = client;
    this.#displayUrl = displayUrl;
  }

  /**
   * Begins a transaction through PGlite's `transaction()`, as an application on PGlite would:
   * PGlite takes its lock once for the whole transaction instead of once per statement.
   */
  async begin(settings: TransactionSettings): Promise<void> {
    const transaction = await new Promise<PgliteQueryable>((resolve, reject) => {
      let settle: ((commit: boolean) => void) | undefined;
      const decided = new Promise<boolean>((resolveDecision) => {
        settle = resolveDecision;
      });
      const finished = this.#client.transaction(async (inside) => {
        resolve(inside);
        if (!(await decided)) throw ROLLBACK;
      });
      this.#open = {
        settle: settle as (commit: boolean) => void,
        finished: finished.catch((error: unknown) => {
          if (error !== ROLLBACK) throw error;
        }),
      };
      // BEGIN itself failed: the callback never ran.
      finished.catch(reject);
    });
    this.#target = transaction;
    this.#failed = false;
    const statement = beginStatement(settings);
    if (statement !== 'begin') await this.control(statement.replace(/^start transaction/, 'set transaction'));
  }

  /** Ends the open transaction (if any): commits or rolls back, and fails when COMMIT fails. */
  async end(commit: boolean): Promise<void> {
    const open = this.#open;
    if (open === undefined) return;
    // PGlite's COMMIT of an aborted transaction rolls it back without an error: after a failed
    // statement (and only then, so a clean transaction costs nothing more) ask whether it aborted.
    const aborted = commit && this.#failed && (await this.#aborted());
    this.#open = undefined;
    this.#target = this.#client;
    open.settle(commit && !aborted);
    try {
      await open.finished;
    } catch (error) {
      throw toDatabaseError(error, this.#displayUrl);
    }
    if (aborted) throw new TransactionAbortedError();
  }

  /** Whether the open transaction was aborted: the server then refuses any statement with 25P02. */
  async #aborted(): Promise<boolean> {
    try {
      await this.#target.exec('select');
      return false;
    } catch (error) {
      return (error as { code?: unknown }).code === '25P02';
    }
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const result = await this.#target.query<R>(compiledQuery.sql, compiledQuery.parameters as unknown[]);
      return COUNTED.test(compiledQuery.sql) && result.affectedRows !== undefined
        ? { rows: result.rows, numAffectedRows: BigInt(result.affectedRows) }
        : { rows: result.rows };
    } catch (error) {
      if (this.#open !== undefined) this.#failed = true;
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
      await this.#target.exec(statement);
    } catch (error) {
      if (this.#open !== undefined) this.#failed = true;
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
  /** The connection, settled: what a checkout that did not wait answers. */
  readonly #free: Promise<DatabaseConnection>;

  constructor(client: PgliteClient, config: DriverConfig) {
    this.#client = client;
    this.#lock = new ConnectionLock(config.acquireTimeoutMs, config.clock);
    this.#connection = new PgliteConnection(client, config.displayUrl);
    this.#free = Promise.resolve(this.#connection);
  }

  async init(): Promise<void> {
    await this.#client.waitReady;
  }

  /** Not async: a free connection is handed over without a promise of its own. */
  acquireConnection(): Promise<DatabaseConnection> {
    if (this.#lock.tryAcquire()) return this.#free;
    return this.#lock.acquire().then(() => this.#connection);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await (connection as PgliteConnection).begin(settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteConnection).end(true);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteConnection).end(false);
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

  releaseConnection(): Promise<void> {
    this.#lock.release();
    return DONE;
  }

  /** The connection's state in pool terms. */
  stats(): PoolStats {
    return this.#lock.stats();
  }

  async destroy(): Promise<void> {
    this.#lock.close();
    // A transaction still open holds PGlite's lock, which closing waits for: roll it back first.
    await this.#connection.end(false).catch(() => undefined);
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
