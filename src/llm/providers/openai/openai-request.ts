import type { ChatCompletionCreateParamsBase, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { messageText } from '../../model/message-text.js';
import type { ChatRequest, FinishReason } from '../../types.js';
import { withJsonInstructions } from '../structured-instructions.js';

/** How a server in the OpenAI family takes a request. */
export interface OpenAiDialect {
  /** `max_completion_tokens` (OpenAI, Azure) or the older `max_tokens` (most compatible servers). */
  tokenField: 'max_completion_tokens' | 'max_tokens';
  /** Whether `response_format: json_schema` is sent as is; otherwise JSON mode plus the schema in the system message. */
  nativeJsonSchema: boolean;
}

/** Builds the SDK's request body (without `stream`) from Groundwork's {@link ChatRequest}. */
export function toOpenAiParams(request: ChatRequest, model: string, dialect: OpenAiDialect): ChatCompletionCreateParamsBase {
  const format = request.responseFormat;
  const native = format?.type === 'json_schema' && dialect.nativeJsonSchema;
  const params: ChatCompletionCreateParamsBase = {
    model,
    messages: (native ? request.messages : withJsonInstructions(request.messages, format)).map(
      (message) => ({ role: message.role === 'tool' ? 'user' : message.role, content: messageText(message) }) as ChatCompletionMessageParam,
    ),
  };
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.topP !== undefined) params.top_p = request.topP;
  if (request.maxTokens !== undefined) params[dialect.tokenField] = request.maxTokens;
  if (request.stop !== undefined) params.stop = request.stop;
  if (request.seed !== undefined) params.seed = request.seed;
  if (format?.type === 'json_object' || (format?.type === 'json_schema' && !native)) params.response_format = { type: 'json_object' };
  if (format?.type === 'json_schema' && native) {
    params.response_format = {
      type: 'json_schema',
      json_schema: { name: format.name, schema: format.schema, strict: format.strict ?? true },
    };
  }
  return params;
}

/** Maps OpenAI's `finish_reason`. */
export function mapFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
    case 'length':
    case 'content_filter':
    case 'tool_calls':
      return reason;
    case 'function_call':
      return 'tool_calls';
    default:
      return 'unknown';
  }
}
