import { CompiledQuery } from 'kysely';
import type PgBoss from 'pg-boss';
import type { Clock } from '../internal/clock.js';
import {
  type AnySession,
  type CancelOptions,
  type ClaimedJob,
  emptyCounts,
  type JobData,
  type JobEngine,
  LEASE_GRACE_MS,
  type NewJob,
  type ReleaseOptions,
  readJson,
} from './job-engine.js';
import { JOB_STATES, type JobSnapshot, type JobState, type ListJobsOptions, type QueueStatus } from './job-types.js';

/** What pg-boss needs of a connection: one method. */
type BossDb = { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };

/** pg-boss's connection over a Kysely instance: the pool, or a transaction (for enqueue and completion). */
function bossDb(db: AnySession): BossDb {
  return {
    async executeSql(text, values) {
      const result = await db.executeQuery(CompiledQuery.raw(text, values ?? []));
      return { rows: result.rows };
    },
  };
}

interface JobRow {
  id: string;
  name: string;
  state: JobState;
  priority: number;
  retry_count: number;
  retry_limit: number;
  created_on: Date;
  start_after: Date;
  started_on: Date | null;
  completed_on: Date | null;
  output: unknown;
}

/** The index of pg-boss's job table by id, in `JOBS_SCHEMA`. */
const ID_INDEX = 'job_groundwork_id_i';

/** A row a claim took. */
interface ClaimedRow {
  id: string;
  name: string;
  data: unknown;
  priority: number;
  created_on: Date;
  retry_count: number;
  started_on: Date;
  expire_in_seconds: string | number;
}

/**
 * The PostgreSQL queue: pg-boss (its own schema, `JOBS_SCHEMA`, created and migrated on first
 * use) over the application's connection pool, so that a job is enqueued and completed in the
 * application's transactions. Claims are pg-boss's `fetch` across names (`FOR UPDATE SKIP LOCKED`); a job's
 * lease is its `expireInSeconds`, after which `expire()` fails the run and pg-boss retries it.
 * A run's token is its claim's `retry_count` and `started_on`; `complete` and `fail` lock the job's
 * row and go on only while the job is active under that token, as the table engine does with its
 * `run_token`.
 */
export class PgBossJobEngine implements JobEngine {
  readonly name = 'pg-boss';
  readonly #db: AnySession;
  readonly #schema: string;
  readonly #clock: Clock;
  #boss: PgBoss | undefined;
  readonly #queues = new Set<string>();
  #starting: Promise<void> | undefined;

  constructor(db: AnySession, options: { schema: string; clock: Clock }) {
    this.#db = db;
    this.#schema = options.schema;
    this.#clock = options.clock;
  }

  /** Loads pg-boss (on first use: it is not on the import path of applications without jobs) and migrates its schema. */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      const { default: PgBossClass } = await import('pg-boss');
      // No timers of pg-boss's own: the worker loop runs `expire()`; archiving is replaced by the result TTL.
      const boss = new PgBossClass({
        db: bossDb(this.#db) as PgBoss.Db,
        schema: this.#schema,
        supervise: false,
        schedule: false,
        migrate: true,
      });
      await boss.start();
      await this.#indexIds();
      this.#boss = boss;
    })().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  /**
   * Indexes pg-boss's job table by id alone. Its key is (name, id) per queue's partition, and a job is
   * looked up by its id only (get, has, payloadField, retry, cancel; wait polls get), which scanned
   * every partition whole. An index of the partitioned table is made on every partition, and on
   * each one pg-boss attaches for a new queue. Made once: created only when missing, as creating it
   * locks the table against writes while it is built.
   */
  async #indexIds(): Promise<void> {
    const index = `${this.#schema}.${ID_INDEX}`;
    const found = await this.#db.executeQuery<{ found: string | null }>(
      CompiledQuery.raw('SELECT to_regclass($1)::text AS found', [index]),
    );
    if (found.rows[0]?.found !== null && found.rows[0]?.found !== undefined) return;
    try {
      await this.#db.executeQuery(CompiledQuery.raw(`CREATE INDEX IF NOT EXISTS ${ID_INDEX} ON ${this.#schema}.job (id)`));
    } catch (error) {
      // Another process starting at the same moment made it first.
      const code = (error as { code?: unknown }).code;
      if (code !== '42P07' && code !== '23505') throw error;
    }
  }

  /** The started pg-boss. */
  async #started(): Promise<PgBoss> {
    await this.start();
    if (this.#boss === undefined) throw new Error('pg-boss did not start');
    return this.#boss;
  }

  async #queue(name: string): Promise<void> {
    if (this.#queues.has(name)) return;
    await (await this.#started()).createQueue(name); // idempotent
    this.#queues.add(name);
  }

  async insert(session: AnySession, job: NewJob): Promise<boolean> {
    await this.#queue(job.name);
    const id = await (await this.#started()).send(job.name, { ...job.data, resultTtlMs: job.resultTtlMs } as object, {
      id: job.id,
      priority: job.priority,
      startAfter: job.runAt,
      retryLimit: job.retryLimit,
      retryDelay: Math.ceil(job.retryDelayMs / 1000),
      retryBackoff: job.retryBackoff,
      // The lease, in whole seconds: the run's timeout and the grace after it.
      expireInSeconds: Math.ceil((job.timeoutMs + LEASE_GRACE_MS) / 1000),
      db: bossDb(session) as PgBoss.Db,
    });
    return id !== null;
  }

  /**
   * One claim across every name, highest priority first, then oldest: pg-boss's `fetch` takes one
   * name at a time, so a backlog of the first name a worker lists would starve the others (its
   * batch polls among them). The statement is pg-boss's own fetch (10.x) over `name = ANY($1)`: it
   * sets `state`, `started_on` and `retry_count` as that does. Its grouping of singleton and stately
   * queues is left out: Groundwork's queues are standard.
   */
  async claim(names: readonly string[], limit: number): Promise<ClaimedJob[]> {
    await this.start();
    if (names.length === 0 || limit < 1) return [];
    const result = await this.#db.executeQuery<ClaimedRow>(
      CompiledQuery.raw(
        `WITH next AS (
           SELECT name, id FROM ${this.#schema}.job
            WHERE name = ANY($1::text[]) AND state < 'active' AND start_after < now()
            ORDER BY priority DESC, created_on, id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
         )
         UPDATE ${this.#schema}.job j SET
           state = 'active',
           started_on = now(),
           retry_count = CASE WHEN j.started_on IS NOT NULL THEN j.retry_count + 1 ELSE j.retry_count END
           FROM next
          WHERE j.name = next.name AND j.id = next.id
          RETURNING j.id, j.name, j.data, j.priority, j.created_on, j.retry_count, j.started_on,
                    EXTRACT(epoch FROM j.expire_in) AS expire_in_seconds`,
        [[...names], limit],
      ),
    );
    // UPDATE … RETURNING keeps no order: the claim's own is restored.
    const rows = [...result.rows].sort(
      (a, b) => b.priority - a.priority || new Date(a.created_on).getTime() - new Date(b.created_on).getTime() || (a.id < b.id ? -1 : 1),
    );
    return rows.map((row) => {
      const { resultTtlMs: _ttl, ...data } = (readJson(row.data) ?? {}) as JobData & { resultTtlMs?: number };
      return {
        id: row.id,
        name: row.name,
        data: data as JobData,
        attempt: row.retry_count + 1,
        timeoutMs: Number(row.expire_in_seconds) * 1000 - LEASE_GRACE_MS,
        runToken: runToken(row.retry_count, row.started_on),
      };
    });
  }

  async complete(session: AnySession, job: ClaimedJob, result: unknown): Promise<boolean> {
    const boss = await this.#started();
    return held(session, async (tx) => {
      if (!(await this.#holds(tx, job))) return false;
      const outcome = (await boss.complete(job.name, job.id, { result: result ?? null }, { db: bossDb(tx) as PgBoss.Db })) as unknown as {
        affected: number;
      };
      return outcome.affected > 0;
    });
  }

  async fail(session: AnySession, job: ClaimedJob, error: string, options: { final?: boolean } = {}): Promise<boolean> {
    const boss = await this.#started();
    return held(session, async (tx) => {
      if (!(await this.#holds(tx, job))) return false;
      // pg-boss dead-letters a failed run whose retry_count has reached its retry_limit.
      if (options.final === true)
        await tx.executeQuery(
          CompiledQuery.raw(`UPDATE ${this.#schema}.job SET retry_limit = retry_count WHERE name = $1 AND id = $2`, [job.name, job.id]),
        );
      const outcome = (await boss.fail(job.name, job.id, { error }, { db: bossDb(tx) as PgBoss.Db })) as unknown as { affected: number };
      return outcome.affected > 0;
    });
  }

  /**
   * Whether `job`'s run still holds the job, locking its row until `tx` ends when it does. pg-boss's
   * own `complete` and `fail` check only the job's state, so without this a run whose lease passed
   * could finish the job for the run that claimed it again. The row lock keeps `expire()` and other
   * runs off the job until the completion that follows commits.
   */
  async #holds(tx: AnySession, job: ClaimedJob): Promise<boolean> {
    const token = parseRunToken(job.runToken);
    if (token === undefined) return false;
    // started_on has microseconds, the token milliseconds: a window of a millisecond either side finds
    // it. retry_count, raised by every claim but the first, tells the job's runs apart.
    const result = await tx.executeQuery(
      CompiledQuery.raw(
        `SELECT 1 FROM ${this.#schema}.job
          WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3
            AND started_on > to_timestamp($4::bigint / 1000.0) - interval '1 millisecond'
            AND started_on < to_timestamp($4::bigint / 1000.0) + interval '1 millisecond'
          FOR UPDATE`,
        [job.name, job.id, token.retryCount, token.startedOn],
      ),
    );
    return result.rows.length > 0;
  }

  /**
   * pg-boss has no release, so this undoes what its `fetch` did: a run's `retry_count` is raised
   * when a job that had started before is fetched again, so a first run forgets its start and a
   * later one lowers the count back; the next fetch raises it again to this same run's number.
   */
  async release(session: AnySession, job: ClaimedJob, error: string, options: ReleaseOptions = {}): Promise<boolean> {
    await this.start();
    // Only while this run holds the job, as for complete and fail: a run whose lease passed must not
    // hand back a job another run has claimed since.
    return held(session, async (tx) => {
      if (!(await this.#holds(tx, job))) return false;
      // An unrunnable job keeps when a worker first could not run it ($5, else null), across hand-backs.
      const released = await tx.executeQuery(
        CompiledQuery.raw(
          `UPDATE ${this.#schema}.job
              SET state = 'retry', start_after = now() + $4::bigint * interval '1 millisecond',
                  output = CASE WHEN $5::bigint IS NULL THEN $3::jsonb
                                ELSE $3::jsonb || jsonb_build_object('unrunnableSince', COALESCE(output->'unrunnableSince', to_jsonb($5::bigint))) END,
                  started_on = CASE WHEN retry_count = 0 THEN NULL ELSE started_on END,
                  retry_count = GREATEST(retry_count - 1, 0)
            WHERE name = $1 AND id = $2 AND state = 'active'
            RETURNING id`,
          [
            job.name,
            job.id,
            JSON.stringify({ error }),
            Math.max(0, Math.round(options.delayMs ?? 0)),
            options.unrunnable === true ? this.#clock.now() : null,
          ],
        ),
      );
      return released.rows.length > 0;
    });
  }

  async maintain(options: { purge: boolean }): Promise<void> {
    await (await this.#started()).expire();
    if (!options.purge) return;
    await this.#db.executeQuery(
      CompiledQuery.raw(
        `DELETE FROM ${this.#schema}.job
          WHERE state IN ('completed', 'failed', 'cancelled')
            AND completed_on + COALESCE((data->>'resultTtlMs')::bigint, 604800000) * interval '1 millisecond' < now()`,
      ),
    );
  }

  async #select(where: string, values: unknown[], tail = ''): Promise<JobRow[]> {
    await this.start();
    const result = await this.#db.executeQuery<JobRow>(
      CompiledQuery.raw(
        `SELECT id, name, state, priority, retry_count, retry_limit, created_on, start_after, started_on, completed_on, output
           FROM ${this.#schema}.job ${where} ${tail}`,
        values,
      ),
    );
    return result.rows;
  }

  async get(id: string): Promise<JobSnapshot | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.#select('WHERE id = $1', [id]);
    return row === undefined ? undefined : snapshot(row);
  }

  async has(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    await this.start();
    const result = await this.#db.executeQuery(CompiledQuery.raw(`SELECT 1 FROM ${this.#schema}.job WHERE id = $1`, [id]));
    return result.rows.length > 0;
  }

  async payloadField(id: string, field: string): Promise<unknown> {
    if (!isUuid(id)) return undefined;
    await this.start();
    const result = await this.#db.executeQuery<{ value: unknown }>(
      CompiledQuery.raw(`SELECT data->'payload'->$2 AS value FROM ${this.#schema}.job WHERE id = $1`, [id, field]),
    );
    return readJson(result.rows[0]?.value ?? undefined);
  }

  async list(options: ListJobsOptions): Promise<JobSnapshot[]> {
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (options.state !== undefined) {
      values.push(options.state);
      conditions.push(`state = $${values.length}::${this.#schema}.job_state`);
    }
    if (options.name !== undefined) {
      values.push(options.name);
      conditions.push(`name = $${values.length}`);
    }
    values.push(options.limit ?? 50);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const rows = await this.#select(where, values, `ORDER BY created_on DESC, id LIMIT $${values.length}`);
    return rows.map(snapshot);
  }

  async status(): Promise<QueueStatus> {
    await this.start();
    const counted = await this.#db.executeQuery<{
      name: string;
      state: JobState;
      count: string;
      oldest: Date | null;
      unrunnable: string;
      unrunnable_since: string | null;
    }>(
      CompiledQuery.raw(
        `SELECT name, state, count(*) AS count,
                min(start_after) FILTER (WHERE state < 'active' AND start_after <= now()) AS oldest,
                count(*) FILTER (WHERE state < 'active' AND output ? 'unrunnableSince') AS unrunnable,
                min((output->>'unrunnableSince')::bigint) FILTER (WHERE state < 'active' AND output ? 'unrunnableSince') AS unrunnable_since
           FROM ${this.#schema}.job GROUP BY name, state`,
      ),
    );
    const counts = emptyCounts();
    const byName: Record<string, Partial<Record<JobState, number>>> = {};
    let oldest: number | undefined;
    let unrunnable = 0;
    let unrunnableSince: number | undefined;
    for (const row of counted.rows) {
      if (!JOB_STATES.includes(row.state)) continue;
      counts[row.state] += Number(row.count);
      byName[row.name] = { ...byName[row.name], [row.state]: Number(row.count) };
      if (row.oldest !== null) oldest = Math.min(oldest ?? Number.POSITIVE_INFINITY, new Date(row.oldest).getTime());
      unrunnable += Number(row.unrunnable);
      if (row.unrunnable_since !== null)
        unrunnableSince = Math.min(unrunnableSince ?? Number.POSITIVE_INFINITY, Number(row.unrunnable_since));
    }
    const now = this.#clock.now();
    return {
      engine: 'pg-boss',
      counts,
      byName,
      oldestDueAgeMs: oldest === undefined ? 0 : Math.max(0, now - oldest),
      unrunnable,
      oldestUnrunnableAgeMs: unrunnableSince === undefined ? 0 : Math.max(0, now - unrunnableSince),
    };
  }

  async #byId(id: string): Promise<JobRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.#select('WHERE id = $1', [id]);
    return row;
  }

  async retry(id: string): Promise<boolean> {
    const row = await this.#byId(id);
    if (row === undefined) return false;
    if (row.state === 'cancelled') {
      const outcome = (await (await this.#started()).resume(row.name, id)) as unknown as { affected: number };
      return outcome.affected > 0;
    }
    const outcome = (await (await this.#started()).retry(row.name, id)) as unknown as { affected: number };
    return outcome.affected > 0;
  }

  async cancel(id: string, options: CancelOptions = {}): Promise<boolean> {
    const row = await this.#byId(id);
    if (row === undefined) return false;
    if (options.states !== undefined) {
      // pg-boss's cancel takes every state before completed, active included: only these, in one statement.
      const result = await this.#db.executeQuery(
        CompiledQuery.raw(
          `UPDATE ${this.#schema}.job SET completed_on = now(), state = 'cancelled' WHERE id = $1 AND state::text = ANY($2::text[])`,
          [id, [...options.states]],
        ),
      );
      return Number(result.numAffectedRows ?? 0) > 0;
    }
    const outcome = (await (await this.#started()).cancel(row.name, id)) as unknown as { affected: number };
    return outcome.affected > 0;
  }

  async close(): Promise<void> {
    // The pool is the application's and pg-boss runs no timers here: nothing to stop.
  }
}

/** Runs `work` in `session` when it is a transaction, else in a transaction of its own (the row lock must last until the completion commits). */
function held<T>(session: AnySession, work: (tx: AnySession) => Promise<T>): Promise<T> {
  return session.isTransaction ? work(session) : session.transaction().execute(work);
}

/**
 * A run's token: which claim of the job it is (pg-boss's `retry_count`, raised by every claim but
 * the first) and when that claim started (`started_on`, set by every claim).
 */
function runToken(retryCount: number, startedOn: Date): string {
  const started = new Date(startedOn).getTime();
  if (Number.isNaN(started)) throw new Error(`pg-boss returned a claimed job without a valid start time (${String(startedOn)})`);
  return `${retryCount}@${started}`;
}

/** A token's parts (`startedOn` in ms since the epoch); undefined when it is not one {@link runToken} made. */
function parseRunToken(token: string): { retryCount: number; startedOn: string } | undefined {
  const match = /^(\d{1,9})@(\d{1,15})$/.exec(token);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { retryCount: Number(match[1]), startedOn: match[2] };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isUuid(id: string): boolean {
  return UUID.test(id);
}

function snapshot(row: JobRow): JobSnapshot {
  const output = (readJson(row.output) ?? {}) as { result?: unknown; error?: string; value?: { message?: string }; message?: string };
  const error = output.error ?? output.value?.message ?? output.message;
  return {
    id: row.id,
    name: row.name,
    state: row.state,
    priority: row.priority,
    attempts: row.started_on === null ? 0 : row.retry_count + 1,
    maxAttempts: row.retry_limit + 1,
    createdAt: new Date(row.created_on),
    runAt: new Date(row.start_after),
    startedAt: row.started_on === null ? undefined : new Date(row.started_on),
    completedAt: row.completed_on === null ? undefined : new Date(row.completed_on),
    result: row.state === 'completed' ? (output.result ?? undefined) : undefined,
    error: row.state === 'completed' ? undefined : error,
  };
}
