import { GroundworkError } from '../errors/groundwork-error.js';

/**
 * Every deployment of a model group was unavailable (circuit open, rate limits spent, throttled
 * by a 429, or at its concurrency limit) for longer than the call may wait. `retryAfterMs` is
 * when the first of them is expected to take calls again.
 */
export class NoDeploymentAvailableError extends GroundworkError {
  readonly group: string;
  readonly retryAfterMs: number;

  constructor(options: { group: string; retryAfterMs: number; reasons: readonly string[]; cause?: unknown }) {
    super(
      'no_deployment_available',
      `No deployment of model group "${options.group}" can take a call now (${options.reasons.join('; ')}); ` +
        `the first frees in about ${Math.ceil(options.retryAfterMs)} ms. Add deployments, raise their limits or configure fallbacks.`,
      { retryable: true, ...(options.cause === undefined ? {} : { cause: options.cause }) },
    );
    this.group = options.group;
    this.retryAfterMs = options.retryAfterMs;
  }
}
