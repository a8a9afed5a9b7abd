import type { CacheOption } from '../../cache/resolve-cache-mode.js';
import type { ChatPort } from '../../llm/responses/translated-response.js';
import type { ServiceBackend } from '../service-backend.js';

/** The backend's chat calls (a virtual key's budgets included, when it is one) as a translated response's {@link ChatPort}. */
export function serviceChatPort(backend: ServiceBackend, options: { requestId: string; cache: CacheOption | undefined }): ChatPort {
  const callOptions = (signal: AbortSignal | undefined) => ({
    signal: signal ?? new AbortController().signal,
    requestId: options.requestId,
    ...(options.cache === undefined ? {} : { cache: options.cache }),
  });
  return {
    complete: (request, signal) => backend.complete(request, callOptions(signal)),
    stream: (request, signal) => backend.stream(request, callOptions(signal)),
  };
}
