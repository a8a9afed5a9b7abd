import type { LlmCallOptions, LlmResponse } from '../llm/llm-client-types.js';
import type { Prompt, PromptContext } from '../llm/prompt.js';
import type { AnySession } from './job-engine.js';

/** A prompt of any variables and output. */
// biome-ignore lint/suspicious/noExplicitAny: prompts of every output type share one list.
export type AnyPrompt = Prompt<string, any, string>;

/**
 * Where a job is: `created` (waiting for its `runAt`), `retry` (waiting after a failed run),
 * `active` (a worker holds its lease), `completed`, `cancelled`, or `failed`: dead-lettered after
 * its last retry, with its last error.
 */
export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

/** Every job state, in the order a job passes them. */
export const JOB_STATES: readonly JobState[] = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'];

/** Retries of a failed job, beyond the LLM call path's own retries. */
export interface JobRetryOptions {
  /** Runs after the first one. @default JOBS_RETRY_LIMIT */
  limit?: number;
  /** Wait before a retry, in ms (PostgreSQL rounds it up to whole seconds). @default 1000 */
  delayMs?: number;
  /** Double the wait after each failed run. @default true */
  backoff?: boolean;
}

/** Options of {@link JobsApi.enqueue}. */
export interface EnqueueOptions {
  /**
   * The same key (for the same job name) enqueues one job: later calls return the first job's id
   * while that job is kept (until its result TTL ends).
   */
  idempotencyKey?: string;
  /** Higher runs first. @default 0 */
  priority?: number;
  /** Not before this time. @default now */
  runAt?: Date;
  retries?: JobRetryOptions;
  /** The run's timeout and the lease of its worker, in ms. @default JOBS_TIMEOUT_MS */
  timeoutMs?: number;
  /**
   * The virtual key (name or id) a prompt job's call is billed to and limited by. Prompt jobs only:
   * a custom kind is refused with it (its handler passes a tenant to `executePrompt` itself).
   */
  tenant?: string;
  /** How long a finished job and its result are kept, in ms. @default 7 days */
  resultTtlMs?: number;
  /**
   * The transaction to enqueue in: the job exists if and only if it commits. Inside `withSession`
   * the current transaction is used without saying so.
   */
  tx?: AnySession;
}

/** A job as `get`, `list` and `wait` see it. */
export interface JobSnapshot<Result = unknown> {
  readonly id: string;
  /** The job kind: a prompt's name, or a name given to `define`. */
  readonly name: string;
  readonly state: JobState;
  readonly priority: number;
  /** Runs started so far. */
  readonly attempts: number;
  /** Runs allowed: the first and the retries. */
  readonly maxAttempts: number;
  readonly createdAt: Date;
  readonly runAt: Date;
  readonly startedAt: Date | undefined;
  readonly completedAt: Date | undefined;
  /** The handler's result, once `completed`. */
  readonly result: Result | undefined;
  /** The last run's error (a dead-lettered job's reason), once a run failed. */
  readonly error: string | undefined;
}

/** What a prompt job's result holds: the answer without its transport details. */
export interface PromptJobResult<Output = unknown> {
  content: string;
  data: Output | undefined;
  finishReason: string;
  usage: LlmResponse['usage'];
  provider: string;
  model: string;
}

/** What a job handler is handed besides the payload. */
export interface JobContext<Facade> {
  /** The Groundwork facade: database sessions, prompts, configuration. */
  readonly infra: Facade;
  readonly job: { readonly id: string; readonly name: string; readonly attempt: number };
  /** Aborted when the job's timeout passes or the worker stops. */
  readonly signal: AbortSignal;
  /**
   * Runs a prompt as part of this job: its ledger rows are written in the transaction that
   * completes (or fails) the job, so a run cut short by a crash leaves none behind.
   */
  executePrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: LlmCallOptions & { tenant?: string },
  ): Promise<LlmResponse<Output>>;
}

/** A custom job kind's handler: its result (JSON) is the job's result. */
export type JobHandler<Payload = unknown, Result = unknown, Facade = unknown> = (
  payload: Payload,
  context: JobContext<Facade>,
) => Promise<Result>;

/** Options of {@link JobsApi.work}. */
export interface WorkOptions {
  /** Jobs run at once in this process. @default 4 */
  concurrency?: number;
  /** Only these job names. @default every defined kind and known prompt */
  names?: readonly string[];
  /** Prompts this worker can run (prompts enqueued from this process are known already). */
  prompts?: readonly AnyPrompt[];
  /** How often an idle worker polls, in ms. @default JOBS_POLL_INTERVAL_MS */
  pollIntervalMs?: number;
}

/** Counts per state and the oldest job due to run. */
export interface QueueStatus {
  readonly engine: 'pg-boss' | 'table';
  readonly counts: Readonly<Record<JobState, number>>;
  /** How long the oldest job due to run (created or retry, `runAt` passed) has waited, in ms; 0 when none. */
  readonly oldestDueAgeMs: number;
  /**
   * Jobs waiting for a worker that can run them: each worker that claimed them last did not know
   * their prompt version or kind (during a rolling deploy, say), and handed them back, due again in
   * 30 s, without counting an attempt. `oldestDueAgeMs` does not show them: each hand-back makes them due anew.
   */
  readonly unrunnable: number;
  /** How long the first of those has waited since a worker first could not run it, in ms; 0 when none. */
  readonly oldestUnrunnableAgeMs: number;
  /** Count per job name and state. */
  readonly byName: Readonly<Record<string, Partial<Record<JobState, number>>>>;
}

/** Filter of {@link JobsApi.list}. */
export interface ListJobsOptions {
  state?: JobState;
  name?: string;
  /** @default 50 */
  limit?: number;
}
