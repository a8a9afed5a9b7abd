import {
  createProviderError,
  type ProviderError,
  type ProviderErrorKind,
  type ProviderErrorOptions,
} from '../../errors/provider-errors.js';
import { scrubSecrets } from '../../observability/redact.js';

/** Builds the subclass for `kind`, with the detail scrubbed of anything shaped like a secret. */
export function providerError(kind: ProviderErrorKind, detail: string, options: ProviderErrorOptions): ProviderError {
  return createProviderError(kind, scrubSecrets(detail), options);
}
