import { createHash } from 'node:crypto';
import type { LlmProviderName } from '../config/variables.js';
import type { ChatMessage, ChatRequest } from '../llm/types.js';
import { canonicalJson } from './canonical-json.js';

/**
 * Everything that shapes an answer, and so decides whether two calls may share one: the whole
 * request (messages with their parts and tool calls, tools, every sampling and output field,
 * pass-through fields), plus who asked and for which prompt. A request can be spread in:
 * `{ ...request, provider, namespace }`. Every field is hashed.
 */
export interface CacheKeyParts extends OptionalFields<Omit<ChatRequest, 'model' | 'messages' | 'stop'>> {
  provider: LlmProviderName;
  model: string;
  messages: readonly ChatMessage[];
  stop?: readonly string[] | undefined;
  /** The schema the answer is validated against, when it is not already in `responseFormat` (JSON Schema). */
  schema?: unknown;
  /** The name of the prompt template the messages came from. */
  promptName?: string | undefined;
  /** The version of that prompt template. */
  promptVersion?: string | number | undefined;
  /** Who the entry belongs to (tenant or application), from `LLM_CACHE_NAMESPACE` unless the call says otherwise. */
  namespace: string;
}

/** Every field optional, and `undefined` allowed where absent is. */
type OptionalFields<T> = { [K in keyof T]?: T[K] | undefined };

/** Bumped when the key layout changes, so that old entries are simply never found again. */
const KEY_VERSION = 2;

/**
 * The cache key of a call: the SHA-256 (hex) of the canonical JSON of its {@link CacheKeyParts}.
 * Stable across processes and releases of the same key version; key order and absent versus
 * `undefined` fields make no difference.
 */
export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256')
    .update(canonicalJson({ v: KEY_VERSION, ...parts }))
    .digest('hex');
}
