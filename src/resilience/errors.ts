import { GroundworkError } from '../errors/groundwork-error.js';

/** Which rate limit refused a call. */
export type RateLimitKind = 'requests' | 'tokens';

const seconds = (ms: number): string => `${Math.ceil(ms / 1000)} s`;
const at = (epochMs: number): string => new Date(epochMs).toISOString();

/**
 * The circuit for a provider and model is open: recent calls failed in a way that says the
 * provider is unhealthy, so the attempt was not sent. `retryAt` is when one test request will go through.
 */
export class CircuitOpenError extends GroundworkError {
  readonly provider: string;
  readonly model: string;
  /** When the circuit lets a test request through, in epoch ms. */
  readonly retryAt: number;
  /** Milliseconds from now until `retryAt`. */
  readonly retryAfterMs: number;

  constructor(options: { provider: string; model: string; retryAt: number; now: number; probing?: boolean }) {
    const retryAfterMs = Math.max(0, options.retryAt - options.now);
    const state = options.probing === true ? 'half-open (a test request is in flight)' : 'open';
    super(
      'circuit_open',
      `Circuit for ${options.provider}/${options.model} is ${state} after consecutive provider failures; the attempt was not sent. ` +
        `It lets a test request through at ${at(options.retryAt)} (in ${seconds(retryAfterMs)}); try again then, or configure LLM_FALLBACKS.`,
      { retryable: true },
    );
    this.provider = options.provider;
    this.model = options.model;
    this.retryAt = options.retryAt;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Groundwork's own rate limit gave no permit within the allowed wait. */
export class RateLimitExceededError extends GroundworkError {
  readonly provider: string;
  readonly model: string;
  /** The limit that refused: requests or tokens per minute. */
  readonly limit: RateLimitKind;
  /** The configured limit, per minute. */
  readonly limitPerMinute: number;
  /** How long the caller waited before being refused, in ms. */
  readonly waitedMs: number;
  /** When the bucket is expected to grant this call, in ms from now. */
  readonly retryAfterMs: number;

  constructor(options: {
    provider: string;
    model: string;
    limit: RateLimitKind;
    limitPerMinute: number;
    waitedMs: number;
    retryAfterMs: number;
  }) {
    super(
      'rate_limit_exceeded',
      `Rate limit of ${options.limitPerMinute} ${options.limit} per minute for ${options.provider}/${options.model} reached; ` +
        `waited ${Math.round(options.waitedMs)} ms without a permit (LLM_RATE_LIMIT_MAX_WAIT_MS). Try again in ${Math.ceil(options.retryAfterMs)} ms.`,
      { retryable: true },
    );
    this.provider = options.provider;
    this.model = options.model;
    this.limit = options.limit;
    this.limitPerMinute = options.limitPerMinute;
    this.waitedMs = options.waitedMs;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Too many calls are already waiting for a concurrency slot for this provider. */
export class QueueFullError extends GroundworkError {
  readonly provider: string;
  readonly queueMax: number;
  readonly maxConcurrent: number;
  /** No estimate: a slot frees when any call in flight ends. */
  readonly retryAfterMs: number | undefined = undefined;

  constructor(options: { provider: string; queueMax: number; maxConcurrent: number }) {
    super(
      'queue_full',
      `${options.provider}: ${options.maxConcurrent} calls in flight and ${options.queueMax} waiting (LLM_MAX_CONCURRENT, LLM_QUEUE_MAX); ` +
        'the call was refused at once. Try again shortly, or raise the limits.',
      { retryable: true },
    );
    this.provider = options.provider;
    this.queueMax = options.queueMax;
    this.maxConcurrent = options.maxConcurrent;
  }
}

/** A call waited for a concurrency slot longer than allowed. */
export class QueueTimeoutError extends GroundworkError {
  readonly provider: string;
  readonly waitedMs: number;
  readonly maxConcurrent: number;
  readonly retryAfterMs: number | undefined = undefined;

  constructor(options: { provider: string; waitedMs: number; maxConcurrent: number }) {
    super(
      'queue_timeout',
      `${options.provider}: no concurrency slot freed within ${Math.round(options.waitedMs)} ms (${options.maxConcurrent} calls in flight, ` +
        'LLM_QUEUE_TIMEOUT_MS); the call was not sent. Try again shortly.',
      { retryable: true },
    );
    this.provider = options.provider;
    this.waitedMs = options.waitedMs;
    this.maxConcurrent = options.maxConcurrent;
  }
}

/** The whole call, every attempt and fallback included, would not finish within `LLM_DEADLINE_MS`. */
export class DeadlineExceededError extends GroundworkError {
  readonly deadlineMs: number;
  readonly elapsedMs: number;
  /** The provider's own wait hint when one was known (the next attempt would have started after it). */
  readonly retryAfterMs: number | undefined;

  constructor(options: { deadlineMs: number; elapsedMs: number; reason: string; retryAfterMs?: number; cause?: unknown }) {
    super(
      'deadline_exceeded',
      `The call's deadline of ${options.deadlineMs} ms (LLM_DEADLINE_MS) ${options.reason} after ${Math.round(options.elapsedMs)} ms; ` +
        'the call was given up. Try again later or raise the deadline.',
      { cause: options.cause, retryable: false },
    );
    this.deadlineMs = options.deadlineMs;
    this.elapsedMs = options.elapsedMs;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The provider asked for a longer pause than `LLM_RETRY_AFTER_MAX_MS` allows waiting for. */
export class RetryAfterTooLongError extends GroundworkError {
  readonly provider: string;
  readonly model: string;
  /** What the provider asked for, in ms. */
  readonly retryAfterMs: number;
  /** When the provider will accept requests again, in epoch ms. */
  readonly retryAt: number;
  /** The longest wait Groundwork obeys, in ms. */
  readonly maxRetryAfterMs: number;

  constructor(options: { provider: string; model: string; retryAfterMs: number; maxRetryAfterMs: number; now: number; cause?: unknown }) {
    const retryAt = options.now + options.retryAfterMs;
    super(
      'retry_after_too_long',
      `${options.provider}/${options.model} asked to wait ${seconds(options.retryAfterMs)} before the next request, longer than ` +
        `LLM_RETRY_AFTER_MAX_MS (${options.maxRetryAfterMs} ms); it will accept requests again at ${at(retryAt)}.`,
      { cause: options.cause, retryable: false },
    );
    this.provider = options.provider;
    this.model = options.model;
    this.retryAfterMs = options.retryAfterMs;
    this.retryAt = retryAt;
    this.maxRetryAfterMs = options.maxRetryAfterMs;
  }
}

/** The shared rate-limit store (Redis) is unreachable and `LLM_RATE_LIMIT_ON_STORE_FAILURE=refuse`. */
export class RateLimitStoreUnavailableError extends GroundworkError {
  /** When the store will be tried again, in ms from now. */
  readonly retryAfterMs: number;

  constructor(options: { retryAfterMs: number; cause?: unknown }) {
    super(
      'rate_limit_store_unavailable',
      'The shared rate-limit store (Redis) is unreachable and LLM_RATE_LIMIT_ON_STORE_FAILURE=refuse, so the call was not sent. ' +
        `Try again in ${Math.ceil(options.retryAfterMs)} ms, or set it to "local".`,
      { cause: options.cause, retryable: true },
    );
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The pipeline was closed while the call waited. */
export class PipelineClosedError extends GroundworkError {
  constructor() {
    super('pipeline_closed', 'The call pipeline was closed (shutdown) before the call was sent; do not call it after close().');
  }
}
