import { LLM_PROVIDERS } from '../config/variables.js';
import type { ChatCompletion, FinishReason, TokenUsage } from '../llm/types.js';
import type { CacheValueCodec } from './cache-store.js';
import { CorruptCacheEntryError } from './corrupt-cache-entry-error.js';

/** The version of the stored value layout; a value of any other version reads as corrupt. */
export const CACHE_ENTRY_VERSION = 2;

const FINISH_REASONS: readonly FinishReason[] = ['stop', 'length', 'content_filter', 'tool_calls', 'unknown'];

/** Serialises a completion as stored: `{"version":2,"completion":{…}}`, every choice, tool call and field included. */
export function encodeCacheEntry(completion: ChatCompletion): string {
  return JSON.stringify({ version: CACHE_ENTRY_VERSION, completion });
}

/** Reads a stored value back, checking its version and shape. Throws {@link CorruptCacheEntryError}. */
export function decodeCacheEntry(text: string): ChatCompletion {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CorruptCacheEntryError('not JSON');
  }
  if (!isRecord(parsed)) throw new CorruptCacheEntryError('not an object');
  if (parsed['version'] !== CACHE_ENTRY_VERSION)
    throw new CorruptCacheEntryError(`version ${String(parsed['version'])}, expected ${CACHE_ENTRY_VERSION}`);
  const completion = parsed['completion'];
  if (!isRecord(completion)) throw new CorruptCacheEntryError('no completion');
  const { provider, model, content, finishReason, usage, requestId, choices } = completion;
  if (typeof provider !== 'string' || !(LLM_PROVIDERS as readonly string[]).includes(provider))
    throw new CorruptCacheEntryError('bad provider');
  if (typeof model !== 'string' || typeof content !== 'string') throw new CorruptCacheEntryError('bad model or content');
  if (typeof finishReason !== 'string' || !(FINISH_REASONS as readonly string[]).includes(finishReason)) {
    throw new CorruptCacheEntryError('bad finish reason');
  }
  if (requestId !== undefined && typeof requestId !== 'string') throw new CorruptCacheEntryError('bad request id');
  if (!Array.isArray(choices) || choices.length === 0 || !choices.every((choice) => isRecord(choice) && isRecord(choice['message']))) {
    throw new CorruptCacheEntryError('bad choices');
  }
  // The rest of the answer (tool calls, refusal, logprobs, ids) is carried as stored.
  return { ...(completion as unknown as ChatCompletion), usage: decodeUsage(usage) };
}

function decodeUsage(value: unknown): TokenUsage {
  if (!isRecord(value)) throw new CorruptCacheEntryError('no usage');
  const { promptTokens, completionTokens, totalTokens } = value;
  if (!isCount(promptTokens) || !isCount(completionTokens) || !isCount(totalTokens)) throw new CorruptCacheEntryError('bad usage');
  for (const [field, count] of Object.entries(value)) if (!isCount(count)) throw new CorruptCacheEntryError(`bad usage: ${field}`);
  return value as unknown as TokenUsage;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** The stores' default codec: answers, as {@link encodeCacheEntry} writes them. */
export const COMPLETION_CODEC: CacheValueCodec<ChatCompletion> = { encode: encodeCacheEntry, decode: decodeCacheEntry };
