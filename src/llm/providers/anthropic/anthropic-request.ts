import type { MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages';
import { messageText } from '../../model/message-text.js';
import type { ChatRequest, FinishReason } from '../../types.js';
import { withJsonInstructions } from '../structured-instructions.js';

/**
 * Builds the SDK's request body (without `stream`). System messages become `system`; a JSON
 * schema becomes one tool the model is forced to call (Anthropic's structured output); JSON
 * mode, which Anthropic lacks, becomes an instruction. The Messages API of this SDK takes no
 * sampling parameters, so `temperature`, `topP` and `seed` are not sent (they still shape the cache key).
 */
export function toAnthropicParams(request: ChatRequest, model: string, defaultMaxTokens: number): MessageCreateParamsBase {
  const format = request.responseFormat;
  const tool = format?.type === 'json_schema' && format.schema['type'] === 'object' ? format : undefined;
  const messages = tool === undefined ? withJsonInstructions(request.messages, format) : request.messages;
  const system = messages
    .filter((message) => message.role === 'system' || message.role === 'developer')
    .map((message) => messageText(message))
    .join('\n\n');
  const params: MessageCreateParamsBase = {
    model,
    max_tokens: request.maxTokens ?? defaultMaxTokens,
    messages: messages
      .filter((message) => message.role !== 'system' && message.role !== 'developer')
      .map((message) => ({ role: message.role === 'assistant' ? 'assistant' : 'user', content: messageText(message) })),
  };
  if (system !== '') params.system = system;
  if (request.stop !== undefined) params.stop_sequences = request.stop;
  if (tool !== undefined) {
    params.tools = [
      {
        name: tool.name,
        description: 'Give the answer by calling this tool with arguments that match its schema.',
        input_schema: tool.schema as { type: 'object'; [key: string]: unknown },
      },
    ];
    params.tool_choice = { type: 'tool', name: tool.name };
  }
  return params;
}

/** Whether the request forces the structured-output tool. */
export function forcesTool(params: MessageCreateParamsBase): boolean {
  return params.tool_choice?.type === 'tool';
}

/** Maps Anthropic's `stop_reason`; a forced tool call is the normal end of a structured answer. */
export function mapStopReason(reason: string | null | undefined, forcedTool: boolean): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return forcedTool ? 'stop' : 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'unknown';
  }
}
