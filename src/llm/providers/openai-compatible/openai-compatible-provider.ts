import OpenAI from 'openai';
import type { Secret } from '../../../config/secret.js';
import type { LlmProvider } from '../../types.js';
import { KeyedClient } from '../keyed-client.js';
import { OpenAiChatProvider } from '../openai/openai-chat.js';

/** Settings of an OpenAI-compatible server (Ollama, vLLM, LM Studio, llama.cpp's server). */
export interface OpenAiCompatibleProviderOptions {
  /** The server's OpenAI-style base URL, e.g. `http://localhost:11434/v1`. */
  baseUrl: string;
  model: string;
  /** Many local servers need none. Read at each call. */
  apiKey?: Secret | undefined;
  /** The SDK's own request timeout, a backstop behind Groundwork's per-attempt timeout, in ms. @default 600000 */
  timeoutMs?: number | undefined;
}

/** Sent when the server needs no key: the SDK requires one, and local servers ignore it. */
const NO_KEY = 'not-needed';

/**
 * An OpenAI-compatible server through the OpenAI SDK (retries off). It gets the OpenAI body, with
 * three concessions to what these servers support widely: `max_tokens` rather than
 * `max_completion_tokens`, `developer` messages sent as `system`, and structured output asked for
 * with JSON mode plus the schema in the system message rather than `json_schema` (the answer is
 * validated either way). Every other field, pass-through ones included, is sent as it is; a server
 * that lacks one answers with its own error.
 */
export function createOpenAiCompatibleProvider(options: OpenAiCompatibleProviderOptions): LlmProvider {
  const clients = new KeyedClient(
    (key) =>
      new OpenAI({
        apiKey: key ?? NO_KEY,
        baseURL: options.baseUrl,
        organization: null,
        project: null,
        maxRetries: 0,
        timeout: options.timeoutMs ?? 600_000,
        logLevel: 'off',
      }),
  );
  return new OpenAiChatProvider({
    name: 'openai-compatible',
    defaultModel: options.model,
    client: () => clients.get(options.apiKey?.reveal()),
    dialect: { tokenField: 'max_tokens', nativeJsonSchema: false, developerRole: false },
    // Not every compatible server knows `encoding_format: base64`; floats are understood by all.
    embeddings: { client: () => clients.get(options.apiKey?.reveal()), encoding: 'float' },
  });
}
