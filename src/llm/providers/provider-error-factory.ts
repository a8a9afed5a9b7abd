import {
  createProviderError,
  type ProviderError,
  type ProviderErrorKind,
  type ProviderErrorOptions,
} from '../../errors/provider-errors.js';
import { redactValue, scrubSecrets } from '../../observability/redact.js';

/**
 * Builds the subclass for `kind`, with the detail scrubbed of anything shaped like a secret. The
 * SDK's error stays as `cause` for debugging, scrubbed too: providers echo keys in error bodies,
 * and `util.inspect` prints the cause chain.
 */
export function providerError(kind: ProviderErrorKind, detail: string, options: ProviderErrorOptions): ProviderError {
  if (options.cause !== undefined) scrubCause(options.cause, 0);
  return createProviderError(kind, scrubSecrets(detail), options);
}

function scrubCause(cause: unknown, depth: number): void {
  if (!(cause instanceof Error) || depth > 4) return;
  cause.message = scrubSecrets(cause.message);
  if (cause.stack !== undefined) cause.stack = scrubSecrets(cause.stack);
  const fields = cause as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'string') fields[key] = scrubSecrets(value);
    else if (typeof value === 'object' && value !== null && key !== 'headers' && key !== 'cause') fields[key] = redactValue(value);
  }
  scrubCause(cause.cause, depth + 1);
}
