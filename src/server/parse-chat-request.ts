import type { ChatMessage, ChatRequest, ResponseFormat } from '../llm/types.js';
import { type ChatCompletionBody, chatCompletionBodySchema } from './chat-request-schema.js';
import { HttpError } from './http-error.js';

/** A chat completion request as the server handles it. */
export interface ParsedChatRequest {
  request: ChatRequest;
  stream: boolean;
  /** `stream_options.include_usage`: end the stream with a usage chunk. */
  includeUsage: boolean;
}

/**
 * Validates an OpenAI chat completion body and turns it into Groundwork's {@link ChatRequest}.
 * Throws a 400 {@link HttpError} naming the first field at fault (`param`, e.g. `messages[0].role`);
 * the message never quotes the field's value, which may be prompt text.
 */
export function parseChatRequest(body: unknown): ParsedChatRequest {
  const result = chatCompletionBodySchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue === undefined ? null : formatPath(issue.path);
    throw new HttpError({
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_request',
      param,
      message: `Invalid request: ${param ?? 'body'}: ${issue?.message ?? 'is invalid'}.`,
    });
  }
  const data = result.data;
  return { request: toChatRequest(data), stream: data.stream === true, includeUsage: data.stream_options?.include_usage === true };
}

function toChatRequest(data: ChatCompletionBody): ChatRequest {
  const request: ChatRequest = { model: data.model, messages: data.messages.map(toMessage) };
  if (data.temperature != null) request.temperature = data.temperature;
  if (data.top_p != null) request.topP = data.top_p;
  const maxTokens = data.max_completion_tokens ?? data.max_tokens;
  if (maxTokens != null) request.maxTokens = maxTokens;
  if (data.stop != null) request.stop = typeof data.stop === 'string' ? [data.stop] : data.stop;
  if (data.seed != null) request.seed = data.seed;
  if (data.response_format != null) request.responseFormat = toResponseFormat(data.response_format);
  return request;
}

function toMessage(message: ChatCompletionBody['messages'][number]): ChatMessage {
  const role = message.role === 'developer' ? 'system' : message.role;
  const content = typeof message.content === 'string' ? message.content : message.content.map((part) => part.text).join('');
  return { role, content };
}

function toResponseFormat(format: NonNullable<ChatCompletionBody['response_format']>): ResponseFormat {
  if (format.type !== 'json_schema') return { type: format.type };
  const schema = format.json_schema;
  return {
    type: 'json_schema',
    name: schema.name,
    schema: schema.schema ?? {},
    ...(schema.strict == null ? {} : { strict: schema.strict }),
  };
}

function formatPath(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`)).join('');
}
