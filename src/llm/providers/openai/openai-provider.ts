import OpenAI from 'openai';
import type { Secret } from '../../../config/secret.js';
import type { LlmProvider } from '../../types.js';
import { KeyedClient } from '../keyed-client.js';
import { OpenAiChatProvider } from './openai-chat.js';

/** Settings of the OpenAI provider. */
export interface OpenAiProviderOptions {
  /** Read at each call, so a rotated key is used on the next request. */
  apiKey: Secret;
  model: string;
  /** @default 'https://api.openai.com/v1' */
  baseUrl?: string | undefined;
  organization?: string | undefined;
  project?: string | undefined;
  /** The SDK's own request timeout, a backstop behind Groundwork's per-attempt timeout, in ms. @default 600000 */
  timeoutMs?: number | undefined;
}

/** The OpenAI provider, on the official SDK with its retries off (Groundwork's pipeline retries). */
export function createOpenAiProvider(options: OpenAiProviderOptions): LlmProvider {
  const clients = new KeyedClient(
    (key) =>
      new OpenAI({
        apiKey: key ?? '',
        baseURL: options.baseUrl ?? 'https://api.openai.com/v1',
        organization: options.organization ?? null,
        project: options.project ?? null,
        maxRetries: 0,
        timeout: options.timeoutMs ?? 600_000,
        logLevel: 'off',
      }),
  );
  return new OpenAiChatProvider({
    name: 'openai',
    defaultModel: options.model,
    client: () => clients.get(options.apiKey.reveal()),
    dialect: { tokenField: 'max_completion_tokens', nativeJsonSchema: true, developerRole: true },
    embeddings: { client: () => clients.get(options.apiKey.reveal()), encoding: 'base64' },
  });
}
