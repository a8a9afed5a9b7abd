import { GroundworkError } from '../../errors/groundwork-error.js';

/** The provider cannot batch (no Batch API), or the configuration lacks what a batch needs. */
export class BatchUnsupportedError extends GroundworkError {
  constructor(message: string) {
    super('batch_unsupported', message);
  }
}

/**
 * The provider's Batch API answered with an error status. Retryable ones (408, 409, 429, 5xx) make
 * the batch's step run again later; the others end the batch as failed.
 */
export class BatchProviderError extends GroundworkError {
  readonly status: number;
  constructor(status: number, message: string) {
    super('batch_provider_error', message, { retryable: status === 408 || status === 409 || status === 429 || status >= 500 });
    this.status = status;
  }
}

/** No batch has this id (never enqueued, or its steps were deleted after their result TTL). */
export class BatchNotFoundError extends GroundworkError {
  constructor(id: string) {
    super('batch_not_found', `No batch with id ${id}: never enqueued, or deleted after its result TTL`);
  }
}
