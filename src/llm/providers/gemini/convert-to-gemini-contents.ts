import type { Content, Part } from '@google/genai';
import { messageText } from '../../model/message-text.js';
import type { AssistantMessage, ChatMessage, UserContentPart } from '../../types.js';
import { parseDataUrl } from '../data-url.js';

/** A conversation in Gemini's terms: the system instruction apart, then `user` and `model` turns. */
export interface GeminiConversation {
  systemInstruction?: Content;
  contents: Content[];
}

/** The tool-call arguments as the JSON object Gemini's `functionCall.args` needs; undefined when they are not one. */
export function functionArgs(argumentsText: string): Record<string, unknown> | undefined {
  if (argumentsText.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(argumentsText);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Media types Gemini takes inline (images, audio, PDFs and plain-text documents). */
const INLINE_TYPES =
  /^(image\/(png|jpeg|webp|heic|heif)|audio\/(wav|mp3|mpeg|aac|ogg|flac|aiff)|application\/pdf|text\/(plain|csv|html|markdown))$/;

/** A user part as a Gemini part; undefined when Gemini cannot take it (a remote URL, a file by id, an unknown media type). */
export function toGeminiPart(part: UserContentPart): Part | undefined {
  switch (part.type) {
    case 'text':
      return { text: part.text };
    case 'image': {
      const inline = parseDataUrl(part.url);
      return inline !== undefined && INLINE_TYPES.test(inline.mediaType) && inline.mediaType.startsWith('image/')
        ? { inlineData: { mimeType: inline.mediaType, data: inline.data } }
        : undefined;
    }
    case 'audio':
      return { inlineData: { mimeType: part.format === 'wav' ? 'audio/wav' : 'audio/mp3', data: part.data } };
    case 'file': {
      if (part.data === undefined || part.fileId !== undefined) return undefined;
      const inline = parseDataUrl(part.data);
      return inline !== undefined && INLINE_TYPES.test(inline.mediaType)
        ? { inlineData: { mimeType: inline.mediaType, data: inline.data } }
        : undefined;
    }
  }
}

/**
 * An earlier assistant turn's words: its text and refusal parts, joined by newlines, or its
 * `refusal` when it says nothing else. Gemini has no refusal field, so a refusal is the model's
 * text, as Gemini itself answers one.
 */
function assistantText(message: AssistantMessage): string {
  const content = message.content;
  const text =
    typeof content === 'string'
      ? content
      : (content ?? [])
          .map((part) => (part.type === 'text' ? part.text : part.refusal))
          .filter((words) => words !== '')
          .join('\n');
  return text === '' && typeof message.refusal === 'string' ? message.refusal : text;
}

/**
 * The signature Gemini gave an earlier answer's text, from the Gemini reasoning block that carries
 * it (see the answer assembler); other providers' blocks are theirs alone.
 */
function textSignature(message: AssistantMessage): string | undefined {
  for (const block of message.reasoning ?? []) {
    if (block.type === 'thinking' && block.provider === 'gemini' && block.signature !== undefined) return block.signature;
  }
  return undefined;
}

/** The name of the function each tool call id called, from the assistant turns, to answer results by name. */
function callNames(messages: readonly ChatMessage[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const message of messages) {
    if (message.role === 'assistant') for (const call of message.toolCalls ?? []) names.set(call.id, call.name);
  }
  return names;
}

/**
 * Messages as Gemini contents: system and developer messages join the system instruction; user
 * parts become text or inline data; an assistant message becomes a `model` turn of its text and
 * refusals (with the signature of a Gemini reasoning block), then the images it made as inline data, then its tool calls as `functionCall` parts,
 * each image and call with its `thoughtSignature` when it has a `signature`; consecutive tool results become
 * one `user` turn of `functionResponse` parts, named after the call they answer (`{ output }`, or
 * `{ error }` for a failed tool). Parts Gemini cannot take are left out here:
 * {@link geminiUnsupportedFields} refuses them before anything is sent.
 */
export function toGeminiContents(messages: readonly ChatMessage[]): GeminiConversation {
  const system: string[] = [];
  const contents: Content[] = [];
  const names = callNames(messages);
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(messageText(message));
        break;
      case 'user': {
        const parts =
          typeof message.content === 'string' ? [{ text: message.content }] : message.content.flatMap((part) => toGeminiPart(part) ?? []);
        contents.push({ role: 'user', parts });
        break;
      }
      case 'assistant': {
        const parts: Part[] = [];
        const text = assistantText(message);
        if (text !== '') {
          const part: Part = { text };
          // The signature Gemini 3 gave the answer's text goes back on it.
          const signature = textSignature(message);
          if (signature !== undefined) part.thoughtSignature = signature;
          parts.push(part);
        }
        // The images the model made, back where it answered them, so that the next turn can edit them;
        // Gemini 3's image models want each one's signature back on its part to keep their context.
        for (const image of message.images ?? []) {
          const part = toGeminiPart(image);
          if (part === undefined) continue;
          if (image.signature !== undefined) part.thoughtSignature = image.signature;
          parts.push(part);
        }
        for (const call of message.toolCalls ?? []) {
          const part: Part = { functionCall: { name: call.name, args: functionArgs(call.arguments) ?? {} } };
          // Gemini 3 refuses a repeated call without the signature it gave it, on the same part.
          if (call.signature !== undefined) part.thoughtSignature = call.signature;
          parts.push(part);
        }
        if (parts.length > 0) contents.push({ role: 'model', parts });
        break;
      }
      case 'tool': {
        const text = messageText(message);
        const part: Part = {
          functionResponse: {
            name: names.get(message.toolCallId) ?? '',
            response: message.isError === true ? { error: text } : { output: text },
          },
        };
        const last = contents.at(-1);
        if (last?.role === 'user' && last.parts?.every((existing) => existing.functionResponse !== undefined)) last.parts.push(part);
        else contents.push({ role: 'user', parts: [part] });
        break;
      }
    }
  }
  return system.length === 0 ? { contents } : { systemInstruction: { parts: [{ text: system.join('\n\n') }] }, contents };
}
