import type { AssistantContentPart, ChatMessage, TextPart, UserContentPart } from '../llm/types.js';
import type { BodyMessage } from './chat-request-schema.js';

type Parts<Role extends BodyMessage['role']> = Exclude<Extract<BodyMessage, { role: Role }>['content'], string | null | undefined>;

/**
 * One OpenAI message as Groundwork's neutral message: every role kept as it is (`developer` stays
 * `developer`), content parts one for one, never joined, and `name`, tool calls and refusals carried.
 */
export function toChatMessage(message: BodyMessage): ChatMessage {
  const named = message.role !== 'tool' && message.name != null ? { name: message.name } : {};
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: message.role, content: textContent(message.content), ...named };
    case 'tool':
      return { role: 'tool', toolCallId: message.tool_call_id, content: textContent(message.content) };
    case 'user':
      return { role: 'user', content: typeof message.content === 'string' ? message.content : userParts(message.content), ...named };
    case 'assistant': {
      const assistant: ChatMessage = { role: 'assistant', ...named };
      if (message.content != null)
        assistant.content = typeof message.content === 'string' ? message.content : assistantParts(message.content);
      if (message.tool_calls != null && message.tool_calls.length > 0) {
        assistant.toolCalls = message.tool_calls.map((call) => ({
          id: call.id,
          type: 'function',
          name: call.function.name,
          arguments: call.function.arguments,
        }));
      }
      if (message.refusal != null) assistant.refusal = message.refusal;
      if (message.audio != null) assistant.audio = { id: message.audio.id };
      return assistant;
    }
  }
}

function textContent(content: string | Parts<'system'>): string | TextPart[] {
  return typeof content === 'string' ? content : content.map((part) => ({ type: 'text', text: part.text }));
}

function userParts(parts: Parts<'user'>): UserContentPart[] {
  return parts.map(userPart);
}

function userPart(part: Parts<'user'>[number]): UserContentPart {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image_url':
      return { type: 'image', url: part.image_url.url, ...(part.image_url.detail == null ? {} : { detail: part.image_url.detail }) };
    case 'input_audio':
      return { type: 'audio', data: part.input_audio.data, format: part.input_audio.format };
    case 'file': {
      const file: UserContentPart = { type: 'file' };
      if (part.file.file_id != null) file.fileId = part.file.file_id;
      if (part.file.file_data != null) file.data = part.file.file_data;
      if (part.file.filename != null) file.filename = part.file.filename;
      return file;
    }
  }
}

function assistantParts(parts: Parts<'assistant'>): AssistantContentPart[] {
  return parts.map((part) => (part.type === 'text' ? { type: 'text', text: part.text } : { type: 'refusal', refusal: part.refusal }));
}
