import type { ChatCompletion, FinishReason, TokenUsage } from '../llm/types.js';

/** OpenAI's `usage` object. */
export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/** OpenAI's `finish_reason`; Groundwork's `unknown` is reported as `stop`. */
export type OpenAiFinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls';

/** What every answer of one request shares: its id, creation time and answering model. */
export interface CompletionIdentity {
  /** `chatcmpl-…`. */
  id: string;
  /** Unix seconds. */
  created: number;
}

/** `usage` in OpenAI's shape. */
export function toOpenAiUsage(usage: TokenUsage): OpenAiUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
  };
}

/** A finish reason in OpenAI's vocabulary. */
export function toOpenAiFinishReason(reason: FinishReason): OpenAiFinishReason {
  return reason === 'unknown' ? 'stop' : reason;
}

/** A whole answer as OpenAI's `chat.completion` object. */
export function toChatCompletionJson(identity: CompletionIdentity, completion: ChatCompletion) {
  return {
    id: identity.id,
    object: 'chat.completion' as const,
    created: identity.created,
    model: completion.model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: completion.content, refusal: null },
        logprobs: null,
        finish_reason: toOpenAiFinishReason(completion.finishReason),
      },
    ],
    usage: toOpenAiUsage(completion.usage),
  };
}

/** What one streamed chunk carries. */
export type ChunkContent =
  | { kind: 'role' }
  | { kind: 'delta'; text: string }
  | { kind: 'finish'; reason: FinishReason }
  | { kind: 'usage'; usage: TokenUsage };

/**
 * One `chat.completion.chunk`. With `include_usage`, every chunk carries `usage: null` and the last
 * one has empty `choices` and the usage, as OpenAI sends them.
 */
export function toChunkJson(identity: CompletionIdentity, model: string, content: ChunkContent, includeUsage: boolean) {
  const base = { id: identity.id, object: 'chat.completion.chunk' as const, created: identity.created, model, system_fingerprint: null };
  if (content.kind === 'usage') return { ...base, choices: [], usage: toOpenAiUsage(content.usage) };
  const choice =
    content.kind === 'role'
      ? { index: 0, delta: { role: 'assistant' as const, content: '' }, logprobs: null, finish_reason: null }
      : content.kind === 'delta'
        ? { index: 0, delta: { content: content.text }, logprobs: null, finish_reason: null }
        : { index: 0, delta: {}, logprobs: null, finish_reason: toOpenAiFinishReason(content.reason) };
  return includeUsage ? { ...base, choices: [choice], usage: null } : { ...base, choices: [choice] };
}
