import type { Kysely } from 'kysely';
import type { JobSnapshot, JobState, ListJobsOptions, QueueStatus } from './job-types.js';

/**
 * A query builder over any schema: the pool, or the application's transaction (whose tables the
 * queue does not know).
 */
// biome-ignore lint/suspicious/noExplicitAny: the application's schema is not the queue's business.
export type AnySession = Kysely<any>;

/** A job to insert, every default resolved. */
export interface NewJob {
  readonly id: string;
  readonly name: string;
  readonly data: JobData;
  readonly priority: number;
  readonly runAt: Date;
  readonly retryLimit: number;
  readonly retryDelayMs: number;
  readonly retryBackoff: boolean;
  readonly timeoutMs: number;
  readonly resultTtlMs: number;
}

/** What a job carries: a prompt to run, or a custom kind's payload. */
export type JobData =
  | {
      readonly kind: 'prompt';
      readonly prompt: { readonly name: string; readonly version: string };
      readonly context: unknown;
      readonly tenant?: string;
    }
  | { readonly kind: 'custom'; readonly payload: unknown };

/** A job a worker holds the lease of. */
export interface ClaimedJob {
  readonly id: string;
  readonly name: string;
  readonly data: JobData;
  /** This run's number, from 1. */
  readonly attempt: number;
  readonly timeoutMs: number;
  /** Identifies this run: only it may complete or fail the job. */
  readonly runToken: string;
}

/** The states of a job not finished: what a cancel takes by default. */
export const UNFINISHED_STATES: readonly JobState[] = ['created', 'retry', 'active'];

/** What {@link JobEngine.release} is told. */
export interface ReleaseOptions {
  /** Due again in this many ms. @default 0 */
  readonly delayMs?: number;
  /**
   * The worker could not run the job (a prompt version or kind it does not know): the job keeps,
   * across such releases, when this was first found, and `status()` counts it as unrunnable until
   * a run records another outcome.
   */
  readonly unrunnable?: boolean;
}

/** What {@link JobEngine.cancel} is told. */
export interface CancelOptions {
  /** The states the job is cancelled from (default: {@link UNFINISHED_STATES}). */
  readonly states?: readonly JobState[];
}

/** The queue's storage. One implementation per engine; the worker and the facade depend on this only. */
export interface JobEngine {
  readonly name: 'pg-boss' | 'table';
  /** Creates or migrates the engine's tables when it owns them. Idempotent. */
  start(): Promise<void>;
  /** Inserts `job` through `session` (a transaction or the pool); false when its id exists already. */
  insert(session: AnySession, job: NewJob): Promise<boolean>;
  /** Takes the lease of up to `limit` due jobs with these names, highest priority first. */
  claim(names: readonly string[], limit: number): Promise<ClaimedJob[]>;
  /** Completes the run in `session`; false when the run no longer holds the job (its lease passed). */
  complete(session: AnySession, job: ClaimedJob, result: unknown): Promise<boolean>;
  /**
   * Fails the run in `session`: the job is retried later, or dead-lettered after its last retry;
   * with `final`, dead-lettered now (its retry limit lowered to the runs made, so `retry` allows one more).
   */
  fail(session: AnySession, job: ClaimedJob, error: string, options?: { final?: boolean }): Promise<boolean>;
  /**
   * Puts the job of a run its worker cut short when stopping (or could not run) back in the queue,
   * due in `options.delayMs`, in `session`: the run does not count as an attempt (so a deploy
   * never dead-letters a job on its last retry), and `error` is kept as the last error. False when
   * the run no longer holds the job.
   */
  release(session: AnySession, job: ClaimedJob, error: string, options?: ReleaseOptions): Promise<boolean>;
  /** Releases the leases that passed (their runs count as failed); with `purge`, deletes finished jobs past their TTL. */
  maintain(options: { purge: boolean }): Promise<void>;
  /** The job's state and result (never its payload); undefined when there is no such job. */
  get(id: string): Promise<JobSnapshot | undefined>;
  /** Whether a job with this id exists, reading nothing else of it. */
  has(id: string): Promise<boolean>;
  /** One field of a custom job's payload (without reading the rest of a large payload where the engine can); undefined when none. */
  payloadField(id: string, field: string): Promise<unknown>;
  list(options: ListJobsOptions): Promise<JobSnapshot[]>;
  status(): Promise<QueueStatus>;
  /** Puts a dead-lettered or cancelled job back in the queue, one more run allowed; false when it is in neither state. */
  retry(id: string): Promise<boolean>;
  /**
   * Cancels a job that has not finished, in one statement; false when it has (or does not exist).
   * With `states`, only while the job is in one of them: false when it is in another (a worker
   * claimed it since it was read, say).
   */
  cancel(id: string, options?: CancelOptions): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * How much longer a lease lasts than its run's timeout: a run aborted at its timeout records its
 * own failure before another worker may take the job over.
 */
export const LEASE_GRACE_MS = 2000;

/** An empty count per state. */
export function emptyCounts(): Record<JobState, number> {
  return { created: 0, retry: 0, active: 0, completed: 0, cancelled: 0, failed: 0 };
}

/** Reads a JSON column: PostgreSQL-family drivers may hand back parsed values, SQLite text. */
export function readJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The wait before retry number `retry` (from 1). */
export function retryDelay(delayMs: number, backoff: boolean, retry: number): number {
  return backoff ? delayMs * 2 ** Math.min(retry - 1, 20) : delayMs;
}
