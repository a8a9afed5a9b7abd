import { GroundworkError } from '../errors/groundwork-error.js';

/** A job was enqueued (or looked for) with bad input: every problem, at once. */
export class JobInputError extends GroundworkError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('invalid_job', `Invalid job: ${problems.join('; ')}.`);
    this.problems = problems;
  }
}

/** `wait` saw the job dead-lettered: its retries spent, `lastError` the last run's error. */
export class JobFailedError extends GroundworkError {
  readonly jobId: string;
  readonly lastError: string | undefined;
  constructor(jobId: string, lastError: string | undefined) {
    super('job_failed', `Job ${jobId} failed after its last retry: ${lastError ?? 'no error recorded'}`);
    this.jobId = jobId;
    this.lastError = lastError;
  }
}

/** `wait` saw the job cancelled. */
export class JobCancelledError extends GroundworkError {
  readonly jobId: string;
  constructor(jobId: string) {
    super('job_cancelled', `Job ${jobId} was cancelled.`);
    this.jobId = jobId;
  }
}

/** `get` or `wait` found no such job (never enqueued, or deleted after its result TTL). */
export class JobNotFoundError extends GroundworkError {
  readonly jobId: string;
  constructor(jobId: string) {
    super('job_not_found', `No job ${jobId}: it was never enqueued, or it was deleted after its result TTL.`);
    this.jobId = jobId;
  }
}

/** A run took longer than the job's timeout: it is aborted, and counts as a failed run. */
export class JobTimeoutError extends GroundworkError {
  constructor(timeoutMs: number) {
    super('job_timeout', `The job did not finish within its ${timeoutMs} ms timeout.`, { retryable: true });
  }
}

/** A worker was handed a job it cannot run: an unknown prompt or kind. */
export class JobHandlerMissingError extends GroundworkError {
  constructor(message: string) {
    super('job_handler_missing', message);
  }
}
