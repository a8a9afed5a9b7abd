import type { ChatRequest } from '../../types.js';
import { toAnthropicBlock } from './anthropic-content.js';
import { ANTHROPIC_SERVICE_TIERS, anthropicMaxTokens } from './anthropic-request.js';
import { thinkingFor, thinks } from './anthropic-thinking.js';
import { toolInput } from './convert-to-anthropic-messages.js';

/** Request fields Anthropic has no counterpart for, whenever they are set. */
const ALWAYS_UNSUPPORTED = [
  ['logitBias', 'logit_bias'],
  ['topLogprobs', 'top_logprobs'],
  ['presencePenalty', 'presence_penalty'],
  ['frequencyPenalty', 'frequency_penalty'],
  ['seed', 'seed'],
  ['store', 'store'],
  ['metadata', 'metadata'],
  ['verbosity', 'verbosity'],
] as const satisfies ReadonlyArray<readonly [keyof ChatRequest, string]>;

/**
 * The fields of `request` Anthropic cannot honour, by their OpenAI wire names: sampling and
 * bookkeeping fields it lacks, `n` > 1, `logprobs`, service tiers other than `auto` and `default`,
 * every pass-through field, parts it cannot take (`messages[i].content[j]`: audio, a file by id,
 * unsupported media types), a message `name`, earlier audio answers, the images an earlier answer
 * made (its assistant turns hold no images), tool-call arguments that are not a JSON object, and
 * combinations extended thinking forbids (a `temperature` other than 1, a forced `tool_choice`, a
 * budget that does not fit in `max_tokens`).
 */
export function anthropicUnsupportedFields(request: ChatRequest, model: string, configuredMaxTokens?: number): string[] {
  const fields: string[] = [];
  for (const [field, wire] of ALWAYS_UNSUPPORTED) if (request[field] !== undefined) fields.push(wire);
  if (request.logprobs === true) fields.push('logprobs');
  if (request.n !== undefined && request.n > 1) fields.push('n');
  if (request.serviceTier !== undefined && ANTHROPIC_SERVICE_TIERS[request.serviceTier] === undefined) fields.push('service_tier');
  for (const name of Object.keys(request.passthrough ?? {})) fields.push(name);
  request.messages.forEach((message, i) => {
    if ('name' in message && message.name !== undefined) fields.push(`messages[${i}].name`);
    if (message.role === 'user' && Array.isArray(message.content)) {
      message.content.forEach((part, j) => {
        if (toAnthropicBlock(part) === undefined) fields.push(`messages[${i}].content[${j}]`);
      });
    }
    if (message.role === 'assistant') {
      if (message.audio !== undefined && message.audio !== null) fields.push(`messages[${i}].audio`);
      if (message.images !== undefined && message.images.length > 0) fields.push(`messages[${i}].images`);
      message.toolCalls?.forEach((call, j) => {
        if (toolInput(call.arguments) === undefined) fields.push(`messages[${i}].tool_calls[${j}].function.arguments`);
      });
    }
  });
  if (thinks(request.reasoningEffort)) {
    if (thinkingFor(request.reasoningEffort, anthropicMaxTokens(request, model, configuredMaxTokens)) === undefined)
      fields.push('reasoning_effort');
    if (request.temperature !== undefined && request.temperature !== 1) fields.push('temperature');
    if (request.toolChoice === 'required' || typeof request.toolChoice === 'object') fields.push('tool_choice');
  }
  return fields;
}
