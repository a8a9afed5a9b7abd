import type { Compilable, Kysely, Transaction } from 'kysely';
import type { DatabaseDialect } from '../config/app-config.js';
import type { HealthCheck } from '../observability/health.js';
import type { MigrationReport, MigrationScope, MigrationState } from './migrations/migration-runner.js';
import type { PoolStats } from './pool-stats.js';
import type { PreparedQuery } from './prepared-query.js';
import type { ReplicaStatus } from './replicas/replica-set.js';

/** Options of one {@link Database.withSession} call. Nested calls (savepoints) ignore them. */
export interface SessionOptions {
  /** PostgreSQL and PGlite; SQLite transactions are always serializable. */
  readonly isolationLevel?: 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';
  /**
   * A read-only transaction: writes fail (on SQLite through `query_only`). With read replicas
   * (`DATABASE_REPLICA_URLS`) it runs on a healthy replica, round robin, and may see data up to
   * `DB_REPLICA_MAX_LAG_MS` old; on the primary when no replica is healthy. @default false
   */
  readonly readOnly?: boolean;
  /**
   * Where a read-only session may run: `replica` (the default) lets it go to a read replica;
   * `primary` keeps it on the primary, so it sees every write committed before it
   * (read-your-writes). Sessions that are not read-only always run on the primary.
   * @default 'replica'
   */
  readonly consistency?: 'replica' | 'primary';
}

/** The current unit of work, as the seed's `DatabaseSession`. */
export interface DatabaseSession<DB> {
  /** Inside `withSession`, the current transaction; outside, the pooled query builder. */
  readonly session: Kysely<DB>;
  /** The physical connection the transaction runs on (`pg:3`, `sqlite:0`), or `pool` outside a transaction. */
  readonly connectionId: string;
}

/** The outcome of {@link Database.validateConnection}. */
export interface ConnectionCheck {
  readonly ok: boolean;
  /** Round trip of `SELECT 1`, in milliseconds. */
  readonly latencyMs: number;
  /** Why it failed, free of secrets. */
  readonly error?: string;
}

/**
 * A typed database over SQLite, PGlite or PostgreSQL. Application modules get it from
 * Groundwork and never open connections themselves.
 */
export interface Database<DB> {
  /** The Kysely query builder over the pool. Prefer {@link Database.withSession} for anything that writes twice. */
  readonly db: Kysely<DB>;
  readonly dialect: DatabaseDialect;
  /**
   * A query builder for reads: each query runs on a healthy read replica, round robin (on the
   * primary when none is, or when no replica is configured). Its data may be up to
   * `DB_REPLICA_MAX_LAG_MS` old; use {@link Database.db} to read your own writes. With replicas
   * configured it refuses `insert`, `update`, `delete` and `merge` before sending them, and a
   * write it cannot see (raw SQL, a data-modifying `with`) fails on the server: a replica refuses
   * it, and on the primary each statement runs in a `READ ONLY` transaction of its own. Without
   * replicas it is {@link Database.db} itself.
   */
  readonly dbRead: Kysely<DB>;
  /**
   * Runs `fn` in a transaction: commits when it resolves, rolls back and rethrows when it
   * throws. Called inside another `withSession` (of this database), it runs in a savepoint:
   * its failure rolls back only its own work. Sibling nested calls run one after another, and a
   * statement of the enclosing session sent while a nested call is open waits until it has
   * finished, so that its rollback never undoes the enclosing session's work. A nested function
   * may await statements the enclosing session sent before calling it, but not ones it sends
   * afterwards: those wait for the nested call, which would then never finish.
   */
  withSession<T>(fn: (tx: Transaction<DB>) => Promise<T>, options?: SessionOptions): Promise<T>;
  /** The current transaction (inside `withSession`) or the pool, with its connection id. */
  getDatabaseSession(): DatabaseSession<DB>;
  /**
   * Builds and compiles a query once, for a query shape run many times: `build` gets the query
   * builder and a parameters object whose properties stand for each call's values (type it:
   * `(db, params: { id: number }) => …`). Each `execute(values)` skips Kysely's build and compile
   * and runs in the current session: the transaction inside `withSession`, the pool outside. On
   * PostgreSQL it is sent as a named statement, which the server parses once per connection.
   * Prepare once, at module scope: each call of `prepare` builds and compiles again.
   *
   * @throws {PreparedQueryError} a parameter is used other than as a value of the statement (in
   * JavaScript, or on the right of `in`, where a list goes).
   */
  prepare<P extends object, R>(build: (db: Kysely<DB>, params: P) => Compilable<R>): PreparedQuery<DB, P, R>;
  /** Runs `SELECT 1` and measures it; never throws. */
  validateConnection(): Promise<ConnectionCheck>;
  /**
   * `up`: applies pending migrations (Groundwork's, then the application's). `down`: reverts the
   * latest one. With a `scope`, only Groundwork's (`groundwork`) or only the application's (`app`).
   */
  migrate(direction?: 'up' | 'down', scope?: MigrationScope): Promise<MigrationReport>;
  /** Every migration, Groundwork's and the application's, and whether it ran. */
  migrationStatus(): Promise<MigrationState[]>;
  /** The pool's counts now (embedded databases: one serialised connection). */
  poolStats(): PoolStats;
  /** The `database` check for `health()`: required, `down` when `SELECT 1` fails. */
  readonly healthCheck: HealthCheck;
  /** The `database:replicas` check (each replica's state and lag), when replicas are configured. */
  readonly replicaHealthCheck?: HealthCheck;
  /** Each read replica's state, lag and pool (empty without replicas). */
  replicaStatus(): ReplicaStatus[];
  /**
   * Stops new sessions, waits for running transactions up to `DB_CLOSE_TIMEOUT_MS`, then closes
   * every connection (transactions still running fail). Idempotent.
   */
  close(): Promise<void>;
}
