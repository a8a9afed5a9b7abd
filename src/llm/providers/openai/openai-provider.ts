import type { Secret } from '../../../config/secret.js';
import { UpstreamClient, upstreamTarget } from '../../http/upstream-client.js';
import type { LlmProvider } from '../../types.js';
import { KeyedClient } from '../keyed-client.js';
import { OpenAiChatProvider } from './openai-chat.js';
import { JSON_HEADERS, targetForEveryModel, targetPerModel } from './openai-http.js';

/** Settings of the OpenAI provider. */
export interface OpenAiProviderOptions {
  /** Read at each call, so a rotated key is used on the next request. */
  apiKey: Secret;
  model: string;
  /** @default 'https://api.openai.com/v1' */
  baseUrl?: string | undefined;
  organization?: string | undefined;
  project?: string | undefined;
  /** The HTTP client's own timeout (headers, then between body chunks), a backstop behind Groundwork's per-attempt timeout, in ms. @default 600000 */
  timeoutMs?: number | undefined;
}

/**
 * The OpenAI provider, over HTTP directly: `Authorization: Bearer`, and `OpenAI-Organization` and
 * `OpenAI-Project` when set. It never retries by itself (Groundwork's pipeline retries).
 */
export function createOpenAiProvider(options: OpenAiProviderOptions): LlmProvider {
  const baseUrl = options.baseUrl ?? 'https://api.openai.com/v1';
  const fixed: Record<string, string> = { ...JSON_HEADERS };
  if (options.organization !== undefined) fixed['openai-organization'] = options.organization;
  if (options.project !== undefined) fixed['openai-project'] = options.project;
  const headers = new KeyedClient((key) => Object.freeze({ ...fixed, authorization: `Bearer ${key ?? ''}` }));
  return new OpenAiChatProvider({
    name: 'openai',
    defaultModel: options.model,
    http: {
      client: new UpstreamClient({ timeoutMs: options.timeoutMs }),
      headers: () => headers.get(options.apiKey.reveal()),
      chat: targetForEveryModel(upstreamTarget(baseUrl, '/chat/completions')),
      models: upstreamTarget(baseUrl, '/models'),
      embeddings: targetPerModel(() => upstreamTarget(baseUrl, '/embeddings')),
    },
    dialect: { tokenField: 'max_completion_tokens', nativeJsonSchema: true, developerRole: true, compatibleAnswerFields: false },
    embeddings: { encoding: 'base64' },
  });
}
