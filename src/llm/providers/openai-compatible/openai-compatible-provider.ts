import type { Secret } from '../../../config/secret.js';
import { UpstreamClient, upstreamTarget } from '../../http/upstream-client.js';
import type { LlmProvider } from '../../types.js';
import { KeyedClient } from '../keyed-client.js';
import { OpenAiChatProvider } from '../openai/openai-chat.js';
import { JSON_HEADERS, targetForEveryModel, targetPerModel } from '../openai/openai-http.js';

/** Settings of an OpenAI-compatible server (Ollama, vLLM, LM Studio, llama.cpp's server). */
export interface OpenAiCompatibleProviderOptions {
  /** The server's OpenAI-style base URL, e.g. `http://localhost:11434/v1`. */
  baseUrl: string;
  model: string;
  /** Many local servers need none. Read at each call. */
  apiKey?: Secret | undefined;
  /** The HTTP client's own timeout (headers, then between body chunks), a backstop behind Groundwork's per-attempt timeout, in ms. @default 600000 */
  timeoutMs?: number | undefined;
}

/** Sent when the server needs no key: some servers insist on an `Authorization` header, and local ones ignore it. */
const NO_KEY = 'not-needed';

/**
 * An OpenAI-compatible server, over HTTP directly (no retries of its own). It gets the OpenAI
 * body, with three concessions to what these servers support widely: `max_tokens` rather than
 * `max_completion_tokens`, `developer` messages sent as `system`, and structured output asked for
 * with JSON mode plus the schema in the system message rather than `json_schema` (the answer is
 * validated either way). Every other field, pass-through ones included, is sent as it is; a server
 * that lacks one answers with its own error.
 */
export function createOpenAiCompatibleProvider(options: OpenAiCompatibleProviderOptions): LlmProvider {
  const headers = new KeyedClient((key) => Object.freeze({ ...JSON_HEADERS, authorization: `Bearer ${key ?? NO_KEY}` }));
  return new OpenAiChatProvider({
    name: 'openai-compatible',
    defaultModel: options.model,
    http: {
      client: new UpstreamClient({ timeoutMs: options.timeoutMs }),
      headers: () => headers.get(options.apiKey?.reveal()),
      chat: targetForEveryModel(upstreamTarget(options.baseUrl, '/chat/completions')),
      models: upstreamTarget(options.baseUrl, '/models'),
      embeddings: targetPerModel(() => upstreamTarget(options.baseUrl, '/embeddings')),
    },
    dialect: { tokenField: 'max_tokens', nativeJsonSchema: false, developerRole: false, compatibleAnswerFields: true },
    // Not every compatible server knows `encoding_format: base64`; floats are understood by all.
    embeddings: { encoding: 'float' },
  });
}
