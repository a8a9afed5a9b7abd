import type { ContentBlock, DocumentFormat, ImageFormat, Message, SystemContentBlock } from '@aws-sdk/client-bedrock-runtime';
import { messageText } from '../../model/message-text.js';
import type { ChatMessage, ReasoningBlock, UserContentPart } from '../../types.js';
import { parseDataUrl } from '../data-url.js';

/** A conversation in Converse's terms: system blocks apart, then alternating `user` and `assistant` messages. */
export interface BedrockConversation {
  system?: SystemContentBlock[];
  messages: Message[];
}

const IMAGE_FORMATS: Readonly<Record<string, ImageFormat>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

const DOCUMENT_FORMATS: Readonly<Record<string, DocumentFormat>> = {
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/markdown': 'md',
};

/** The tool-call arguments as the JSON object Converse's `toolUse.input` needs; undefined when they are not one. */
export function toolInput(argumentsText: string): Record<string, unknown> | undefined {
  if (argumentsText.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(argumentsText);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A document name Converse accepts: letters, digits, single spaces, hyphens, parentheses and brackets. */
function documentName(filename: string | undefined, index: number): string {
  const base = (filename ?? '')
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9\s\-()[\]]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return base === '' ? `document-${index + 1}` : base.slice(0, 200);
}

/**
 * A user part as a Converse content block: text, an inline image (PNG, JPEG, GIF, WebP) or an
 * inline document (PDF, CSV, Word, Excel, HTML, text, Markdown), as bytes. Undefined when Converse
 * cannot take it: audio, a remote URL, a file by id, another media type.
 */
export function toBedrockBlock(part: UserContentPart, index = 0): ContentBlock | undefined {
  switch (part.type) {
    case 'text':
      return { text: part.text };
    case 'image': {
      const inline = parseDataUrl(part.url);
      const format = inline === undefined ? undefined : IMAGE_FORMATS[inline.mediaType];
      return inline === undefined || format === undefined
        ? undefined
        : { image: { format, source: { bytes: Buffer.from(inline.data, 'base64') } } };
    }
    case 'file': {
      if (part.data === undefined || part.fileId !== undefined) return undefined;
      const inline = parseDataUrl(part.data);
      const format = inline === undefined ? undefined : DOCUMENT_FORMATS[inline.mediaType];
      if (inline === undefined || format === undefined) return undefined;
      return { document: { format, name: documentName(part.filename, index), source: { bytes: Buffer.from(inline.data, 'base64') } } };
    }
    case 'audio':
      return undefined;
  }
}

/** A reasoning block Bedrock made, as the `reasoningContent` block it was; undefined for another provider's. */
function reasoningBlock(block: ReasoningBlock): ContentBlock | undefined {
  if (block.provider !== 'bedrock') return undefined;
  if (block.type === 'redacted') return { reasoningContent: { redactedContent: Buffer.from(block.data, 'base64') } };
  return {
    reasoningContent: { reasoningText: { text: block.text, ...(block.signature === undefined ? {} : { signature: block.signature }) } },
  };
}

/**
 * An assistant message's words as `text` blocks: its text and refusal parts in order, else its
 * `refusal`, so that an earlier refusal stays in the conversation as what the assistant said.
 */
function assistantTextBlocks(message: Extract<ChatMessage, { role: 'assistant' }>): ContentBlock[] {
  const content = message.content;
  const texts: string[] = [];
  if (typeof content === 'string') texts.push(content);
  else if (Array.isArray(content)) for (const part of content) texts.push(part.type === 'text' ? part.text : part.refusal);
  const blocks: ContentBlock[] = texts.filter((text) => text !== '').map((text) => ({ text }));
  if (blocks.length === 0 && typeof message.refusal === 'string' && message.refusal !== '') blocks.push({ text: message.refusal });
  return blocks;
}

/**
 * Messages as a Converse conversation: system and developer messages as system blocks; user parts
 * as blocks; assistant text, earlier refusals (Converse has no refusal block: they are the
 * assistant's text) and tool calls as `text` and `toolUse` blocks, after the message's own
 * reasoning blocks (`reasoningContent`, signed, which the model needs back after a tool call); tool results as
 * `toolResult` blocks of a user message (`status: error` for a failed tool). Converse wants roles
 * to alternate, so consecutive messages of one role are joined. Parts Converse cannot take are left
 * out here: {@link bedrockUnsupportedFields} refuses them before anything is sent.
 */
export function toBedrockMessages(messages: readonly ChatMessage[]): BedrockConversation {
  const system: SystemContentBlock[] = [];
  const result: Message[] = [];
  const push = (role: 'user' | 'assistant', content: ContentBlock[]): void => {
    if (content.length === 0) return;
    const last = result.at(-1);
    if (last?.role === role) last.content = [...(last.content ?? []), ...content];
    else result.push({ role, content });
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push({ text: messageText(message) });
        break;
      case 'user':
        push(
          'user',
          typeof message.content === 'string'
            ? [{ text: message.content }]
            : message.content.flatMap((part, index) => toBedrockBlock(part, index) ?? []),
        );
        break;
      case 'assistant': {
        const blocks: ContentBlock[] = [
          ...(message.reasoning ?? []).flatMap((block) => reasoningBlock(block) ?? []),
          ...assistantTextBlocks(message),
        ];
        for (const call of message.toolCalls ?? []) {
          blocks.push({ toolUse: { toolUseId: call.id, name: call.name, input: (toolInput(call.arguments) ?? {}) as never } });
        }
        push('assistant', blocks);
        break;
      }
      case 'tool':
        push('user', [
          {
            toolResult: {
              toolUseId: message.toolCallId,
              content: [{ text: messageText(message) }],
              ...(message.isError === true ? { status: 'error' as const } : {}),
            },
          },
        ]);
        break;
    }
  }
  return system.length === 0 ? { messages: result } : { system, messages: result };
}
