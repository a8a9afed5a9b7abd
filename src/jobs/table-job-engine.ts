import { randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { JobsTable } from '../db/groundwork-tables.js';
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
  retryDelay,
  UNFINISHED_STATES,
} from './job-engine.js';
import { JOB_STATES, type JobSnapshot, type JobState, type ListJobsOptions, type QueueStatus } from './job-types.js';

type JobsDb = Kysely<{ groundwork_jobs: JobsTable }>;

/** What a stored run left in `output`: the result, or the last error (and since when no worker could run the job). */
interface StoredOutput {
  result?: unknown;
  error?: string;
  unrunnableSince?: number;
}

/** Matches the text of an `output` with `unrunnableSince` (the JSON of SQLite, or of PGlite's jsonb). */
const UNRUNNABLE_OUTPUT = '%"unrunnableSince"%';

/**
 * The embedded queue: the `groundwork_jobs` table (migration `0006_jobs`) on SQLite or PGlite.
 * Each claim is one `UPDATE … RETURNING` statement, atomic on the single writer these databases
 * have; a claimed job carries a run token and a lease (until `started_at` + `timeout_ms`), and
 * only the run holding both may complete or fail it.
 */
export class TableJobEngine implements JobEngine {
  readonly name = 'table';
  readonly #db: JobsDb;
  readonly #clock: Clock;

  constructor(db: AnySession, clock: Clock) {
    this.#db = db as JobsDb;
    this.#clock = clock;
  }

  async start(): Promise<void> {
    // The table comes with Groundwork's migrations (`initDb()` / `groundwork migrate up`).
  }

  async insert(session: AnySession, job: NewJob): Promise<boolean> {
    const result = await (session as JobsDb)
      .insertInto('groundwork_jobs')
      .values({
        id: job.id,
        name: job.name,
        data: JSON.stringify(job.data),
        state: 'created',
        priority: job.priority,
        run_at: job.runAt,
        attempts: 0,
        retry_limit: job.retryLimit,
        retry_delay_ms: job.retryDelayMs,
        retry_backoff: job.retryBackoff,
        timeout_ms: job.timeoutMs,
        result_ttl_ms: job.resultTtlMs,
        run_token: null,
        output: null,
        created_at: new Date(this.#clock.now()),
        started_at: null,
        completed_at: null,
        keep_until: null,
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async claim(names: readonly string[], limit: number): Promise<ClaimedJob[]> {
    if (names.length === 0 || limit <= 0) return [];
    const now = new Date(this.#clock.now());
    const token = randomUUID();
    const due = this.#db
      .selectFrom('groundwork_jobs')
      .select('id')
      .where('state', 'in', ['created', 'retry'])
      .where('run_at', '<=', now)
      .where('name', 'in', [...names])
      .orderBy('priority', 'desc')
      .orderBy('run_at')
      .orderBy('id')
      .limit(limit);
    const rows = await this.#db
      .updateTable('groundwork_jobs')
      .set({ state: 'active', attempts: sql`attempts + 1`, run_token: token, started_at: now })
      .where('id', 'in', due)
      .where('state', 'in', ['created', 'retry'])
      .returningAll()
      .execute();
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      data: readJson(row.data) as JobData,
      attempt: row.attempts,
      timeoutMs: row.timeout_ms,
      runToken: token,
    }));
  }

  async complete(session: AnySession, job: ClaimedJob, result: unknown): Promise<boolean> {
    const now = this.#clock.now();
    const row = await (session as JobsDb)
      .updateTable('groundwork_jobs')
      .set({
        state: 'completed',
        output: JSON.stringify({ result: result ?? null } satisfies StoredOutput),
        completed_at: new Date(now),
        keep_until: sql`NULL`,
        run_token: null,
      })
      .where('id', '=', job.id)
      .where('state', '=', 'active')
      .where('run_token', '=', job.runToken)
      .returning(['result_ttl_ms'])
      .executeTakeFirst();
    if (row === undefined) return false;
    await (session as JobsDb)
      .updateTable('groundwork_jobs')
      .set({ keep_until: new Date(now + (row.result_ttl_ms ?? 0)) })
      .where('id', '=', job.id)
      .execute();
    return true;
  }

  async fail(session: AnySession, job: ClaimedJob, error: string, options: { final?: boolean } = {}): Promise<boolean> {
    const found = await (session as JobsDb)
      .selectFrom('groundwork_jobs')
      .select(['attempts', 'retry_limit', 'retry_delay_ms', 'retry_backoff', 'result_ttl_ms'])
      .where('id', '=', job.id)
      .where('state', '=', 'active')
      .where('run_token', '=', job.runToken)
      .executeTakeFirst();
    if (found === undefined) return false;
    // A job retries while its runs are within its retry limit: a final failure lowers the limit to the runs made.
    const row = options.final === true ? { ...found, retry_limit: found.attempts - 1 } : found;
    const updated = await (session as JobsDb)
      .updateTable('groundwork_jobs')
      .set({ ...this.#failure(row, error), ...(options.final === true ? { retry_limit: row.retry_limit } : {}) })
      .where('id', '=', job.id)
      .where('run_token', '=', job.runToken)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }

  async release(session: AnySession, job: ClaimedJob, error: string, options: ReleaseOptions = {}): Promise<boolean> {
    const now = this.#clock.now();
    const output: StoredOutput = { error };
    if (options.unrunnable === true) {
      const held = await (session as JobsDb)
        .selectFrom('groundwork_jobs')
        .select('output')
        .where('id', '=', job.id)
        .where('state', '=', 'active')
        .where('run_token', '=', job.runToken)
        .executeTakeFirst();
      if (held === undefined) return false;
      const since = ((readJson(held.output) ?? {}) as StoredOutput).unrunnableSince;
      output.unrunnableSince = typeof since === 'number' ? since : now;
    }
    // The claim counted the run; taking it back leaves the job as it was before, but for its last error.
    const updated = await (session as JobsDb)
      .updateTable('groundwork_jobs')
      .set({
        state: 'retry',
        attempts: sql`attempts - 1`,
        run_token: null,
        run_at: new Date(now + Math.max(0, options.delayMs ?? 0)),
        output: JSON.stringify(output),
      })
      .where('id', '=', job.id)
      .where('state', '=', 'active')
      .where('run_token', '=', job.runToken)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }

  /** The columns of a failed run: retried later, or dead-lettered once its retries are spent. */
  #failure(
    row: Pick<JobsTable, 'attempts' | 'retry_limit' | 'retry_delay_ms' | 'retry_backoff' | 'result_ttl_ms'>,
    error: string,
  ): Updateable<JobsTable> {
    const now = this.#clock.now();
    const retries = row.attempts <= row.retry_limit;
    return {
      state: retries ? 'retry' : 'failed',
      output: JSON.stringify({ error } satisfies StoredOutput),
      run_token: null,
      ...(retries
        ? { run_at: new Date(now + retryDelay(row.retry_delay_ms, row.retry_backoff, row.attempts)) }
        : { completed_at: new Date(now), keep_until: new Date(now + (row.result_ttl_ms ?? 0)) }),
    };
  }

  async maintain(options: { purge: boolean }): Promise<void> {
    const now = new Date(this.#clock.now());
    // The lease of a run ends at started_at + timeout_ms + grace; only active jobs are read (a few per worker).
    const active = await this.#db
      .selectFrom('groundwork_jobs')
      .select([
        'id',
        'run_token',
        'started_at',
        'attempts',
        'retry_limit',
        'retry_delay_ms',
        'retry_backoff',
        'result_ttl_ms',
        'timeout_ms',
      ])
      .where('state', '=', 'active')
      .execute();
    for (const row of active) {
      if (row.started_at === null || new Date(row.started_at).getTime() + row.timeout_ms + LEASE_GRACE_MS >= now.getTime()) continue;
      await this.#db
        .updateTable('groundwork_jobs')
        .set(
          this.#failure(row, `lease expired: the run did not finish within its ${row.timeout_ms} ms timeout (its worker stopped or hung)`),
        )
        .where('id', '=', row.id)
        .where('state', '=', 'active')
        .where('run_token', '=', row.run_token)
        .execute();
    }
    if (!options.purge) return;
    await this.#db
      .deleteFrom('groundwork_jobs')
      .where('state', 'in', ['completed', 'failed', 'cancelled'])
      .where('keep_until', '<', now)
      .execute();
  }

  async get(id: string): Promise<JobSnapshot | undefined> {
    const row = await this.#db.selectFrom('groundwork_jobs').select(SNAPSHOT_COLUMNS).where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : snapshot(row);
  }

  async has(id: string): Promise<boolean> {
    return (await this.#db.selectFrom('groundwork_jobs').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  async payloadField(id: string, field: string): Promise<unknown> {
    const row = await this.#db.selectFrom('groundwork_jobs').select('data').where('id', '=', id).executeTakeFirst();
    const data = readJson(row?.data ?? null) as { payload?: Record<string, unknown> } | null;
    return data?.payload?.[field];
  }

  async list(options: ListJobsOptions): Promise<JobSnapshot[]> {
    let query = this.#db.selectFrom('groundwork_jobs').select(SNAPSHOT_COLUMNS);
    if (options.state !== undefined) query = query.where('state', '=', options.state);
    if (options.name !== undefined) query = query.where('name', '=', options.name);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(options.limit ?? 50)
      .execute();
    return rows.map(snapshot);
  }

  async status(): Promise<QueueStatus> {
    const now = this.#clock.now();
    const rows = await this.#db
      .selectFrom('groundwork_jobs')
      .select(['name', 'state', (eb) => eb.fn.countAll<number | string>().as('count')])
      .groupBy(['name', 'state'])
      .execute();
    const oldest = await this.#db
      .selectFrom('groundwork_jobs')
      .select((eb) => eb.fn.min('run_at').as('oldest'))
      .where('state', 'in', ['created', 'retry'])
      .where('run_at', '<=', new Date(now))
      .executeTakeFirst();
    const counts = emptyCounts();
    const byName: Record<string, Partial<Record<JobState, number>>> = {};
    for (const row of rows) {
      const state = row.state as JobState;
      if (!JOB_STATES.includes(state)) continue;
      counts[state] += Number(row.count);
      byName[row.name] = { ...byName[row.name], [state]: Number(row.count) };
    }
    const oldestAt = oldest?.oldest === null || oldest?.oldest === undefined ? undefined : new Date(oldest.oldest as Date | string);
    const unrunnable = await this.#unrunnable();
    return {
      engine: 'table',
      counts,
      byName,
      oldestDueAgeMs: oldestAt === undefined ? 0 : Math.max(0, now - oldestAt.getTime()),
      unrunnable: unrunnable.length,
      oldestUnrunnableAgeMs: unrunnable.length === 0 ? 0 : Math.max(0, now - unrunnable.reduce((first, since) => Math.min(first, since))),
    };
  }

  /** Since when each waiting job no worker could run has waited for one (ms since the epoch). */
  async #unrunnable(): Promise<number[]> {
    const rows = await this.#db
      .selectFrom('groundwork_jobs')
      .select('output')
      .where('state', 'in', ['created', 'retry'])
      .where(sql<string>`CAST(output AS TEXT)`, 'like', UNRUNNABLE_OUTPUT)
      .execute();
    return rows
      .map((row) => ((readJson(row.output) ?? {}) as StoredOutput).unrunnableSince)
      .filter((since): since is number => typeof since === 'number');
  }

  async retry(id: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('groundwork_jobs')
      .set({
        state: 'retry',
        retry_limit: sql`retry_limit + 1`,
        run_at: new Date(this.#clock.now()),
        completed_at: null,
        keep_until: null,
      })
      .where('id', '=', id)
      .where('state', 'in', ['failed', 'cancelled'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async cancel(id: string, options: CancelOptions = {}): Promise<boolean> {
    const now = this.#clock.now();
    const row = await this.#db.selectFrom('groundwork_jobs').select('result_ttl_ms').where('id', '=', id).executeTakeFirst();
    if (row === undefined) return false;
    const result = await this.#db
      .updateTable('groundwork_jobs')
      .set({ state: 'cancelled', completed_at: new Date(now), run_token: null, keep_until: new Date(now + (row.result_ttl_ms ?? 0)) })
      .where('id', '=', id)
      .where('state', 'in', [...(options.states ?? UNFINISHED_STATES)])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async close(): Promise<void> {}
}

function date(value: Date | string | null): Date | undefined {
  return value === null ? undefined : new Date(value);
}

/** What a {@link JobSnapshot} is read from: every column but the payload, which may be large (a batch's items). */
const SNAPSHOT_COLUMNS = [
  'id',
  'name',
  'state',
  'priority',
  'attempts',
  'retry_limit',
  'created_at',
  'run_at',
  'started_at',
  'completed_at',
  'output',
] as const satisfies readonly (keyof JobsTable)[];

function snapshot(row: Pick<Selectable<JobsTable>, (typeof SNAPSHOT_COLUMNS)[number]>): JobSnapshot {
  const output = (readJson(row.output) ?? {}) as StoredOutput;
  return {
    id: row.id,
    name: row.name,
    state: row.state as JobState,
    priority: row.priority,
    attempts: row.attempts,
    maxAttempts: row.retry_limit + 1,
    createdAt: new Date(row.created_at),
    runAt: new Date(row.run_at),
    startedAt: date(row.started_at),
    completedAt: date(row.completed_at),
    result: output.result ?? undefined,
    error: output.error,
  };
}
