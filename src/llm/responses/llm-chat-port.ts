import type { CacheOption } from '../../cache/resolve-cache-mode.js';
import type { LlmClient } from '../llm-client-types.js';
import { completionOfResponse, sentAttempts } from '../response-completion.js';
import type { UsageAttribution } from '../usage-record.js';
import type { ChatPort, ChatPortEvent } from './translated-response.js';

/** Options every chat call of a translated response takes. */
export interface ChatPortOptions {
  cache?: CacheOption | undefined;
  attribution?: UsageAttribution | undefined;
}

/** The library client's chat calls as a {@link ChatPort}: the whole call path, cache and ledger included. */
export function llmChatPort(client: Pick<LlmClient, 'complete' | 'stream'>, options: ChatPortOptions): ChatPort {
  const callOptions = (signal: AbortSignal | undefined) => ({
    ...(signal === undefined ? {} : { signal }),
    ...(options.cache === undefined ? {} : { cache: options.cache }),
    ...(options.attribution === undefined ? {} : { attribution: options.attribution }),
  });
  return {
    async complete(request, signal) {
      const response = await client.complete(request, callOptions(signal));
      return {
        completion: completionOfResponse(response),
        attempts: sentAttempts(response.metadata.attempts),
        cached: response.metadata.cached,
      };
    },
    async *stream(request, signal): AsyncGenerator<ChatPortEvent, void, undefined> {
      for await (const event of client.stream(request, callOptions(signal))) {
        if (event.type === 'tool-result') continue;
        if (event.type === 'done') yield { type: 'done', completion: completionOfResponse(event.response) };
        else if (event.type === 'start') {
          const start: ChatPortEvent = { type: 'start', attempts: event.attempts, cached: event.cached };
          if (event.rateLimitHeaders !== undefined) start.rateLimitHeaders = event.rateLimitHeaders;
          yield start;
        } else yield event;
      }
    },
  };
}
