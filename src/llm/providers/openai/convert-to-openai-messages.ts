import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionContentPartText,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { ChatMessage, UserContentPart } from '../../types.js';
import type { OpenAiDialect } from './openai-dialect.js';

function textParts(content: string | Array<{ type: 'text'; text: string }>): string | ChatCompletionContentPartText[] {
  return typeof content === 'string' ? content : content.map((part) => ({ type: 'text', text: part.text }));
}

/** One user content part as OpenAI's: text, `image_url` (with `detail`), `input_audio`, `file`. */
export function toOpenAiPart(part: UserContentPart): ChatCompletionContentPart {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image':
      return { type: 'image_url', image_url: { url: part.url, ...(part.detail === undefined ? {} : { detail: part.detail }) } };
    case 'audio':
      return { type: 'input_audio', input_audio: { data: part.data, format: part.format } };
    case 'file': {
      const file: { file_id?: string; file_data?: string; filename?: string } = {};
      if (part.fileId !== undefined) file.file_id = part.fileId;
      if (part.data !== undefined) file.file_data = part.data;
      if (part.filename !== undefined) file.filename = part.filename;
      return { type: 'file', file };
    }
  }
}

function assistantMessage(
  message: Extract<ChatMessage, { role: 'assistant' }>,
  dialect: OpenAiDialect,
): ChatCompletionAssistantMessageParam {
  const wire: ChatCompletionAssistantMessageParam = { role: 'assistant' };
  const content = message.content;
  if (typeof content === 'string' || content === null) wire.content = content;
  else if (content !== undefined)
    wire.content = content.map((part) =>
      part.type === 'text' ? { type: 'text', text: part.text } : { type: 'refusal', refusal: part.refusal },
    );
  if (message.name !== undefined) wire.name = message.name;
  if (message.refusal !== undefined) wire.refusal = message.refusal;
  if (message.audio !== undefined) wire.audio = message.audio;
  if (message.toolCalls !== undefined && message.toolCalls.length > 0) {
    wire.tool_calls = message.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  // As compatible servers answer an image model's pictures; OpenAI's types have no such field. An
  // image's `signature` stays out, as a tool call's does: it is Gemini's, and nothing says this
  // server made it (a fallback may have brought the conversation here) or knows the key.
  if (dialect.compatibleAnswerFields && message.images !== undefined && message.images.length > 0) {
    (wire as unknown as Record<string, unknown>)['images'] = message.images.map((image) => ({
      type: 'image_url',
      image_url: image.detail === undefined ? { url: image.url } : { url: image.url, detail: image.detail },
    }));
  }
  if (dialect.compatibleAnswerFields && message.reasoningDetails !== undefined && message.reasoningDetails.length > 0)
    (wire as unknown as Record<string, unknown>)['reasoning_details'] = message.reasoningDetails;
  return wire;
}

/**
 * Groundwork's messages as OpenAI's, one for one: parts stay parts, a message's `name` is kept,
 * tool calls and tool results keep their ids. `developer` becomes `system` only for dialects
 * without the role. A tool message's `isError` has no OpenAI field; the text carries the failure.
 */
export function toOpenAiMessages(messages: readonly ChatMessage[], dialect: OpenAiDialect): ChatCompletionMessageParam[] {
  return messages.map((message) => toOpenAiMessage(message, dialect));
}

function toOpenAiMessage(message: ChatMessage, dialect: OpenAiDialect): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
    case 'developer': {
      const role = message.role === 'developer' && dialect.developerRole ? 'developer' : 'system';
      return { role, content: textParts(message.content), ...(message.name === undefined ? {} : { name: message.name }) };
    }
    case 'user': {
      const content = typeof message.content === 'string' ? message.content : message.content.map(toOpenAiPart);
      return { role: 'user', content, ...(message.name === undefined ? {} : { name: message.name }) };
    }
    case 'assistant':
      return assistantMessage(message, dialect);
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: textParts(message.content) };
  }
}
