import { GroundworkError } from '../../errors/groundwork-error.js';
import { ProviderTimeoutError } from '../../errors/provider-errors.js';
import { abortReason } from '../../internal/abort.js';

/**
 * The error for a request whose signal aborted. A Groundwork error as the reason (the pipeline's
 * timeout, a stream timeout) is passed through; a `TimeoutError` becomes a {@link ProviderTimeoutError};
 * anything else is the caller's own cancellation and surfaces as that abort, not as a provider failure.
 */
export function abortedError(signal: AbortSignal, provider: string, model: string): Error {
  const reason: unknown = signal.reason;
  if (GroundworkError.isInstance(reason)) return reason;
  if (typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError') {
    return new ProviderTimeoutError('no answer within the time allowed', { provider, model, cause: reason });
  }
  return abortReason(signal);
}
