import type { ChoiceLogprobs, FinishReason, TokenLogprob, TokenUsage, ToolCall } from '../llm/types.js';

/** OpenAI's `usage` object, with every detail it reports (0 where the provider reported none). */
export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

/** OpenAI's `finish_reason`; Groundwork's `unknown` is reported as `stop`. */
export type OpenAiFinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls';

/** `usage` in OpenAI's shape. */
export function toOpenAiUsage(usage: TokenUsage): OpenAiUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens ?? 0, audio_tokens: usage.audioPromptTokens ?? 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens ?? 0,
      audio_tokens: usage.audioCompletionTokens ?? 0,
      accepted_prediction_tokens: usage.acceptedPredictionTokens ?? 0,
      rejected_prediction_tokens: usage.rejectedPredictionTokens ?? 0,
    },
  };
}

/** A finish reason in OpenAI's vocabulary. */
export function toOpenAiFinishReason(reason: FinishReason): OpenAiFinishReason {
  return reason === 'unknown' ? 'stop' : reason;
}

/** A choice's `logprobs` in OpenAI's shape. */
export function toOpenAiLogprobs(logprobs: ChoiceLogprobs) {
  return { content: logprobs.content?.map(toTokenLogprob) ?? null, refusal: logprobs.refusal?.map(toTokenLogprob) ?? null };
}

function toTokenLogprob(token: TokenLogprob) {
  return { token: token.token, logprob: token.logprob, bytes: token.bytes, top_logprobs: token.topLogprobs };
}

/** A whole tool call in OpenAI's shape. */
export function toOpenAiToolCall(call: ToolCall) {
  const json = { id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } };
  // Groundwork's extension: the provider's signature of the call, which the client sends back with it.
  return call.signature === undefined ? json : { ...json, signature: call.signature };
}
