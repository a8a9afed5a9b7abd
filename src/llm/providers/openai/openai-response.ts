import type { ChatCompletion as OpenAiCompletion } from 'openai/resources/chat/completions';
import type { CompletionBase } from '../../model/completion-of.js';
import type { AnswerMessage, ChatChoice, ToolCall } from '../../types.js';
import { answerIndex } from '../answer-index.js';
import { mapOpenAiFinishReason } from './map-openai-finish-reason.js';
import { openAiCreated } from './openai-created.js';
import { mapOpenAiLogprobs } from './openai-logprobs.js';
import { mapOpenAiUsage } from './openai-usage.js';

/** Message fields Groundwork models; the others are kept verbatim in `passthrough`. */
const MODELLED_MESSAGE_FIELDS = new Set(['role', 'content', 'refusal', 'tool_calls']);

/** OpenAI's tool calls as Groundwork's (function calls only; custom tool calls are kept in `passthrough`). */
export function mapOpenAiToolCalls(calls: readonly unknown[] | null | undefined): ToolCall[] {
  const result: ToolCall[] = [];
  for (const call of calls ?? []) {
    const wire = call as { id?: string; type?: string; function?: { name?: string; arguments?: string } };
    if (wire.function === undefined) continue;
    result.push({ id: wire.id ?? '', type: 'function', name: wire.function.name ?? '', arguments: wire.function.arguments ?? '' });
  }
  return result;
}

/** One answer message as Groundwork's: text, tool calls, refusal, and the unmodelled fields verbatim. */
export function mapOpenAiMessage(message: Record<string, unknown>): AnswerMessage {
  const content = message['content'];
  const answer: AnswerMessage = { content: typeof content === 'string' ? content : null };
  const rawCalls = Array.isArray(message['tool_calls']) ? (message['tool_calls'] as unknown[]) : [];
  const toolCalls = mapOpenAiToolCalls(rawCalls);
  if (toolCalls.length > 0) answer.toolCalls = toolCalls;
  if (typeof message['refusal'] === 'string') answer.refusal = message['refusal'];
  const passthrough: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) {
    if (!MODELLED_MESSAGE_FIELDS.has(key) && value !== null && value !== undefined) passthrough[key] = value;
  }
  const custom = rawCalls.filter((call) => (call as { function?: unknown }).function === undefined);
  if (custom.length > 0) passthrough['tool_calls'] = custom;
  if (Object.keys(passthrough).length > 0) answer.passthrough = passthrough;
  return answer;
}

/** Every choice of an OpenAI answer, in index order (an index that is not a non-negative integer fails it). */
export function mapOpenAiChoices(choices: OpenAiCompletion['choices'], provider: string, model: string): ChatChoice[] {
  return choices
    .map((choice, position) => {
      const mapped: ChatChoice = {
        index: answerIndex(choice.index, position, 'choice index', provider, model),
        message: mapOpenAiMessage(choice.message as unknown as Record<string, unknown>),
        finishReason: mapOpenAiFinishReason(choice.finish_reason),
      };
      const logprobs = mapOpenAiLogprobs(choice.logprobs);
      if (logprobs !== undefined) mapped.logprobs = logprobs;
      return mapped;
    })
    .sort((left, right) => left.index - right.index);
}

/** The answer-level facts of an OpenAI completion (everything but provider, request id and headers). */
export function mapOpenAiCompletion(data: OpenAiCompletion, fallbackModel: string, provider: string): Omit<CompletionBase, 'provider'> {
  const model = typeof data.model === 'string' && data.model !== '' ? data.model : fallbackModel;
  const base: Omit<CompletionBase, 'provider'> = {
    model,
    choices: mapOpenAiChoices(data.choices, provider, model),
    usage: mapOpenAiUsage(data.usage),
  };
  if (typeof data.id === 'string' && data.id !== '') base.id = data.id;
  const created = openAiCreated(data.created);
  if (created !== undefined) base.created = created;
  if (typeof data.system_fingerprint === 'string') base.systemFingerprint = data.system_fingerprint;
  if (typeof data.service_tier === 'string') base.serviceTier = data.service_tier;
  return base;
}
