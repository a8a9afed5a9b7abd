import type { ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions';
import type { ChatRequest } from '../../types.js';
import { withJsonInstructions } from '../structured-instructions.js';
import { toOpenAiMessages } from './convert-to-openai-messages.js';
import type { OpenAiDialect } from './openai-dialect.js';
import { toOpenAiToolChoice, toOpenAiTools } from './openai-prepare-tools.js';

export type { OpenAiDialect } from './openai-dialect.js';

/** Modelled request fields and their OpenAI wire names, for those that map one to one. */
const DIRECT_FIELDS = [
  ['temperature', 'temperature'],
  ['topP', 'top_p'],
  ['stop', 'stop'],
  ['seed', 'seed'],
  ['parallelToolCalls', 'parallel_tool_calls'],
  ['n', 'n'],
  ['logprobs', 'logprobs'],
  ['topLogprobs', 'top_logprobs'],
  ['presencePenalty', 'presence_penalty'],
  ['frequencyPenalty', 'frequency_penalty'],
  ['logitBias', 'logit_bias'],
  ['user', 'user'],
  ['metadata', 'metadata'],
  ['store', 'store'],
  ['serviceTier', 'service_tier'],
  ['reasoningEffort', 'reasoning_effort'],
  ['verbosity', 'verbosity'],
] as const satisfies ReadonlyArray<readonly [keyof ChatRequest, string]>;

/**
 * Builds the OpenAI wire body (without `stream`) from Groundwork's {@link ChatRequest}: every
 * modelled field under its wire name, `max_completion_tokens` or `max_tokens` (per dialect) only
 * when the request sets `maxTokens`, a `json_schema` format's `strict` only when it is set, and
 * `passthrough` fields verbatim. Modelled fields win over a pass-through field of the same name,
 * so the request says one thing only.
 */
export function toOpenAiParams(request: ChatRequest, model: string, dialect: OpenAiDialect): ChatCompletionCreateParamsBase {
  const format = request.responseFormat;
  const native = format?.type === 'json_schema' && dialect.nativeJsonSchema;
  const messages = native ? request.messages : withJsonInstructions(request.messages, format);
  const body: Record<string, unknown> = { ...request.passthrough, model, messages: toOpenAiMessages(messages, dialect) };
  for (const [field, wire] of DIRECT_FIELDS) {
    const value = request[field];
    if (value !== undefined) body[wire] = value;
  }
  if (request.maxTokens !== undefined) body[dialect.tokenField] = request.maxTokens;
  if (request.tools !== undefined && request.tools.length > 0) body['tools'] = toOpenAiTools(request.tools);
  if (request.toolChoice !== undefined) body['tool_choice'] = toOpenAiToolChoice(request.toolChoice);
  if (format?.type === 'text') body['response_format'] = { type: 'text' };
  if (format?.type === 'json_object' || (format?.type === 'json_schema' && !native)) body['response_format'] = { type: 'json_object' };
  if (format?.type === 'json_schema' && native) {
    // `strict` only as the caller set it: unset, OpenAI's default (not strict) holds, and a schema
    // strict mode refuses (an optional property) is still taken.
    const schema: Record<string, unknown> = { name: format.name, schema: format.schema };
    if (format.strict !== undefined) schema['strict'] = format.strict;
    if (format.description !== undefined) schema['description'] = format.description;
    body['response_format'] = { type: 'json_schema', json_schema: schema };
  }
  return body as unknown as ChatCompletionCreateParamsBase;
}
