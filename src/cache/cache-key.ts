import { createHash } from 'node:crypto';
import type { LlmProviderName } from '../config/variables.js';
import type { ChatMessage, ResponseFormat } from '../llm/types.js';
import { canonicalJson } from './canonical-json.js';

/**
 * Everything that shapes an answer, and so decides whether two calls may share one. The field
 * names follow {@link ChatRequest}, so a request can be spread in: `{ ...request, provider, namespace }`.
 * Only the fields listed here are hashed.
 */
export interface CacheKeyParts {
  provider: LlmProviderName;
  model: string;
  messages: readonly ChatMessage[];
  temperature?: number | undefined;
  topP?: number | undefined;
  /** Most tokens in the answer. */
  maxTokens?: number | undefined;
  stop?: readonly string[] | undefined;
  seed?: number | undefined;
  responseFormat?: ResponseFormat | undefined;
  /** The schema the answer is validated against, when it is not already in `responseFormat` (JSON Schema). */
  schema?: unknown;
  /** The name of the prompt template the messages came from. */
  promptName?: string | undefined;
  /** The version of that prompt template. */
  promptVersion?: string | number | undefined;
  /** Who the entry belongs to (tenant or application), from `LLM_CACHE_NAMESPACE` unless the call says otherwise. */
  namespace: string;
}

/** Bumped when the key layout changes, so that old entries are simply never found again. */
const KEY_VERSION = 1;

/**
 * The cache key of a call: the SHA-256 (hex) of the canonical JSON of its {@link CacheKeyParts}.
 * Stable across processes and releases of the same key version; key order and absent versus
 * `undefined` fields make no difference.
 */
export function cacheKey(parts: CacheKeyParts): string {
  const hashed = {
    v: KEY_VERSION,
    provider: parts.provider,
    model: parts.model,
    messages: parts.messages.map((message) => ({ role: message.role, content: message.content })),
    temperature: parts.temperature,
    topP: parts.topP,
    maxTokens: parts.maxTokens,
    stop: parts.stop,
    seed: parts.seed,
    responseFormat: parts.responseFormat,
    schema: parts.schema,
    promptName: parts.promptName,
    promptVersion: parts.promptVersion,
    namespace: parts.namespace,
  };
  return createHash('sha256').update(canonicalJson(hashed)).digest('hex');
}
