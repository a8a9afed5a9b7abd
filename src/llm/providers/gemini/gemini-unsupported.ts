import type { ChatRequest } from '../../types.js';
import { functionArgs, toGeminiPart } from './convert-to-gemini-contents.js';

/** Request fields Gemini has no counterpart for, whenever they are set. */
const ALWAYS_UNSUPPORTED = [
  ['logitBias', 'logit_bias'],
  ['topLogprobs', 'top_logprobs'],
  ['user', 'user'],
  ['store', 'store'],
  ['metadata', 'metadata'],
  ['serviceTier', 'service_tier'],
  ['verbosity', 'verbosity'],
] as const satisfies ReadonlyArray<readonly [keyof ChatRequest, string]>;

/**
 * The fields of `request` Gemini cannot honour, by their OpenAI wire names: the bookkeeping and
 * sampling fields it lacks, `logprobs`, `parallel_tool_calls: false` (Gemini cannot be held to one
 * call), every pass-through field, a message `name`, parts it cannot take (`messages[i].content[j]`:
 * a remote image URL, a file by id, media types it does not read; `messages[i].images[j]`: an earlier
 * answer's image of a media type it does not read), earlier audio answers, tool-call
 * arguments that are not a JSON object, and tool results that answer no earlier call (Gemini answers
 * a call by its function's name).
 */
export function geminiUnsupportedFields(request: ChatRequest): string[] {
  const fields: string[] = [];
  for (const [field, wire] of ALWAYS_UNSUPPORTED) if (request[field] !== undefined) fields.push(wire);
  if (request.logprobs === true) fields.push('logprobs');
  if (request.parallelToolCalls === false) fields.push('parallel_tool_calls');
  for (const name of Object.keys(request.passthrough ?? {})) fields.push(name);
  const calls = new Set<string>();
  request.messages.forEach((message, i) => {
    if ('name' in message && message.name !== undefined) fields.push(`messages[${i}].name`);
    if (message.role === 'user' && Array.isArray(message.content)) {
      message.content.forEach((part, j) => {
        if (toGeminiPart(part) === undefined) fields.push(`messages[${i}].content[${j}]`);
      });
    }
    if (message.role === 'assistant') {
      if (message.audio !== undefined && message.audio !== null) fields.push(`messages[${i}].audio`);
      message.images?.forEach((image, j) => {
        if (toGeminiPart(image) === undefined) fields.push(`messages[${i}].images[${j}]`);
      });
      message.toolCalls?.forEach((call, j) => {
        calls.add(call.id);
        if (functionArgs(call.arguments) === undefined) fields.push(`messages[${i}].tool_calls[${j}].function.arguments`);
      });
    }
    if (message.role === 'tool' && !calls.has(message.toolCallId)) fields.push(`messages[${i}].tool_call_id`);
  });
  return fields;
}
