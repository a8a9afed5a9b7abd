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
 * log probabilities; the provider's id and creation time when it gave them (else `fallback`'s,
 * asked for only then when it is a function);
 * `system_fingerprint` and `service_tier` only when known (the spec types them as strings, not null).
 */
export function toChatCompletionJson(fallback: CompletionIdentity | (() => CompletionIdentity), completion: ChatCompletion) {
  const identity =
    completion.id !== undefined && completion.created !== undefined ? undefined : typeof fallback === 'function' ? fallback() : fallback;
  // Built field by field, in the order OpenAI writes them: a spread copies through a slower path.
  const answer = {
    id: completion.id ?? (identity as CompletionIdentity).id,
    object: 'chat.completion',
    created: completion.created ?? (identity as CompletionIdentity).created,
    model: completion.model,
  } as ChatCompletionJson;
  if (completion.systemFingerprint !== undefined) answer.system_fingerprint = completion.systemFingerprint;
  if (completion.serviceTier !== undefined) answer.service_tier = completion.serviceTier;
  answer.choices = completion.choices.map(toChoiceJson);
  answer.usage = toOpenAiUsage(completion.usage);
  return answer;
}

/** OpenAI's `chat.completion` object as {@link toChatCompletionJson} writes it. */
interface ChatCompletionJson {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  service_tier?: string;
  choices: ReturnType<typeof toChoiceJson>[];
  usage: ReturnType<typeof toOpenAiUsage>;
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
  // Unmodelled answer fields (`audio`, `annotations`…) first, so the modelled ones win.
  const json: Record<string, unknown> = message.passthrough === undefined ? {} : { ...message.passthrough };
  json['role'] = 'assistant';
  json['content'] = message.content;
  json['refusal'] = message.refusal ?? null;
  if (message.toolCalls !== undefined && message.toolCalls.length > 0) json['tool_calls'] = message.toolCalls.map(toOpenAiToolCall);
  // Groundwork's extension: the reasoning the provider needs back, which the client sends back in this message.
  if (message.reasoning !== undefined && message.reasoning.length > 0) json['reasoning_blocks'] = message.reasoning;
  return {
    index: choice.index,
    message: json as {
      role: 'assistant';
      content: string | null;
      refusal: string | null;
      tool_calls?: ReturnType<typeof toOpenAiToolCall>[];
    },
    logprobs: choice.logprobs === undefined ? null : toOpenAiLogprobs(choice.logprobs),
    finish_reason: toOpenAiFinishReason(choice.finishReason),
  };
}
