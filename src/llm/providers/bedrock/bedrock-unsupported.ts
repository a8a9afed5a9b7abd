import type { ChatRequest } from '../../types.js';
import { toBedrockBlock, toolInput } from './convert-to-bedrock-messages.js';

/** Request fields Converse has no counterpart for, whenever they are set. */
const ALWAYS_UNSUPPORTED = [
  ['logitBias', 'logit_bias'],
  ['topLogprobs', 'top_logprobs'],
  ['presencePenalty', 'presence_penalty'],
  ['frequencyPenalty', 'frequency_penalty'],
  ['seed', 'seed'],
  ['user', 'user'],
  ['store', 'store'],
  ['serviceTier', 'service_tier'],
  ['verbosity', 'verbosity'],
  ['reasoningEffort', 'reasoning_effort'],
] as const satisfies ReadonlyArray<readonly [keyof ChatRequest, string]>;

/**
 * The fields of `request` Converse cannot honour, by their OpenAI wire names: sampling and
 * bookkeeping fields it lacks, `n` > 1, `logprobs`, `parallel_tool_calls: false`, every pass-through field, a message `name`, parts it cannot take (`messages[i].content[j]`:
 * audio, a remote image, a file by id, other media types), earlier audio answers, the images an
 * earlier answer made (its assistant turns hold no images), and tool-call arguments that are not a
 * JSON object. `tool_choice: none` is honoured by offering no tools, which
 * Converse allows only while the conversation holds no tool calls or results: after them it is refused.
 * Model-specific settings (thinking, `top_k`) have no neutral field and are not sent.
 */
export function bedrockUnsupportedFields(request: ChatRequest): string[] {
  const fields: string[] = [];
  for (const [field, wire] of ALWAYS_UNSUPPORTED) if (request[field] !== undefined) fields.push(wire);
  if (request.logprobs === true) fields.push('logprobs');
  if (request.n !== undefined && request.n > 1) fields.push('n');
  if (request.parallelToolCalls === false) fields.push('parallel_tool_calls');
  if (request.toolChoice === 'none' && holdsToolTurns(request)) fields.push('tool_choice');
  for (const name of Object.keys(request.passthrough ?? {})) fields.push(name);
  request.messages.forEach((message, i) => {
    if ('name' in message && message.name !== undefined) fields.push(`messages[${i}].name`);
    if (message.role === 'user' && Array.isArray(message.content)) {
      message.content.forEach((part, j) => {
        if (toBedrockBlock(part, j) === undefined) fields.push(`messages[${i}].content[${j}]`);
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
  return fields;
}

/** Whether the conversation holds tool calls or tool results (Converse then requires `toolConfig`). */
function holdsToolTurns(request: ChatRequest): boolean {
  return request.messages.some(
    (message) => message.role === 'tool' || (message.role === 'assistant' && (message.toolCalls?.length ?? 0) > 0),
  );
}
