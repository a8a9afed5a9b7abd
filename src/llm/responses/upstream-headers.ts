import { GroundworkError } from '../../errors/groundwork-error.js';
import { abortReason } from '../../internal/abort.js';
import { providerError } from '../providers/provider-error-factory.js';
import type { ResponsesUpstream } from './responses-upstream.js';

/**
 * The request headers of `upstream`, or the reason of `signal` as soon as it aborts, however long
 * its credentials take (an Azure token provider that hangs). A Groundwork error (a key not
 * configured) is thrown as it is; anything else the credentials threw becomes an authentication
 * error of that upstream, the original as its cause.
 */
export async function upstreamHeaders(
  upstream: ResponsesUpstream,
  where: { provider: string; model: string },
  signal: AbortSignal,
): Promise<Record<string, string>> {
  if (signal.aborted) throw abortReason(signal);
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(() => upstream.headers())
        .catch((error: unknown) => {
          if (signal.aborted || GroundworkError.isInstance(error)) throw error;
          const detail = error instanceof Error ? error.message : String(error);
          throw providerError('authentication', `could not get the credentials: ${detail}`, { ...where, cause: error });
        }),
      aborted,
    ]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
