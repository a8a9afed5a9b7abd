import type { AppConfig, JobsConfig } from '../config/app-config.js';
import type { Database } from '../db/database.js';
import { errorCode, isConnectionLost, isConnectionRefused } from '../db/driver-errors.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { usageRow, writeUsageRows } from '../db/usage-sink.js';
import { GroundworkError } from '../errors/groundwork-error.js';
import { linkSignals, sleep, untilAborted } from '../internal/abort.js';
import type { Clock, TimerHandle } from '../internal/clock.js';
import type { LlmCallOptions, LlmResponse } from '../llm/llm-client-types.js';
import type { Prompt, PromptContext } from '../llm/prompt.js';
import type { UsageAttribution, UsageRecord } from '../llm/usage-record.js';
import type { HealthCheck } from '../observability/health.js';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metric-series.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { scrubSecrets } from '../observability/redact.js';
import type { BatchSnapshot, EnqueueBatchOptions } from './batch/batch-types.js';
import { BATCH_POLL_JOB, BATCH_SUBMIT_JOB, Batches, type BatchTenancy } from './batch/batches.js';
import type { ClaimedJob, JobData, JobEngine, NewJob, ReleaseOptions } from './job-engine.js';
import {
  JobCancelledError,
  JobFailedError,
  JobHandlerMissingError,
  JobInputError,
  JobNotFoundError,
  JobTimeoutError,
} from './job-errors.js';
import { jobId } from './job-id.js';
import { createJobMetrics, type JobMetrics, type RunOutcome } from './job-metrics.js';
import { currentJobQueue, runAsJob } from './job-run-scope.js';
import type {
  AnyPrompt,
  EnqueueOptions,
  JobContext,
  JobHandler,
  JobSnapshot,
  ListJobsOptions,
  PromptJobResult,
  QueueStatus,
  WorkOptions,
} from './job-types.js';
import { JobWorker } from './job-worker.js';
import { PgBossJobEngine } from './pg-boss-job-engine.js';
import { TableJobEngine } from './table-job-engine.js';

/** Finished jobs are kept this long unless the job says otherwise: 7 days. */
const DEFAULT_RESULT_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const NAME = /^[\w.-]{1,100}$/;
/** Tries of the transaction that records a run's outcome, the first included. */
const RECORD_TRIES = 4;
/** Wait before the second try of that transaction, doubled before each later one, in ms: 250, 500, 1000. */
const RECORD_BACKOFF_MS = 250;
/** How long a job a worker cannot run (an unknown prompt version or kind) waits, back in the queue, for one that can: 30 s. */
const MISSING_HANDLER_DELAY_MS = 30_000;

/** The options of a prompt run by a job: an LLM call's, and the tenant it runs as. */
type PromptCallOptions = LlmCallOptions & { tenant?: string };

type PromptCall = (prompt: AnyPrompt, context: PromptContext<string, string>, options?: PromptCallOptions) => Promise<LlmResponse<unknown>>;

/** What {@link Jobs} is built from (by the facade). */
export interface JobsParts<Facade> {
  facade: Facade;
  config: JobsConfig;
  database: Database<GroundworkTables>;
  clock: Clock;
  logger: Logger;
  metrics: GroundworkMetrics;
  /** The facade's `executePrompt` (tenants, limits, cache, ledger). */
  executePrompt: PromptCall;
  /** A ready engine instead of the one the database's dialect calls for (tests). */
  engine?: JobEngine;
  /** The provider settings batches are sent with; absent: `enqueueBatch` refuses. */
  appConfig?: AppConfig;
  /** Resolves a tenant to whom a batch's ledger rows are billed. */
  attribution?: (tenant: string) => Promise<UsageAttribution>;
  /** The tenants' budgets for batches, built on first use; absent: a tenant's batch is attributed, not budgeted. */
  batchTenancy?: () => BatchTenancy;
}

/** A running worker: {@link Jobs.work}'s handle. */
export interface JobWorkerHandle {
  /** Jobs running now in this worker. */
  readonly running: number;
  /** Stops claiming, lets running jobs finish up to `graceMs` (@default 10000), then aborts them. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Durable jobs in the application's database: prompts (and custom kinds) that survive a
 * restart, run by workers in any process. On PostgreSQL the queue is pg-boss; on SQLite and
 * PGlite it is the `groundwork_jobs` table. See the README's "Durable jobs" for the guarantees.
 */
export class Jobs<Facade = unknown> {
  readonly #parts: JobsParts<Facade>;
  readonly #engine: JobEngine;
  readonly #handlers = new Map<string, JobHandler<never, unknown, Facade>>();
  readonly #prompts = new Map<string, AnyPrompt>();
  readonly #workers = new Set<JobWorker>();
  readonly #metrics: JobMetrics;
  readonly #batches: Batches;
  /** The prompts and kinds this process's workers could not run, each logged once. */
  readonly #missingLogged = new Set<string>();
  #closed = false;
  /** True while `close()` waits for the workers: their running jobs may still use the queue. */
  #draining = false;

  /** @internal Use `infra.jobs`. */
  constructor(parts: JobsParts<Facade>) {
    this.#parts = parts;
    this.#engine =
      parts.engine ??
      (parts.database.dialect === 'postgres'
        ? new PgBossJobEngine(parts.database.db, { schema: parts.config.schema, clock: parts.clock })
        : new TableJobEngine(parts.database.db, parts.clock));
    this.#metrics = createJobMetrics(parts.metrics.registry, () => this.#engine.status());
    this.#batches = new Batches({
      engine: this.#engine,
      clock: parts.clock,
      appConfig: parts.appConfig,
      timeoutMs: parts.config.timeoutMs,
      prompts: this.#prompts,
      attribution: parts.attribution,
      tenancy: parts.batchTenancy,
      session: () => parts.database.getDatabaseSession().session,
      logger: parts.logger.child({ component: 'jobs' }),
    });
  }

  /** `pg-boss` on PostgreSQL, `table` on SQLite and PGlite. */
  get engine(): 'pg-boss' | 'table' {
    return this.#engine.name;
  }

  /** Defines a custom job kind: workers run `handler` for jobs enqueued with this name. */
  define<Payload, Result>(name: string, handler: JobHandler<Payload, Result, Facade>): void {
    if (!NAME.test(name)) throw new JobInputError([`name "${name}" must be 1-100 letters, digits, '_', '.' or '-'`]);
    this.#handlers.set(name, handler as JobHandler<never, unknown, Facade>);
  }

  /**
   * Enqueues a prompt to run with `context` (or, with a name, a custom kind's payload) and returns
   * the job's id. Inside `withSession`, or with `options.tx`, the job is written in that
   * transaction: it exists if and only if the transaction commits.
   */
  enqueue<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: EnqueueOptions,
  ): Promise<string>;
  enqueue(name: string, payload: unknown, options?: EnqueueOptions): Promise<string>;
  async enqueue(target: AnyPrompt | string, input: unknown, options: EnqueueOptions = {}): Promise<string> {
    this.#assertOpen();
    const name = typeof target === 'string' ? target : target.name;
    // What a run could only fail on, after its retries, is refused here, as enqueueBatch does.
    const problems: string[] = [];
    let data: JobData;
    if (typeof target === 'string') {
      if (options.tenant !== undefined)
        problems.push(
          'tenant applies to prompt jobs; a custom kind makes its own calls: pass the tenant in its payload, and to executePrompt in the handler',
        );
      data = { kind: 'custom', payload: input ?? null };
    } else {
      try {
        if (typeof input !== 'object' || input === null || Array.isArray(input))
          throw new Error("must be an object of the prompt's variables");
        target.render(input as PromptContext<string, string>);
      } catch (error) {
        problems.push(`context: ${(error as Error).message}`);
      }
      this.#prompts.set(promptKey(target.name, String(target.version)), target);
      data = {
        kind: 'prompt',
        prompt: { name: target.name, version: String(target.version) },
        context: input,
        ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      };
    }
    const job = this.#newJob(name, data, options, problems);
    await this.#engine.start();
    const session = options.tx ?? this.#parts.database.getDatabaseSession().session;
    await this.#engine.insert(session, job);
    return job.id;
  }

  /** The job to insert, every default resolved; throws `JobInputError` with `problems` found before and every one found here. */
  #newJob(name: string, data: JobData, options: EnqueueOptions, problems: string[]): NewJob {
    const { config, clock } = this.#parts;
    if (!NAME.test(name)) problems.push(`name "${name}" must be 1-100 letters, digits, '_', '.' or '-'`);
    const integer = (field: string, value: number | undefined, min: number, max: number) => {
      if (value !== undefined && (!Number.isInteger(value) || value < min || value > max))
        problems.push(`${field} must be a whole number from ${min} to ${max} (got ${value})`);
    };
    integer('priority', options.priority, -1_000_000, 1_000_000);
    integer('timeoutMs', options.timeoutMs, 1000, 86_400_000);
    integer('retries.limit', options.retries?.limit, 0, 1000);
    integer('retries.delayMs', options.retries?.delayMs, 0, 86_400_000);
    integer('resultTtlMs', options.resultTtlMs, 0, 365 * 86_400_000);
    if (options.runAt !== undefined && !(options.runAt instanceof Date && Number.isFinite(options.runAt.getTime())))
      problems.push('runAt must be a valid Date');
    if (options.idempotencyKey !== undefined && (typeof options.idempotencyKey !== 'string' || options.idempotencyKey.length === 0))
      problems.push('idempotencyKey must be a non-empty string');
    try {
      JSON.stringify(data);
    } catch (error) {
      problems.push(`the job's context or payload must be JSON (${(error as Error).message})`);
    }
    if (problems.length > 0) throw new JobInputError(problems);
    return {
      id: jobId(name, options.idempotencyKey),
      name,
      data,
      priority: options.priority ?? 0,
      runAt: options.runAt ?? new Date(clock.now()),
      retryLimit: options.retries?.limit ?? config.retryLimit,
      retryDelayMs: options.retries?.delayMs ?? 1000,
      retryBackoff: options.retries?.backoff ?? true,
      timeoutMs: options.timeoutMs ?? config.timeoutMs,
      resultTtlMs: options.resultTtlMs ?? DEFAULT_RESULT_TTL_MS,
    };
  }

  /**
   * Sends `prompt` with each of `contexts` as one batch through the provider's Batch API (OpenAI,
   * Azure OpenAI, Anthropic), at batch prices, and returns the batch's id. Submitting and polling
   * are jobs on this queue, so a restart loses nothing; a worker (`work()`) runs them, and must
   * know the prompt to parse the answers. Results come back per item (`getBatch`, `waitBatch`).
   * Throws `BatchUnsupportedError` for a provider without a Batch API, `JobInputError` naming
   * every bad field or context. See the README's "Batches at half price".
   */
  async enqueueBatch<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    contexts: ReadonlyArray<PromptContext<Vars, Optional>>,
    options: EnqueueBatchOptions = {},
  ): Promise<string> {
    this.#assertOpen();
    this.#prompts.set(promptKey(prompt.name, String(prompt.version)), prompt as AnyPrompt);
    return this.#batches.enqueue(
      prompt as AnyPrompt,
      contexts as ReadonlyArray<PromptContext<string, string>>,
      options,
      promptKey(prompt.name, String(prompt.version)),
    );
  }

  /** The batch now (items once it has ended), or undefined when there is none. */
  getBatch<Output = unknown>(id: string): Promise<BatchSnapshot<Output> | undefined> {
    this.#assertOpen();
    return this.#batches.get(id) as Promise<BatchSnapshot<Output> | undefined>;
  }

  /** Waits until the batch has ended (completed, failed, expired or cancelled) and returns it with its items. */
  waitBatch<Output = unknown>(id: string, options: { signal?: AbortSignal; pollIntervalMs?: number } = {}): Promise<BatchSnapshot<Output>> {
    this.#assertOpen();
    return this.#batches.wait(id, options) as Promise<BatchSnapshot<Output>>;
  }

  /** Batches, newest first. @default 20 of them */
  listBatches(limit?: number): Promise<BatchSnapshot[]> {
    this.#assertOpen();
    return this.#batches.list(limit);
  }

  /**
   * Cancels a batch: before submission, for good; after, at the provider, whose answered items are
   * still reported. False when it has ended, is being submitted at this very moment, or waits to be
   * submitted again after a failed run that may have reached a provider where that cannot be told
   * now (Anthropic, or a listing that failed): ask again once its submit has run.
   */
  cancelBatch(id: string): Promise<boolean> {
    this.#assertOpen();
    return this.#batches.cancel(id);
  }

  /** The job now, or undefined when there is none (never enqueued, or deleted after its result TTL). */
  async get<Result = unknown>(id: string): Promise<JobSnapshot<Result> | undefined> {
    this.#assertOpen();
    return (await this.#engine.get(id)) as JobSnapshot<Result> | undefined;
  }

  /**
   * Waits until the job finishes and returns its result. Throws `JobFailedError` (dead-lettered,
   * with its last error), `JobCancelledError`, `JobNotFoundError`, or the signal's reason.
   */
  async wait<Result = unknown>(id: string, options: { signal?: AbortSignal; pollIntervalMs?: number } = {}): Promise<Result> {
    let interval = 20;
    const most = options.pollIntervalMs ?? 500;
    for (;;) {
      const job = await this.get<Result>(id);
      if (job === undefined) throw new JobNotFoundError(id);
      if (job.state === 'completed') return job.result as Result;
      if (job.state === 'failed') throw new JobFailedError(id, job.error);
      if (job.state === 'cancelled') throw new JobCancelledError(id);
      await sleep(interval, options.signal, this.#parts.clock);
      interval = Math.min(most, interval * 2);
    }
  }

  /** Jobs, newest first. */
  list(options: ListJobsOptions = {}): Promise<JobSnapshot[]> {
    this.#assertOpen();
    return this.#engine.list(options);
  }

  /** Counts per state and the age of the oldest job due to run. Works on an empty queue. */
  status(): Promise<QueueStatus> {
    this.#assertOpen();
    return this.#engine.status();
  }

  /**
   * Puts a dead-lettered or cancelled job back in the queue with one more run; false when it is in neither state.
   * A cancelled batch is refused ({@link JobInputError}): its tenant's reservation was released when it was
   * cancelled, so it is enqueued again with `enqueueBatch` (a dead-lettered batch step, which keeps it, is retried).
   */
  async retry(id: string): Promise<boolean> {
    this.#assertOpen();
    const job = await this.#engine.get(id);
    // A job leaves `cancelled` only by a retry: this read cannot be overtaken by a cancel.
    if (job?.name === BATCH_SUBMIT_JOB && job.state === 'cancelled') {
      throw new JobInputError([
        `batch ${id} was cancelled (any tenant's reservation released with it), so it cannot be resumed: enqueue its items again with jobs.enqueueBatch()`,
      ]);
    }
    return this.#engine.retry(id);
  }

  /**
   * Cancels a job that has not finished (a running one's result is then discarded); false when none such.
   * A batch's steps are refused ({@link JobInputError}): a batch is cancelled with `cancelBatch`,
   * which keeps its tenant's reservation and its polls in step with the provider.
   */
  async cancel(id: string): Promise<boolean> {
    this.#assertOpen();
    const job = await this.#engine.get(id);
    if (job !== undefined && Batches.handles(job.name)) {
      const batch = job.name === BATCH_SUBMIT_JOB ? id : String(await this.#engine.payloadField(id, 'batch'));
      throw new JobInputError([
        `job ${id} is a step of batch ${batch} (${job.name}), which is cancelled as a whole: use jobs.cancelBatch('${batch}') or groundwork jobs cancel-batch ${batch}, which also release its tenant's reservation`,
      ]);
    }
    return this.#engine.cancel(id);
  }

  /**
   * Starts a worker in this process: it claims jobs of `names` (default: every kind defined and
   * prompt known here) and runs `concurrency` at once until `stop()` or `infra.close()`.
   */
  work(options: WorkOptions = {}): JobWorkerHandle {
    this.#assertOpen();
    for (const prompt of options.prompts ?? []) this.#prompts.set(promptKey(prompt.name, String(prompt.version)), prompt);
    const known = [...this.#handlers.keys(), ...[...this.#prompts.values()].map((prompt) => prompt.name)];
    // A worker with anything to do also submits and polls batches (it must know their prompts to finish them).
    const names = [...new Set(options.names ?? (known.length === 0 ? [] : [...known, BATCH_SUBMIT_JOB, BATCH_POLL_JOB]))];
    const concurrency = options.concurrency ?? 4;
    const problems: string[] = [];
    if (names.length === 0) problems.push('nothing to work on: define a kind with jobs.define(), or pass prompts or names to work()');
    for (const name of names) if (!NAME.test(name)) problems.push(`name "${name}" must be 1-100 letters, digits, '_', '.' or '-'`);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
      problems.push(`concurrency must be a whole number from 1 to 1000 (got ${concurrency})`);
    if (problems.length > 0) throw new JobInputError(problems);
    const worker = new JobWorker({
      engine: this.#engine,
      run: (job, stopping) => this.#run(job, stopping),
      names,
      concurrency,
      pollIntervalMs: options.pollIntervalMs ?? this.#parts.config.pollIntervalMs,
      clock: this.#parts.clock,
      logger: this.#parts.logger.child({ component: 'jobs' }),
    }).start();
    this.#workers.add(worker);
    return {
      get running() {
        return worker.running;
      },
      stop: async (graceMs?: number) => {
        await worker.stop(graceMs);
        this.#workers.delete(worker);
      },
    };
  }

  /** Runs one claimed job and records its outcome, with its ledger rows, in one transaction. */
  async #run(job: ClaimedJob, stopping: AbortSignal): Promise<void> {
    const { clock, logger, database } = this.#parts;
    const started = performance.now();
    const usage: UsageRecord[] = [];
    const next: NewJob[] = [];
    const timeout = new AbortController();
    const timer: TimerHandle = clock.setTimeout(() => timeout.abort(new JobTimeoutError(job.timeoutMs)), job.timeoutMs);
    const linked = linkSignals(timeout.signal, stopping);
    let result: unknown;
    let failure: unknown;
    try {
      result = await runAsJob(this, () => this.#handle(job, linked.signal, usage, next));
    } catch (error) {
      failure = error;
    } finally {
      clock.clearTimeout(timer);
      linked.dispose();
    }
    let message = failure === undefined ? undefined : describe(failure);
    // Cut short by its stopping worker (not by its own timeout): a deploy, not a failure of the job.
    // A batch's submit is not released: its upload or create may have reached the provider, and only a
    // run after a counted attempt looks for that batch there before creating it again.
    // A job this worker cannot run (another version of a prompt, a kind it does not define) is
    // another worker's, as during a rolling deploy: it goes back, due later, without counting either.
    const missing = failure instanceof JobHandlerMissingError;
    const released = failure !== undefined && (missing || (stopping.aborted && !timeout.signal.aborted)) && job.name !== BATCH_SUBMIT_JOB;
    const releaseAs: ReleaseOptions = missing ? { delayMs: MISSING_HANDLER_DELAY_MS, unrunnable: true } : {};
    let outcome: RunOutcome = 'completed';
    // The run's ledger rows, and its job completed (with its follow-ups), released, or failed (for good with `final`).
    const store = (final: boolean) =>
      this.#recordWithRetries(job, () =>
        database.withSession(async (tx) => {
          if (usage.length > 0) {
            await writeUsageRows(
              tx,
              usage.map((record) => ledgerRow(record, job.id)),
            );
          }
          const held =
            message === undefined
              ? await this.#engine.complete(tx, job, result)
              : released
                ? await this.#engine.release(tx, job, message, releaseAs)
                : await this.#engine.fail(tx, job, message, { final });
          if (!held) throw new LeaseLost();
          // A batch's next poll exists if and only if this step's completion commits.
          if (message === undefined) for (const follow of next) await this.#engine.insert(tx, follow);
        }),
      );
    try {
      try {
        await store(false);
      } catch (caught) {
        // A result JSON cannot hold (a BigInt, a cycle) would fail every try and every run: the run is
        // failed for good with that error instead. Looked for only once storing it failed, so a stored
        // result is serialised once.
        const refused = caught instanceof RecordFailed && !(caught.error instanceof LeaseLost) && !isTransient(caught.error);
        const unstorable = refused && message === undefined ? unstorableResult(result) : undefined;
        if (unstorable === undefined) throw caught;
        message = unstorable;
        await store(true);
      }
      if (released) outcome = 'released';
      else if (message !== undefined) outcome = job.attempt >= (await this.#maxAttempts(job)) ? 'dead_letter' : 'retry';
      // A batch's spend reaches the ledger here, not through a call: count it by key once it is committed.
      else if (Batches.handles(job.name)) this.#countTenantSpend(usage);
    } catch (caught) {
      const { error, tries: tried } = caught instanceof RecordFailed ? caught : { error: caught, tries: 1 };
      if (error instanceof LeaseLost) {
        outcome = 'superseded';
        logger.warn({ job: job.id, name: job.name, attempt: job.attempt, ledgerRows: usage.length }, await this.#notHeld(job, tried));
      } else {
        outcome = await this.#recordUnrecordable(job, message, error, tried, usage.length, released ? releaseAs : undefined);
      }
    }
    if (outcome === 'released' && missing) {
      if (message !== undefined && !this.#missingLogged.has(message)) {
        this.#missingLogged.add(message);
        logger.warn(
          { job: job.id, name: job.name, attempt: job.attempt, outcome },
          `jobs: ${message}; its jobs go back to the queue without counting as an attempt, due again in ` +
            `${MISSING_HANDLER_DELAY_MS / 1000} s, for a worker that knows them (logged once per prompt version or kind)`,
        );
      }
    } else if (outcome === 'released')
      logger.warn(
        { job: job.id, name: job.name, attempt: job.attempt, outcome },
        `jobs: run cut short by its stopping worker; the job is back in the queue and this run does not count as an attempt: ${message}`,
      );
    else if (message !== undefined && outcome !== 'superseded')
      logger.warn({ job: job.id, name: job.name, attempt: job.attempt, outcome }, `jobs: run failed: ${message}`);
    this.#metrics.runs.inc({ name: job.name, outcome });
    this.#metrics.runDuration.observe({ name: job.name }, (performance.now() - started) / 1000);
  }

  /**
   * Runs the transaction that records a run's outcome, again after a failure that is not a lost
   * lease (a pool timeout, a connection reset, a serialisation failure or deadlock), with backoff: each try rolls back whole, so a
   * run is recorded once or not at all. A commit whose answer was lost but that did commit
   * shows up on the next try as a lost lease. Throws a {@link RecordFailed} saying how many tries were made.
   */
  async #recordWithRetries(job: ClaimedJob, record: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await record();
      } catch (error) {
        // Only a failure of the connection, a serialisation failure or a deadlock can pass: another (a refused row) fails every try.
        if (error instanceof LeaseLost || !isTransient(error) || attempt >= RECORD_TRIES) throw new RecordFailed(error, attempt);
        this.#parts.logger.warn(
          { job: job.id, name: job.name, attempt: job.attempt, try: attempt },
          `jobs: recording the run's outcome failed, trying again: ${describe(error)}`,
        );
        await sleep(RECORD_BACKOFF_MS * 2 ** (attempt - 1), undefined, this.#parts.clock);
      }
    }
  }

  /**
   * After the outcome's transaction failed otherwise than by a lost lease: a failure of the
   * connection, or a clash with other transactions that outlasted every try, leaves the job to its
   * lease (the database is out of reach, or busy). Any other (a ledger row
   * or an error the database refuses) would fail every try, so the run is failed with that error, in
   * a transaction of its own without its result, ledger rows and follow-ups: the job is retried as
   * after any failure, at once rather than after its lease, or dead-lettered with the real error.
   * A run that was being released (`releaseAs`: cut short by its stopping worker, or one this
   * worker cannot run) is released so, still without counting as an attempt.
   */
  async #recordUnrecordable(
    job: ClaimedJob,
    message: string | undefined,
    error: unknown,
    tries: number,
    ledgerRows: number,
    releaseAs: ReleaseOptions | undefined,
  ): Promise<RunOutcome> {
    const { logger, database } = this.#parts;
    const what = `the run's outcome could not be recorded in ${tries} ${tries === 1 ? 'try' : 'tries'} (${describe(error)})`;
    if (isTransient(error)) {
      logger.error(
        { job: job.id, name: job.name, attempt: job.attempt, ledgerRows, err: error },
        `jobs: ${what}; the job stays active until its lease passes, then runs again, and this run is not in the ledger`,
      );
      return 'unrecorded';
    }
    const stored = message === undefined ? `${what.charAt(0).toUpperCase()}${what.slice(1)}` : `${message} (and ${what})`;
    try {
      await this.#recordWithRetries(job, () =>
        database.withSession(async (tx) => {
          const held =
            releaseAs === undefined ? await this.#engine.fail(tx, job, stored) : await this.#engine.release(tx, job, stored, releaseAs);
          if (!held) throw new LeaseLost();
        }),
      );
    } catch (caught) {
      const failed = caught instanceof RecordFailed ? caught : new RecordFailed(caught, 1);
      if (failed.error instanceof LeaseLost) {
        logger.warn({ job: job.id, name: job.name, attempt: job.attempt, ledgerRows }, await this.#notHeld(job, 1));
        return 'superseded';
      }
      logger.error(
        { job: job.id, name: job.name, attempt: job.attempt, ledgerRows, err: error },
        `jobs: ${what}, nor could its ${releaseAs === undefined ? 'failure' : 'release'} (${describe(failed.error)}); the job stays active until its lease passes, then runs again, and this run is not in the ledger`,
      );
      return 'unrecorded';
    }
    if (releaseAs !== undefined) {
      logger.error(
        { job: job.id, name: job.name, attempt: job.attempt, ledgerRows, outcome: 'released', err: error },
        `jobs: ${what}; the job is put back in the queue with that error, without this run's ${ledgerRows} ledger rows, and the run does not count as an attempt`,
      );
      return 'released';
    }
    const outcome: RunOutcome = job.attempt >= (await this.#maxAttempts(job)) ? 'dead_letter' : 'retry';
    logger.error(
      { job: job.id, name: job.name, attempt: job.attempt, ledgerRows, outcome, err: error },
      `jobs: ${what}; the run is failed with that error, without its result or its ${ledgerRows} ledger rows, ` +
        (outcome === 'dead_letter' ? 'and the job is dead-lettered' : 'and the job will be retried'),
    );
    return outcome;
  }

  /** Why a run no longer held its job when it came to record its outcome, as far as the job's state tells. */
  async #notHeld(job: ClaimedJob, tries: number): Promise<string> {
    const state = (await this.#engine.get(job.id).catch(() => undefined))?.state;
    if (state === 'cancelled') return 'jobs: the job was cancelled while this run went on, so its outcome was not recorded';
    if (tries > 1)
      return (
        `jobs: the run's outcome was most likely recorded by an earlier try whose answer was lost: try ${tries} found the job ` +
        `no longer held by this run (it is ${state ?? 'gone'} now)`
      );
    return 'jobs: a run finished after its lease had passed and the job was taken from it (to retry or dead-letter), so this run was not recorded';
  }

  #countTenantSpend(usage: readonly UsageRecord[]): void {
    for (const record of usage) {
      if (record.keyId === null || record.keyId === undefined || !(record.costUsd > 0)) continue;
      increment(this.#parts.metrics.tenantSpend, { key_id: record.keyId, team_id: record.teamId ?? '' }, record.costUsd);
    }
  }

  async #maxAttempts(job: ClaimedJob): Promise<number> {
    const snapshot = await this.#engine.get(job.id).catch(() => undefined);
    if (snapshot === undefined) return job.attempt;
    return snapshot.state === 'failed' ? job.attempt : Number.POSITIVE_INFINITY;
  }

  async #handle(job: ClaimedJob, signal: AbortSignal, usage: UsageRecord[], next: NewJob[]): Promise<unknown> {
    const { executePrompt, facade } = this.#parts;
    if (Batches.handles(job.name)) {
      const step = await this.#batches.run(job, signal);
      usage.push(...step.usage);
      if (step.next !== undefined) next.push(step.next);
      return step.result;
    }
    const run: PromptCall = (prompt, context, options = {}) => {
      const linked = linkSignals(signal, options.signal);
      return executePrompt(prompt, context, {
        ...options,
        signal: linked.signal,
        onUsageRecord: (record) => usage.push(record),
      }).finally(() => linked.dispose());
    };
    const abortable = <T>(work: Promise<T>): Promise<T> => untilAborted(work, signal);
    if (job.data.kind === 'prompt') {
      const { prompt: reference, context, tenant } = job.data;
      const prompt = this.#prompts.get(promptKey(reference.name, reference.version));
      if (prompt === undefined) {
        throw new JobHandlerMissingError(
          `prompt "${reference.name}" version ${reference.version} is not known to this worker: pass it to jobs.work({ prompts })`,
        );
      }
      const response = await run(prompt, context as PromptContext<string, string>, tenant === undefined ? {} : { tenant });
      return {
        content: response.content,
        data: response.data,
        finishReason: response.metadata.finishReason,
        usage: response.usage,
        provider: response.metadata.provider,
        model: response.metadata.model,
      } satisfies PromptJobResult;
    }
    const handler = this.#handlers.get(job.name);
    if (handler === undefined)
      throw new JobHandlerMissingError(`no handler for job kind "${job.name}" in this worker: define it with jobs.define()`);
    const context: JobContext<Facade> = {
      infra: facade,
      job: { id: job.id, name: job.name, attempt: job.attempt },
      signal,
      executePrompt: <Vars extends string, Output, Optional extends string>(
        prompt: Prompt<Vars, Output, Optional>,
        promptContext: PromptContext<Vars, Optional>,
        options?: PromptCallOptions,
      ) =>
        // The prompt's own output type is what the call path parses its answer into.
        run(prompt, promptContext, options) as Promise<LlmResponse<Output>>,
    };
    return abortable(handler(job.data.payload as never, context));
  }

  /**
   * The `jobs` health check: `degraded` when a due job has waited longer than `JOBS_STUCK_AFTER_MS`,
   * or a job no worker could run (an unknown prompt version or kind) has waited that long for one
   * that can. Its info counts the jobs by state, and those waiting for a worker that can run them.
   */
  healthCheck(): HealthCheck {
    const stuckAfterMs = this.#parts.config.stuckAfterMs;
    return {
      name: 'jobs',
      required: false,
      check: async () => {
        const status = await this.#engine.status();
        const info = {
          engine: status.engine,
          ...status.counts,
          oldestDueAgeMs: status.oldestDueAgeMs,
          unrunnable: status.unrunnable,
          oldestUnrunnableAgeMs: status.oldestUnrunnableAgeMs,
        };
        const problems: string[] = [];
        if (status.oldestDueAgeMs > stuckAfterMs) {
          problems.push(
            `stuck: a job due to run has waited ${Math.round(status.oldestDueAgeMs / 1000)} s (more than JOBS_STUCK_AFTER_MS); are workers running (groundwork jobs work)?`,
          );
        }
        if (status.oldestUnrunnableAgeMs > stuckAfterMs) {
          const one = status.unrunnable === 1;
          problems.push(
            `unrunnable: ${status.unrunnable} ${one ? 'job has' : 'jobs have'} waited up to ${Math.round(status.oldestUnrunnableAgeMs / 1000)} s ` +
              `(more than JOBS_STUCK_AFTER_MS) for a worker that knows ${one ? 'its' : 'their'} prompt version or job kind; ` +
              `run workers that do (each job's error names what is missing), or cancel ${one ? 'it' : 'them'}`,
          );
        }
        return problems.length === 0 ? { status: 'ok', info } : { status: 'degraded', detail: problems.join('; '), info };
      },
    };
  }

  /**
   * Stops every worker of this process (running jobs get `graceMs` to finish, and may use the
   * queue meanwhile, while calls from elsewhere are refused at once), then closes the
   * batch clients and the engine. Idempotent. Every step runs even when an earlier one fails, so no
   * connection outlives a failed close and nothing is closed under a worker still stopping; the
   * failure is thrown at the end, several as an `AggregateError` in the order they happened.
   */
  async close(graceMs?: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const errors: unknown[] = [];
    this.#draining = true;
    const stopped = await Promise.allSettled([...this.#workers].map((worker) => worker.stop(graceMs)));
    this.#draining = false;
    for (const outcome of stopped) if (outcome.status === 'rejected') errors.push(outcome.reason);
    this.#workers.clear();
    for (const step of [() => this.#batches.close(), () => this.#engine.close()]) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `Closing the job queue failed in ${errors.length} steps`);
  }

  #assertOpen(): void {
    // A running job may still enqueue its follow-ups, read jobs, and so on, during its grace period.
    if (this.#closed && !(this.#draining && currentJobQueue() === this))
      throw new Error('The job queue is closed: its Groundwork instance was closed');
  }
}

class LeaseLost extends Error {}

/** The outcome's transaction failed for good: its last error, after `tries` tries. */
class RecordFailed extends Error {
  constructor(
    readonly error: unknown,
    readonly tries: number,
  ) {
    super('recording the outcome failed');
  }
}

/**
 * SQLSTATEs of a transaction PostgreSQL rolled back whole for running alongside another, which
 * the same statements may pass on another try: `40001` serialization_failure, `40P01` deadlock_detected.
 */
const CONCURRENCY_CODES: ReadonlySet<string> = new Set(['40001', '40P01']);

/** A failure of the connection (or the pool), or a clash with another transaction, which another try may get past. */
function isTransient(error: unknown): boolean {
  return (
    isConnectionLost(error) ||
    isConnectionRefused(error) ||
    CONCURRENCY_CODES.has(errorCode(error) ?? '') ||
    (GroundworkError.isInstance(error) && error.code === 'db_pool_timeout')
  );
}

/** Why a run's result cannot be stored as JSON, or undefined when it can. */
function unstorableResult(result: unknown): string | undefined {
  try {
    JSON.stringify(result ?? null);
    return undefined;
  } catch (error) {
    return `invalid_job_result: the job's result must be JSON, and this one cannot be stored (${scrubSecrets((error as Error).message)}); return plain data`;
  }
}

function promptKey(name: string, version: string): string {
  return `${name}@${version}`;
}

/** A failed run's error as stored: its class or code, and its message, free of secrets. */
function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return scrubSecrets(`${typeof code === 'string' ? code : error.name}: ${error.message}`).slice(0, 2000);
  }
  return scrubSecrets(String(error)).slice(0, 2000);
}

/** One `llm_usage` row of a job's call. */
function ledgerRow(record: UsageRecord, job: string) {
  return { ...usageRow(record), job_id: job };
}
