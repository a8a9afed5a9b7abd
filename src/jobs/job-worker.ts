import { setMaxListeners } from 'node:events';
import type { Clock, TimerHandle } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import { scrubSecrets } from '../observability/redact.js';
import type { ClaimedJob, JobEngine } from './job-engine.js';

/** What the worker needs to run one claimed job to its end (completion or failure written). */
export type RunJob = (job: ClaimedJob, stopping: AbortSignal) => Promise<void>;

/** Settings of a {@link JobWorker}. */
export interface JobWorkerOptions {
  engine: JobEngine;
  run: RunJob;
  names: readonly string[];
  concurrency: number;
  pollIntervalMs: number;
  clock: Clock;
  logger: Logger;
}

/** How often expired leases are released, and finished jobs past their TTL deleted, in ms. */
const EXPIRE_EVERY_MS = 1000;
const PURGE_EVERY_MS = 60_000;

/**
 * Claims jobs and runs up to `concurrency` at once: polls while idle, claims again as soon as a
 * slot frees, releases expired leases (of any worker) every second. `stop()` stops claiming,
 * lets running jobs finish for a while, then aborts them.
 */
export class JobWorker {
  readonly #options: JobWorkerOptions;
  readonly #running = new Set<Promise<void>>();
  readonly #stopping = new AbortController();
  /** Aborted when `stop()`'s grace period is over: running jobs are cut short. */
  readonly #graceOver = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #lastExpire = Number.NEGATIVE_INFINITY;
  #lastPurge: number;

  constructor(options: JobWorkerOptions) {
    this.#options = options;
    this.#lastPurge = options.clock.now();
    // Every running job listens to it: as many listeners as `concurrency`.
    setMaxListeners(0, this.#graceOver.signal);
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running.size;
  }

  /** Starts the loop. */
  start(): this {
    this.#loop ??= this.#run();
    return this;
  }

  async #run(): Promise<void> {
    const { engine, clock, logger, concurrency, names } = this.#options;
    while (!this.#stopping.signal.aborted) {
      const now = clock.now();
      if (now - this.#lastExpire >= EXPIRE_EVERY_MS) {
        this.#lastExpire = now;
        const purge = now - this.#lastPurge >= PURGE_EVERY_MS;
        if (purge) this.#lastPurge = now;
        await engine.maintain({ purge }).catch((error: unknown) => this.#logFailure('maintenance', error));
      }
      const free = concurrency - this.#running.size;
      let claimed: ClaimedJob[] = [];
      if (free > 0 && !this.#stopping.signal.aborted) {
        claimed = await engine.claim(names, free).catch((error: unknown) => {
          this.#logFailure('claiming jobs', error);
          return [];
        });
      }
      for (const job of claimed) {
        const running: Promise<void> = this.#options
          .run(job, this.#graceOver.signal)
          .catch((error: unknown) => logger.error({ job: job.id, err: error }, 'job run failed to record its outcome'))
          .finally(() => {
            this.#running.delete(running);
            this.#wake?.();
          });
        this.#running.add(running);
      }
      // A full batch may mean more is due: claim again at once, unless every slot is taken.
      if (claimed.length > 0 && claimed.length === free) continue;
      await this.#sleep(this.#options.pollIntervalMs);
    }
  }

  #logFailure(what: string, error: unknown): void {
    this.#options.logger.warn({ err: error }, `jobs: ${what} failed: ${scrubSecrets((error as Error).message ?? String(error))}`);
  }

  /** Sleeps until the poll interval passes, a slot frees or the worker stops. */
  #sleep(ms: number): Promise<void> {
    // Asked to stop while claiming or maintaining, when there was nothing yet to wake.
    if (this.#stopping.signal.aborted) return Promise.resolve();
    const { clock } = this.#options;
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const done = () => {
        if (timer !== undefined) clock.clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      timer = clock.setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /**
   * Stops claiming, waits up to `graceMs` for running jobs, then aborts the rest (their runs fail
   * and go back to the queue without counting as an attempt) and waits for them to record that. Idempotent.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.#stopping.signal.aborted) {
      this.#stopping.abort(new Error('the worker is stopping'));
      this.#wake?.();
    }
    await this.#loop;
    if (this.#running.size > 0) {
      const { clock } = this.#options;
      let timer: TimerHandle | undefined;
      const graceOver = new Promise<void>((resolve) => {
        timer = clock.setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.all(this.#running), graceOver]);
      if (timer !== undefined) clock.clearTimeout(timer);
    }
    this.#graceOver.abort(new Error('the worker stopped before the job finished'));
    await Promise.all(this.#running);
  }
}
