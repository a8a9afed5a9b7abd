import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type OperationNode,
  type QueryCompiler,
  type QueryResult,
  SelectQueryNode,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import type { Logger } from '../../observability/logger.js';
import { scrubSecrets } from '../../observability/redact.js';
import { DatabaseClosedError } from '../database-closed-error.js';
import type { DriverConfig } from '../driver-config.js';
import { isConnectionLost, isUnsent, toDatabaseError } from '../driver-errors.js';
import type { PoolStats } from '../pool-stats.js';
import { PoolTimeoutError } from '../pool-timeout-error.js';
import { statementName } from '../prepared-query.js';
import { SETTLED } from '../settled.js';
import { TransactionAbortedError } from '../transaction-aborted-error.js';
import { COMMIT, compiledBegin, ROLLBACK } from './begin-statement.js';
import type { PgCallback, PgPool, PgPoolClient, PgResult } from './pg-client.js';
import {
  BUILDER_STATEMENTS_PER_CONNECTION,
  ConnectionStatements,
  isClientSideFailure,
  isMissingStatement,
  isStalePlan,
  RecurringStatements,
  StatementNames,
} from './statement-names.js';

/** What Groundwork knows about one physical connection. */
interface ClientState {
  readonly id: string;
  /** Set once the connection broke; it is then destroyed instead of returned to the pool. */
  broken: Error | undefined;
  /** Checkouts so far; a connection on its first checkout was just opened and is known alive. */
  checkouts: number;
  /** The named statements of prepared queries sent on this connection, least recently used first. */
  readonly statements: ConnectionStatements;
  /**
   * The query builder's named statements sent on this connection, least recently used first: a
   * budget of their own, so that a stream of builder texts never evicts a prepared query's.
   */
  readonly builderStatements: ConnectionStatements;
  /** Named statements pg closed on this connection after a value failed to serialise; parsed again at their next use. */
  closed?: Set<string>;
}

/** Options of {@link PostgresDriver}. */
export interface PostgresDriverConfig extends DriverConfig {
  /** `DB_POOL_SIZE + DB_MAX_OVERFLOW`. */
  readonly maxConnections: number;
  readonly logger: Logger;
  /** Whether prepared queries go out as named statements (`DB_PREPARED_STATEMENTS`); else unnamed. Absent: true. */
  readonly namedStatements?: boolean;
  /**
   * Whether the query builder's recurring statements go out as named statements too
   * (`DB_NAMED_BUILDER_STATEMENTS`, honoured only with `namedStatements`); else unnamed. Absent: false.
   */
  readonly namedBuilderStatements?: boolean;
  /** Called after every checkout and return, to refresh pool gauges. */
  readonly onPoolChange?: () => void;
}

const COUNTED = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);
/** Handed back by the driver methods that have nothing to wait for (the session runner does not await it). */
const DONE: Promise<void> = SETTLED;
const NO_PARAMETERS: unknown[] = [];
/** What handing a connection back returns when nothing went wrong (anything else is the error thrown). */
const HANDED_BACK = Symbol('handed back');
const POOL_QUEUE_TIMEOUT = 'timeout exceeded when trying to connect';
const LOST_TRANSACTION =
  'The transaction was rolled back, not committed: the connection was lost under one of its statements, whose error was caught, and the server rolled back what the transaction had done on it. Nothing it wrote was kept. Run the unit of work again.';

/** One statement as a checkout sends it, with what sending it again needs. */
interface Statement {
  readonly query: CompiledQuery;
  /** The BEGIN it carries (a transaction's first statement): sent again with it on a replacement client. */
  readonly begin: CompiledQuery | undefined;
  /** Its named-statement key, when it goes out named. */
  readonly key: string | undefined;
  /** Whether it is one of the query builder's recurring statements (named against their own budget). */
  readonly builder: boolean;
  /** Whether it is the checkout's first statement (a dead reused client may be replaced then). */
  readonly first: boolean;
  /** Whether it started inside a transaction (it cannot be sent again then). */
  readonly inTransaction: boolean;
  /** Set after a stale plan: sent unnamed from then on. */
  unnamed: boolean;
  attempt: number;
  /** Attempts answered so far: a second answer to the same attempt is ignored. */
  answered: number;
}

/** Kysely's result for pg's: rows, and the affected-row count of the statements that have one. */
function queryResult<R>(result: PgResult): QueryResult<R> {
  return COUNTED.has(result.command)
    ? { rows: result.rows as R[], numAffectedRows: BigInt(result.rowCount ?? 0) }
    : { rows: result.rows as R[] };
}

/**
 * One checkout of a pooled `pg` client, as Kysely sees a connection. On its first statement,
 * if a reused client turns out to be dead (the server restarted, the backend was terminated
 * while idle), it is destroyed and the statement runs on another client, but only where running
 * it again is known safe: the statement carried its transaction's BEGIN (COMMIT was never sent,
 * so the server rolled it back), nothing of it was written (pg refused it, the client being
 * known broken), or it is a query builder select (prepared ones included) whose `with` clauses, if
 * any, are selects too: it only reads (unless it calls a function that writes, which the builder
 * cannot see). A select over a data-modifying `with` (`with claimed as (update … returning …)`) writes.
 * Raw SQL and writes outside a transaction that may have reached the server are never sent again:
 * the server may have applied them before the connection broke (an idle timeout, a failover);
 * they fail with a {@link ConnectionLostError} whose outcome is unknown. Later failures are not retried.
 * A statement of a transaction that fails because its connection was lost (one sent beside the
 * first on the dead client, or one started while the client was being replaced) keeps that
 * transaction from committing: it ends in ROLLBACK and a {@link TransactionAbortedError}, so that
 * the first statement, run again on the new client, is not committed without it.
 *
 * A transaction's BEGIN is not sent on its own: it waits for the transaction's first statement
 * and goes out with it in one write (the client is in pipeline mode), so a transaction costs one
 * round trip fewer than BEGIN, statements, COMMIT each awaited in turn. A transaction that runs no
 * statement sends nothing at all. PostgreSQL runs the two in order, and BEGIN fails only when the
 * session itself is unusable (the connection is lost, the server shuts down), which fails the
 * statement behind it too.
 */
class PostgresConnection implements DatabaseConnection {
  client: PgPoolClient;
  state: ClientState;
  statements = 0;
  released = false;
  /**
   * Set while `client` was handed back to the pool (destroyed) and no replacement could be
   * checked out: pg throws when a client is released twice, so it must not be released again.
   */
  clientGone = false;
  /** Set from BEGIN to COMMIT or ROLLBACK: a failed statement cannot be sent again then. */
  inTransaction = false;
  /** The BEGIN of a transaction that has not run a statement yet; sent with the first one. */
  pendingBegin: CompiledQuery | undefined;
  /**
   * Set when a statement of the open transaction failed because the connection was lost: the
   * server rolled back what the transaction had done on it. Should the transaction go on (the
   * failure caught, the first statement sent again on a replacement client), COMMIT would keep
   * only part of it: ROLLBACK goes out instead, and the commit fails with {@link TransactionAbortedError}.
   */
  transactionLost = false;
  readonly #driver: PostgresDriver;

  constructor(client: PgPoolClient, state: ClientState, driver: PostgresDriver) {
    this.client = client;
    this.state = state;
    this.#driver = driver;
  }

  /** The physical connection's id (`pg:3`); it changes if a dead client is replaced. */
  get id(): string {
    return this.state.id;
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    // One promise per statement: pg answers through a callback, and only a failure takes the async path.
    return new Promise<QueryResult<R>>((resolve) => this.start(compiledQuery, resolve));
  }

  /**
   * Sends `compiledQuery` and settles `resolve` with its result, or with a promise of the outcome
   * when it failed (a recovery may replace the client and send it again): `executeQuery` without
   * a promise of its own, for a caller that has one already.
   */
  start<R>(compiledQuery: CompiledQuery, resolve: (result: QueryResult<R> | Promise<QueryResult<R>>) => void): void {
    const first = this.statements++ === 0;
    // Taken as the statement starts: COMMIT or ROLLBACK clears the flag before it is sent, and a
    // statement still in flight then (one the session forgot to await) belongs to the transaction.
    const inTransaction = this.inTransaction;
    // The dead client was destroyed and none could replace it: the transaction is lost.
    if (this.clientGone) {
      if (inTransaction) this.#lostInTransaction();
      resolve(Promise.reject(toDatabaseError(this.state.broken ?? new Error('Connection terminated'), this.#driver.displayUrl)));
      return;
    }
    // Taken at once: a statement started beside this one goes out behind this BEGIN, not with another.
    const begin = this.pendingBegin;
    this.pendingBegin = undefined;
    const driver = this.#driver;
    let key = driver.namedStatements ? statementName(compiledQuery) : undefined;
    // A builder statement is named only when that was asked for, and then counts against its own budget.
    let builder = false;
    if (key === undefined && driver.namedBuilderStatements) {
      key = driver.recurring.name(compiledQuery.sql, compiledQuery.parameters.length);
      builder = key !== undefined;
    }
    const statement: Statement = {
      query: compiledQuery,
      begin,
      key,
      builder,
      first,
      inTransaction,
      unnamed: false,
      attempt: 0,
      answered: 0,
    };
    this.#attempt(statement, resolve);
  }

  /** Sends `statement` once and settles `resolve` with its result, or with {@link #recover}'s outcome when it failed. */
  #attempt<R>(statement: Statement, resolve: (result: QueryResult<R> | Promise<QueryResult<R>>) => void): void {
    const { key } = statement;
    const name = key === undefined || statement.unnamed ? undefined : this.#driver.statementNames.current(key);
    const attempt = statement.attempt;
    try {
      const answered = this.#callback(statement, attempt, name, resolve);
      if (statement.begin === undefined) this.#send(statement.query, name, statement.builder, answered);
      else this.#beginWith(statement.begin, statement.query, name, statement.builder, answered);
    } catch (error) {
      this.#answered(statement, attempt, name, resolve, error instanceof Error ? error : new Error(String(error)), undefined);
    }
  }

  /** pg's callback for attempt `attempt` of `statement`: the one closure an attempt makes. */
  #callback<R>(
    statement: Statement,
    attempt: number,
    name: string | undefined,
    resolve: (result: QueryResult<R> | Promise<QueryResult<R>>) => void,
  ): PgCallback {
    return (error, result) => this.#answered(statement, attempt, name, resolve, error, result);
  }

  /**
   * Settles attempt `attempt` of `statement` with pg's answer. pg may call a statement's callback
   * twice (in pipeline mode, for a value that fails to serialise): only the first call counts,
   * the statement's promise having settled by then.
   */
  #answered<R>(
    statement: Statement,
    attempt: number,
    name: string | undefined,
    resolve: (result: QueryResult<R> | Promise<QueryResult<R>>) => void,
    error: Error | null | undefined,
    result: PgResult | undefined,
  ): void {
    if (statement.answered > attempt) return;
    statement.answered = attempt + 1;
    if ((error === null || error === undefined) && result !== undefined) {
      // An aborted transaction's COMMIT succeeds with the command tag ROLLBACK: every write was undone.
      if (result.command !== 'ROLLBACK' || statement.query !== COMMIT) {
        resolve(queryResult<R>(result));
        return;
      }
      resolve(this.#recover<R>(statement, name, new TransactionAbortedError()));
      return;
    }
    resolve(this.#recover<R>(statement, name, error ?? new Error('The server sent no result')));
  }

  /**
   * Handles a failed attempt as {@link #retry} does; a statement of the open transaction that
   * fails for good because the connection was lost marks the transaction lost (see {@link transactionLost}).
   * What counts is the error finally thrown: a statement sent again on a replacement client that
   * fails there with an ordinary SQL error (a unique violation, say) leaves the transaction
   * aborted by the server as any failed statement does, and a caught one makes COMMIT fail as
   * such, not as a lost connection to be run again.
   */
  async #recover<R>(statement: Statement, name: string | undefined, error: unknown): Promise<QueryResult<R>> {
    const attempt = statement.attempt;
    try {
      return await this.#retry<R>(statement, name, error);
    } catch (failure) {
      const sentAgain = statement.attempt > attempt;
      if (statement.inTransaction && isConnectionLost(sentAgain ? failure : error)) this.#lostInTransaction();
      throw failure;
    }
  }

  /** Marks the open transaction lost, if one is still open on this checkout. */
  #lostInTransaction(): void {
    if (this.#open(true)) this.transactionLost = true;
  }

  /**
   * Handles a failed attempt: renames or forgets a named statement the server no longer holds,
   * and sends the statement again where that is safe (outside a transaction after a stale plan
   * or a missing statement; on a replacement client when a reused one turned out dead on the
   * checkout's first statement). Otherwise the error, made safe to surface.
   */
  async #retry<R>(statement: Statement, name: string | undefined, error: unknown): Promise<QueryResult<R>> {
    const { key, inTransaction, first } = statement;
    if (key !== undefined && name !== undefined) {
      if (isStalePlan(error)) {
        // Later calls use a new name; outside a transaction the failed statement changed nothing: send it again at once.
        // It goes out unnamed, parsed afresh however the server (or PgBouncer, which keys statements by their text) keeps named ones.
        this.#driver.statementNames.renew(key);
        if (!inTransaction && this.#open(false) && statement.attempt === 0) {
          statement.unnamed = true;
          return this.#again<R>(statement);
        }
      } else if (isMissingStatement(error)) {
        // pg counted the statement as parsed on this connection, the server does not hold it: parse it again.
        this.#forget(name);
        if (!inTransaction && this.#open(false) && statement.attempt === 0) return this.#again<R>(statement);
      } else if (isClientSideFailure(error)) {
        // A value failed to serialise: pg closed the statement on this connection's server session, and
        // may still count it as parsed once the server answers. Only this connection lost it: its next
        // use here parses it again, under the same name; other connections keep theirs.
        this.#closed(name);
      }
    }
    const lost = isConnectionLost(error);
    if (lost) this.state.broken ??= error as Error;
    // Nothing of it reached the server (pg refused to write it), it carried BEGIN and so ran in a
    // transaction the server rolled back, or it only reads.
    const unsent = isUnsent(error);
    const repeatable = unsent || statement.begin !== undefined || onlyReads(statement.query.query);
    // Outside a transaction (a COMMIT included), a statement that may have reached the server may have
    // been applied, unless it only reads.
    const failure = () => toDatabaseError(error, this.#driver.displayUrl, !inTransaction && !repeatable);
    // Once released, the client may be someone else's; once its transaction ended, COMMIT or
    // ROLLBACK went out behind it: nothing is sent again then, nothing replaced.
    if (
      !(
        lost &&
        repeatable &&
        first &&
        this.#open(inTransaction) &&
        this.state.checkouts > 1 &&
        statement.attempt <= this.#driver.maxConnections
      )
    ) {
      throw failure();
    }
    await this.#driver.replace(this);
    if (!this.#open(inTransaction)) throw failure();
    return this.#again<R>(statement);
  }

  /** Sends `statement` once more (a BEGIN it carries goes with it again). */
  #again<R>(statement: Statement): Promise<QueryResult<R>> {
    statement.attempt++;
    return new Promise<QueryResult<R>>((resolve) => this.#attempt(statement, resolve));
  }

  /** Whether a statement started in (or out of) a transaction may still be sent again on this checkout. */
  #open(inTransaction: boolean): boolean {
    return !this.released && (!inTransaction || this.inTransaction);
  }

  /**
   * Queues `compiledQuery` on the client: as the named statement `name` when given, which the
   * server parses once per connection; else as an unnamed one. A `builder` statement counts
   * against the builder's budget, unless a prepared query with the same SQL already holds it.
   */
  #send(compiledQuery: CompiledQuery, name: string | undefined, builder: boolean, answered: PgCallback): void {
    const parameters = compiledQuery.parameters as unknown[];
    if (name === undefined) {
      this.client.query(compiledQuery.sql, parameters, answered);
      return;
    }
    const { state } = this;
    if (state.closed?.delete(name) === true) this.#unparse(name);
    let budget = state.statements;
    if (builder && !budget.has(name)) budget = state.builderStatements;
    else state.builderStatements.forget(name);
    const evicted = budget.use(name, compiledQuery.sql);
    if (evicted !== undefined) this.#deallocate(evicted.name, evicted.sql, budget);
    this.client.query({ name, text: compiledQuery.sql, values: parameters }, answered);
  }

  /**
   * Closes the named statement `name` on the server, queued before whatever is sent next. It uses
   * the protocol's Close message rather than SQL `DEALLOCATE`: closing a statement the server does
   * not hold is no error (so it cannot fail the transaction it travels in), and PgBouncer maps it
   * onto its own server statements. Should it fail all the same, the statement is tracked again.
   */
  #deallocate(name: string, sql: string, budget: ConnectionStatements): void {
    const { client } = this;
    const parsed = client.connection?.parsedStatements;
    if (parsed !== undefined) delete parsed[name];
    client.query(
      closeStatement(name, (error) => {
        if (error === undefined) return;
        if (parsed !== undefined && parsed[name] === undefined) parsed[name] = sql;
        budget.restore(name, sql);
      }),
    );
  }

  /** Forgets that this connection holds the named statement `name`, so that pg parses it again. */
  #forget(name: string): void {
    const parsed = this.client.connection?.parsedStatements;
    if (parsed !== undefined) delete parsed[name];
    this.state.statements.forget(name);
    this.state.builderStatements.forget(name);
  }

  /**
   * Records that pg closed the named statement `name` on this connection. pg may yet mark it
   * parsed, when the answer to the Parse sent with the failed statement arrives; so it is
   * forgotten again at its next use here, which the server receives after the Close.
   */
  #closed(name: string): void {
    this.#forget(name);
    this.state.closed ??= new Set();
    this.state.closed.add(name);
  }

  /** Makes pg parse the named statement `name` again at its next use on this connection. */
  #unparse(name: string): void {
    const connection = this.client.connection;
    if (connection === undefined) return;
    if (connection.parsedStatements !== undefined) delete connection.parsedStatements[name];
    if (connection.submittedNamedStatements !== undefined) delete connection.submittedNamedStatements[name];
  }

  /**
   * Sends `begin` and `compiledQuery` in one write, and answers the statement's outcome once both
   * were answered (the server answers them in order). Should BEGIN fail, its error is the answer:
   * the statement's own outcome no longer matters. Each is counted once, even should pg call its
   * callback twice (it may, in pipeline mode, for a value that fails to serialise).
   */
  #beginWith(begin: CompiledQuery, compiledQuery: CompiledQuery, name: string | undefined, builder: boolean, answered: PgCallback): void {
    const { client } = this;
    const stream = client.connection?.stream;
    let beginAnswered = false;
    let statementAnswered = false;
    let beginError: Error | null | undefined = null;
    let statementError: Error | null | undefined = null;
    let statementResult: PgResult | undefined;
    const settle = (): void => {
      if (!beginAnswered || !statementAnswered) return;
      if (beginError !== null && beginError !== undefined) answered(beginError);
      else answered(statementError, statementResult);
    };
    stream?.cork?.();
    try {
      client.query(begin.sql, NO_PARAMETERS, (error) => {
        if (beginAnswered) return;
        beginAnswered = true;
        beginError = error;
        settle();
      });
      // Should the statement fail to queue, it is answered at once by the caller and BEGIN's answer then waits for nothing.
      this.#send(compiledQuery, name, builder, (error, result) => {
        if (statementAnswered) return;
        statementAnswered = true;
        statementError = error;
        statementResult = result;
        settle();
      });
    } finally {
      stream?.uncork?.();
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield await this.executeQuery<R>(compiledQuery);
  }
}

/**
 * A Kysely driver over a `pg` pool: every client gets an `'error'` listener (a backend lost
 * while a client is checked out must fail its transaction, not crash the process), dead
 * clients are replaced before use, a checkout waits at most `DB_ACQUIRE_TIMEOUT_MS` and then
 * fails with a {@link PoolTimeoutError} naming the pool's state.
 */
export class PostgresDriver implements Driver {
  readonly #pool: PgPool;
  readonly #config: PostgresDriverConfig;
  readonly #states = new WeakMap<PgPoolClient, ClientState>();
  readonly #checkedOut = new Set<PostgresConnection>();
  /** The rejections of checkouts waiting for the pool: closing fails them at once rather than at the acquire timeout. */
  readonly #waiting = new Set<(error: Error) => void>();
  /** The server names of named statements on this pool's connections. */
  readonly statementNames = new StatementNames();
  /** The names of the query builder's recurring statements. */
  readonly recurring = new RecurringStatements();
  #nextId = 1;
  #closing = false;
  #destroyed: Promise<void> | undefined;

  constructor(pool: PgPool, config: PostgresDriverConfig) {
    this.#pool = pool;
    this.#config = config;
    pool.on('connect', (client) => this.#track(client));
    // An idle client whose backend went away: pg-pool drops it; without this listener the
    // pool's 'error' event would crash the process.
    pool.on('error', (error) => {
      config.logger.warn({ err: error, url: config.displayUrl }, 'database: an idle connection was lost and removed from the pool');
    });
  }

  /** Whether prepared queries go out as named statements. */
  get namedStatements(): boolean {
    return this.#config.namedStatements !== false;
  }

  /** Whether the query builder's recurring statements go out as named statements: only when asked for, and with {@link namedStatements}. */
  get namedBuilderStatements(): boolean {
    return this.#config.namedBuilderStatements === true && this.namedStatements;
  }

  get maxConnections(): number {
    return this.#config.maxConnections;
  }

  get displayUrl(): string {
    return this.#config.displayUrl;
  }

  #track(client: PgPoolClient): ClientState {
    const state: ClientState = {
      id: `pg:${this.#nextId++}`,
      broken: undefined,
      checkouts: 0,
      statements: new ConnectionStatements(),
      builderStatements: new ConnectionStatements(BUILDER_STATEMENTS_PER_CONNECTION),
    };
    this.#states.set(client, state);
    client.on('error', (error) => {
      state.broken ??= error;
      this.#config.logger.warn({ err: error, connectionId: state.id }, 'database: a connection was lost');
    });
    client.on('end', () => {
      state.broken ??= new Error('Connection terminated');
    });
    return state;
  }

  async init(): Promise<void> {}

  /** The error a failed checkout throws. */
  #checkoutFailure(error: unknown): Error {
    if (error instanceof Error && error.message === POOL_QUEUE_TIMEOUT)
      return new PoolTimeoutError(this.#config.acquireTimeoutMs, this.stats());
    if (error instanceof Error && /after calling end on the pool/.test(error.message)) return new DatabaseClosedError();
    return toDatabaseError(error, this.#config.displayUrl);
  }

  /** Counts a checkout of `client`: its state when it is alive, else undefined (it is then destroyed). */
  #live(client: PgPoolClient): ClientState | undefined {
    const state = this.#states.get(client) ?? this.#track(client);
    state.checkouts++;
    if (state.broken === undefined) return state;
    client.release(state.broken);
    return undefined;
  }

  /**
   * Checks out a live client, skipping any already known to be broken. One promise per checkout:
   * the pool answers through a callback.
   */
  acquireConnection(): Promise<DatabaseConnection> {
    return new Promise<DatabaseConnection>((resolve, reject) => this.#checkout(resolve, reject));
  }

  #checkout(resolve: (connection: DatabaseConnection) => void, reject: (error: Error) => void): void {
    if (this.#closing) {
      reject(new DatabaseClosedError());
      return;
    }
    this.#waiting.add(reject);
    try {
      this.#pool.connect((error, client) => this.#checkedOutFor(resolve, reject, error, client));
    } catch (error) {
      // The pool threw rather than calling back: the checkout waits no longer, and fails as one that did.
      if (this.#waiting.delete(reject)) reject(this.#checkoutFailure(error));
      else throw error;
    }
  }

  /** Answers a checkout waiting on the pool with the client (or the error) the pool handed it. */
  #checkedOutFor(
    resolve: (connection: DatabaseConnection) => void,
    reject: (error: Error) => void,
    error: Error | null | undefined,
    client: PgPoolClient | undefined,
  ): void {
    if (!this.#waiting.delete(reject)) {
      // Failed by destroy() while it waited: a client it gets now is destroyed, the pool having ended.
      client?.release(true);
      return;
    }
    if (error !== undefined && error !== null) {
      reject(this.#checkoutFailure(error));
      return;
    }
    if (client === undefined) {
      reject(toDatabaseError(new Error('The pool handed out no client'), this.#config.displayUrl));
      return;
    }
    let connection: PostgresConnection | undefined;
    try {
      const state = this.#live(client);
      if (state === undefined) {
        this.#checkout(resolve, reject);
        return;
      }
      connection = new PostgresConnection(client, state, this);
      this.#checkedOut.add(connection);
      this.#config.onPoolChange?.();
      resolve(connection);
    } catch (failure) {
      const error = failure instanceof Error ? failure : new Error(String(failure));
      // Nobody gets the connection: it goes back to the pool, destroyed, rather than staying checked out.
      if (connection !== undefined && this.#checkedOut.delete(connection)) client.release(error);
      reject(error);
    }
  }

  /**
   * Runs one statement on a connection checked out for it alone, as `acquireConnection`,
   * `executeQuery` and `releaseConnection` in turn do, with one promise in all rather than one
   * each (as `pg`'s `pool.query` does): the checkout, the statement and the release answer
   * through callbacks. Everything else is theirs: a dead reused client replaced on the statement
   * where sending it again is safe, the connection released only once that recovery finished,
   * {@link DatabaseClosedError} when closing, {@link PoolTimeoutError} when none came in time,
   * the gauges refreshed on checkout and release, and the connection counted in {@link inUse}
   * meanwhile. A failed release fails the statement, as it does after `releaseConnection`.
   */
  executeAlone<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return new Promise<QueryResult<R>>((resolve, reject) =>
      this.#checkout((connection) => this.#runAlone(connection as PostgresConnection, compiledQuery, resolve, reject), reject),
    );
  }

  /** Runs `compiledQuery` on `connection`, checked out for it alone, and releases it once the statement (and any recovery) settled. */
  #runAlone<R>(
    connection: PostgresConnection,
    compiledQuery: CompiledQuery,
    resolve: (result: QueryResult<R>) => void,
    reject: (error: unknown) => void,
  ): void {
    try {
      connection.start<R>(compiledQuery, (outcome) => {
        if (!(outcome instanceof Promise)) {
          this.#handBackThen(connection, resolve, reject, outcome);
          return;
        }
        outcome.then(
          (result) => this.#handBackThen(connection, resolve, reject, result),
          (error: unknown) => this.#handBackFailed(connection, reject, error),
        );
      });
    } catch (error) {
      // The statement never went out: its healthy connection goes back as after any failed statement.
      this.#handBackFailed(connection, reject, error);
    }
  }

  /** Releases `connection`, then fails with `error`, or with the release's error should it fail. */
  #handBackFailed(connection: PostgresConnection, reject: (error: unknown) => void, error: unknown): void {
    const failed = this.#handBack(connection);
    reject(failed === HANDED_BACK ? error : failed);
  }

  /** Releases `connection`, then answers `result`, or the release's error should it fail. */
  #handBackThen<R>(
    connection: PostgresConnection,
    resolve: (result: QueryResult<R>) => void,
    reject: (error: unknown) => void,
    result: QueryResult<R>,
  ): void {
    const failed = this.#handBack(connection);
    if (failed === HANDED_BACK) resolve(result);
    else reject(failed);
  }

  /** Destroys a connection's dead client and checks out another in its place. */
  async replace(connection: PostgresConnection): Promise<void> {
    // A released connection's client went back to the pool (or was destroyed) already.
    if (connection.released) throw toDatabaseError(connection.state.broken ?? new Error('Connection terminated'), this.displayUrl);
    this.#config.logger.debug({ connectionId: connection.state.id }, 'database: replacing a dead connection');
    connection.client.release(connection.state.broken ?? true);
    connection.clientGone = true;
    // Checked out as any connection; only its client and state move over.
    const replacement = (await this.acquireConnection()) as PostgresConnection;
    this.#checkedOut.delete(replacement);
    replacement.released = true;
    if (connection.released) {
      // Released while the replacement was checked out: it goes straight back to the pool.
      replacement.client.release();
      this.#config.onPoolChange?.();
      throw toDatabaseError(connection.state.broken ?? new Error('Connection terminated'), this.displayUrl);
    }
    connection.client = replacement.client;
    connection.state = replacement.state;
    connection.clientGone = false;
  }

  /*
   * BEGIN, COMMIT, ROLLBACK and the release of a connection do their work synchronously or hand
   * back the statement's own promise: not async functions, so that each costs no promise of its
   * own (inside withSession every promise also pays AsyncLocalStorage's hook).
   */

  /** Defers BEGIN to the transaction's first statement, which carries it (see {@link PostgresConnection}). */
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const postgres = connection as PostgresConnection;
    postgres.pendingBegin = compiledBegin(settings);
    postgres.inTransaction = true;
    postgres.transactionLost = false;
    return DONE;
  }

  /** Commits, unless a statement of the transaction was lost with its connection: then rolls back and fails (see {@link rollBackLost}). */
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    const postgres = connection as PostgresConnection;
    postgres.inTransaction = false;
    if (postgres.transactionLost) return rollBackLost(postgres);
    if (endPendingBegin(connection)) return DONE;
    return connection.executeQuery(COMMIT) as Promise<unknown> as Promise<void>;
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const postgres = connection as PostgresConnection;
    postgres.inTransaction = false;
    postgres.transactionLost = false;
    if (endPendingBegin(connection)) return DONE;
    return connection.executeQuery(ROLLBACK) as Promise<unknown> as Promise<void>;
  }

  async savepoint(connection: DatabaseConnection, name: string, _compile: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint "${name}"`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, _compile: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint "${name}"`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, _compile: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint "${name}"`));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    const failed = this.#handBack(connection as PostgresConnection);
    return failed === HANDED_BACK ? DONE : Promise.reject(failed);
  }

  /** Hands `connection`'s client back to the pool (destroyed if broken) once: {@link HANDED_BACK}, or what went wrong doing so. */
  #handBack(connection: PostgresConnection): unknown {
    if (connection.released) return HANDED_BACK;
    connection.released = true;
    this.#checkedOut.delete(connection);
    try {
      if (!connection.clientGone) connection.client.release(connection.state.broken);
      this.#config.onPoolChange?.();
    } catch (error) {
      return error;
    }
    return HANDED_BACK;
  }

  /** The pool's counts. */
  stats(): PoolStats {
    return {
      total: this.#pool.totalCount,
      idle: this.#pool.idleCount,
      // Once closing, every checkout still in pg's queue has failed already (see destroy): none waits.
      waiting: this.#closing ? 0 : this.#pool.waitingCount,
      max: this.#config.maxConnections,
    };
  }

  /** Connections checked out now. */
  get inUse(): number {
    return this.#checkedOut.size;
  }

  /**
   * Closes every connection: checkouts still waiting for one fail with {@link DatabaseClosedError},
   * checked-out ones are destroyed (their transactions fail), then the pool ends. Idempotent: a
   * second call answers the first one's promise (pg's pool ends only once).
   */
  destroy(): Promise<void> {
    this.#destroyed ??= this.#destroy();
    return this.#destroyed;
  }

  async #destroy(): Promise<void> {
    this.#closing = true;
    // pg's pool stops serving its queue once it ends, and drops its waiters only at the acquire
    // timeout: they fail here instead, and stats() no longer counts them.
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const reject of waiting) reject(new DatabaseClosedError());
    for (const connection of this.#checkedOut) {
      connection.released = true;
      connection.state.broken ??= new Error('The database was closed');
      if (!connection.clientGone) connection.client.release(connection.state.broken);
    }
    this.#checkedOut.clear();
    try {
      await this.#pool.end();
    } catch (error) {
      this.#config.logger.warn({ err: new Error(scrubSecrets(String(error))) }, 'database: closing the pool failed');
    }
  }
}

/** The part of pg's protocol connection a Close of a named statement writes to. */
interface PgProtocolConnection {
  close(message: { type: 'S'; name: string }): void;
  sync(): void;
}

/**
 * A `pg` query that sends only Close for the named statement `name`, then Sync: the server
 * answers CloseComplete and ReadyForQuery, which pg routes to this query as to any other, so it
 * keeps its place in the pipeline.
 */
function closeStatement(name: string, done: (error: Error | undefined) => void): pg.Query {
  const query = new pg.Query({ text: '' }, undefined, (error: Error | undefined) => done(error ?? undefined));
  query.submit = (connection) => {
    const protocol = connection as unknown as PgProtocolConnection;
    protocol.close({ type: 'S', name });
    protocol.sync();
  };
  return query;
}

/** Whether a query builder statement only reads: a select, and every common table expression it has one too. */
function onlyReads(node: OperationNode): boolean {
  if (!SelectQueryNode.is(node)) return false;
  return node.with === undefined || node.with.expressions.every((expression) => onlyReads(expression.expression));
}

/**
 * Ends a transaction that lost a statement with its connection: ROLLBACK in place of COMMIT (on
 * a replacement client, the statements sent there are undone), then a retryable
 * {@link TransactionAbortedError}, whatever ROLLBACK answered: nothing was committed either way.
 * A failed ROLLBACK (the client is the dead one still) is the error's cause.
 */
async function rollBackLost(connection: PostgresConnection): Promise<void> {
  connection.transactionLost = false;
  let cause: unknown;
  if (!endPendingBegin(connection)) {
    try {
      await connection.executeQuery(ROLLBACK);
    } catch (error) {
      cause = error;
    }
  }
  throw new TransactionAbortedError(LOST_TRANSACTION, { cause, retryable: true });
}

/** Ends a transaction that never ran a statement, and so never began on the server: true if it was one. */
function endPendingBegin(connection: DatabaseConnection): boolean {
  const postgres = connection as PostgresConnection;
  if (postgres.pendingBegin === undefined) return false;
  postgres.pendingBegin = undefined;
  return true;
}
