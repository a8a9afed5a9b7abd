import { answerImagePart } from '../llm/answer-message-fields.js';
import type { AssistantContentPart, ChatMessage, ReasoningBlock, TextPart, UserContentPart } from '../llm/types.js';
import type { BodyMessage } from './chat-request-schema.js';

type Parts<Role extends BodyMessage['role']> = Exclude<Extract<BodyMessage, { role: Role }>['content'], string | null | undefined>;

/**
 * One OpenAI message as Groundwork's neutral message: every role kept as it is (`developer` stays
 * `developer`), content parts one for one, never joined, and `name`, tool calls (with their
 * `signature`), refusals, `reasoning_blocks` and an echoed answer's `images` (with their `signature`)
 * and `reasoning_details` carried.
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
          ...(call.signature == null ? {} : { signature: call.signature }),
        }));
      }
      if (message.refusal != null) assistant.refusal = message.refusal;
      if (message.audio != null) assistant.audio = { id: message.audio.id };
      if (message.reasoning_blocks != null && message.reasoning_blocks.length > 0)
        assistant.reasoning = message.reasoning_blocks.map(reasoningBlock);
      // The position some servers number an image by is the list's order, which is kept.
      if (message.images != null && message.images.length > 0)
        assistant.images = message.images.flatMap((image) => answerImagePart(image) ?? []);
      if (message.reasoning_details != null && message.reasoning_details.length > 0) assistant.reasoningDetails = message.reasoning_details;
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

/** A reasoning block sent back (`reasoning_blocks`) as the answer gave it. */
function reasoningBlock(block: NonNullable<Extract<BodyMessage, { role: 'assistant' }>['reasoning_blocks']>[number]): ReasoningBlock {
  if (block.type === 'redacted') return { type: 'redacted', provider: block.provider, data: block.data };
  const { signature, ...thinking } = block;
  return signature === undefined ? thinking : { ...thinking, signature };
}
