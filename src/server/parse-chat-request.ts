import type { z } from 'zod';
import type { ChatRequest, ResponseFormat } from '../llm/types.js';
import { type ChatCompletionBody, chatCompletionBodySchema, KNOWN_FIELDS } from './chat-request-schema.js';
import { HttpError } from './http-error.js';
import { isPlainChatBody } from './plain-chat-body.js';
import { toChatMessage } from './to-chat-message.js';

/** A chat completion request as the server handles it. */
export interface ParsedChatRequest {
  request: ChatRequest;
  stream: boolean;
  /** `stream_options.include_usage`: end the stream with a usage chunk. */
  includeUsage: boolean;
}

/**
 * Validates an OpenAI chat completion body and turns it into Groundwork's {@link ChatRequest}:
 * every modelled field mapped, every other top-level field kept verbatim in `passthrough`.
 * Throws a 400 {@link HttpError} naming the first field at fault (`param`, e.g. `messages[0].role`);
 * the message never quotes the field's value, which may be prompt text.
 */
export function parseChatRequest(body: unknown): ParsedChatRequest {
  const data = isPlainChatBody(body) ? body : validated(body);
  if (data.max_tokens != null && data.max_completion_tokens != null && data.max_tokens !== data.max_completion_tokens) {
    throw invalidParam('max_tokens', 'conflicts with max_completion_tokens; send one of them');
  }
  // Its options only shape a stream: without one they would be dropped unseen. OpenAI refuses it too.
  if (data.stream_options != null && data.stream !== true) {
    throw invalidParam('stream_options', "is only allowed when 'stream' is enabled");
  }
  return { request: toChatRequest(data), stream: data.stream === true, includeUsage: data.stream_options?.include_usage === true };
}

/** The body as the schema parses it; throws its first issue as a 400. */
function validated(body: unknown): ChatCompletionBody {
  const result = chatCompletionBodySchema.safeParse(body);
  if (!result.success) throw invalid(result.error.issues[0]);
  return result.data;
}

function toChatRequest(data: ChatCompletionBody): ChatRequest {
  const request: ChatRequest = { model: data.model, messages: data.messages.map(toChatMessage) };
  if (data.temperature != null) request.temperature = data.temperature;
  if (data.top_p != null) request.topP = data.top_p;
  const maxTokens = data.max_completion_tokens ?? data.max_tokens;
  if (maxTokens != null) request.maxTokens = maxTokens;
  if (data.stop != null) request.stop = typeof data.stop === 'string' ? [data.stop] : data.stop;
  if (data.seed != null) request.seed = data.seed;
  if (data.response_format != null) request.responseFormat = toResponseFormat(data.response_format);
  if (data.tools != null) {
    request.tools = data.tools.map(({ function: fn }) => ({
      type: 'function',
      name: fn.name,
      ...(fn.description == null ? {} : { description: fn.description }),
      ...(fn.parameters == null ? {} : { parameters: fn.parameters }),
      ...(fn.strict == null ? {} : { strict: fn.strict }),
    }));
  }
  if (data.tool_choice != null) {
    request.toolChoice =
      typeof data.tool_choice === 'string' ? data.tool_choice : { type: 'function', name: data.tool_choice.function.name };
  }
  if (data.parallel_tool_calls != null) request.parallelToolCalls = data.parallel_tool_calls;
  if (data.n != null) request.n = data.n;
  if (data.logprobs != null) request.logprobs = data.logprobs;
  if (data.top_logprobs != null) request.topLogprobs = data.top_logprobs;
  if (data.presence_penalty != null) request.presencePenalty = data.presence_penalty;
  if (data.frequency_penalty != null) request.frequencyPenalty = data.frequency_penalty;
  if (data.logit_bias != null) request.logitBias = data.logit_bias;
  if (data.user != null) request.user = data.user;
  if (data.metadata != null) request.metadata = data.metadata;
  if (data.store != null) request.store = data.store;
  if (data.service_tier != null) request.serviceTier = data.service_tier;
  if (data.reasoning_effort != null) request.reasoningEffort = data.reasoning_effort;
  if (data.verbosity != null) request.verbosity = data.verbosity;
  const passthrough = Object.fromEntries(Object.entries(data).filter(([key]) => !KNOWN_FIELDS.has(key)));
  if (Object.keys(passthrough).length > 0) request.passthrough = passthrough;
  return request;
}

function toResponseFormat(format: NonNullable<ChatCompletionBody['response_format']>): ResponseFormat {
  if (format.type !== 'json_schema') return { type: format.type };
  const schema = format.json_schema;
  return {
    type: 'json_schema',
    name: schema.name,
    schema: schema.schema ?? {},
    ...(schema.strict == null ? {} : { strict: schema.strict }),
    ...(schema.description == null ? {} : { description: schema.description }),
  };
}

function invalid(found: z.core.$ZodIssue | undefined): HttpError {
  if (found === undefined) return invalidParam(null, 'is invalid');
  const issue = deepest(found);
  // An unknown key is reported on its object: name the key itself, which is the field at fault.
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return invalidParam(formatPath([...issue.path, key]), 'is not supported by this service (it cannot be carried to the provider)');
  }
  return invalidParam(formatPath(issue.path), issue.message);
}

function invalidParam(param: string | null, problem: string): HttpError {
  return new HttpError({
    status: 400,
    type: 'invalid_request_error',
    code: 'invalid_request',
    param,
    message: `Invalid request: ${param ?? 'body'}: ${problem}.`,
  });
}

/**
 * A union's own issue says only "Invalid input" at the union; the branch that got furthest names
 * the field at fault (`messages[0].content[1].type` rather than `messages[0].content`).
 */
function deepest(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  let best: z.core.$ZodIssue | undefined;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first === undefined) continue;
    const inner = deepest(first);
    const candidate = { ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue;
    if (best === undefined || candidate.path.length > best.path.length) best = candidate;
  }
  return best !== undefined && best.path.length > issue.path.length ? best : issue;
}

function formatPath(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`)).join('');
}
