import type { ChatChoice, ChatCompletion } from '../llm/types.js';
import { toOpenAiFinishReason, toOpenAiLogprobs, toOpenAiToolCall, toOpenAiUsage } from './openai-wire.js';

/** What every answer of one request shares: its id and creation time. */
export interface CompletionIdentity {
  /** `chatcmpl-…`. */
  id: string;
  /** Unix seconds. */
  created: number;
}

/**
 * A whole answer as OpenAI's `chat.completion` object: every choice, with tool calls, refusal and
 * log probabilities; the provider's id and creation time when it gave them (else `fallback`);
 * `system_fingerprint` and `service_tier` only when known (the spec types them as strings, not null).
 */
export function toChatCompletionJson(fallback: CompletionIdentity, completion: ChatCompletion) {
  return {
    id: completion.id ?? fallback.id,
    object: 'chat.completion' as const,
    created: completion.created ?? fallback.created,
    model: completion.model,
    ...serviceFields(completion),
    choices: completion.choices.map(toChoiceJson),
    usage: toOpenAiUsage(completion.usage),
  };
}

/** `system_fingerprint` and `service_tier`, each present only when the provider said it. */
export function serviceFields(completion: ChatCompletion): { system_fingerprint?: string; service_tier?: string } {
  return {
    ...(completion.systemFingerprint === undefined ? {} : { system_fingerprint: completion.systemFingerprint }),
    ...(completion.serviceTier === undefined ? {} : { service_tier: completion.serviceTier }),
  };
}

function toChoiceJson(choice: ChatChoice) {
  const { message } = choice;
  const toolCalls = message.toolCalls ?? [];
  return {
    index: choice.index,
    message: {
      // Unmodelled answer fields (`audio`, `annotations`…) first, so the modelled ones win.
      ...message.passthrough,
      role: 'assistant' as const,
      content: message.content,
      refusal: message.refusal ?? null,
      ...(toolCalls.length === 0 ? {} : { tool_calls: toolCalls.map(toOpenAiToolCall) }),
    },
    logprobs: choice.logprobs === undefined ? null : toOpenAiLogprobs(choice.logprobs),
    finish_reason: toOpenAiFinishReason(choice.finishReason),
  };
}
