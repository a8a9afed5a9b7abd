import type { AnswerImagePart, AssistantContentPart, TextPart, UserContentPart } from './content-part.js';
import type { ReasoningBlock } from './reasoning-block.js';
import type { ToolCall } from './tool-call.js';

/** Instructions from the application. */
export interface SystemMessage {
  role: 'system';
  content: string | TextPart[];
  name?: string;
}

/** Instructions from the developer (OpenAI's name for system messages to reasoning models). */
export interface DeveloperMessage {
  role: 'developer';
  content: string | TextPart[];
  name?: string;
}

/** What the user says: text, or parts (text, images, audio, files). */
export interface UserMessage {
  role: 'user';
  content: string | UserContentPart[];
  name?: string;
}

/** What the model said earlier: text, tool calls, a refusal, or the images it made. */
export interface AssistantMessage {
  role: 'assistant';
  /** Absent or null when the message holds only tool calls. */
  content?: string | AssistantContentPart[] | null;
  name?: string;
  toolCalls?: ToolCall[];
  refusal?: string | null;
  /** An earlier audio answer, by its id (OpenAI). */
  audio?: { id: string } | null;
  /**
   * The answer's reasoning blocks, as the answer gave them (`ChatCompletion.reasoning`): the
   * provider that made them gets them back first in this turn, the others leave them out.
   */
  reasoning?: ReasoningBlock[];
  /**
   * The images the model made in this answer (an image model's `passthrough.images`), each a
   * `data:image/…;base64,…` URL, in the order it made them, each with the signature the answer gave
   * it. Gemini gets them back as inline data of the model turn, after its text, each part with its
   * `thoughtSignature`, so that the conversation can go on editing them; the other
   * providers' assistant turns cannot hold images, so they name them unsupported
   * (`messages[i].images`), which `LLM_DROP_UNSUPPORTED_PARAMS=true` drops with a warning.
   */
  images?: AnswerImagePart[];
  /**
   * The answer's `reasoning_details`, as an OpenAI-compatible server gave them (OpenRouter: its
   * reasoning's text, summaries and encrypted state, which it asks to have back to carry the
   * reasoning across turns). Sent back on this message to OpenAI-compatible servers, where they come
   * from; the other providers take their own reasoning back as {@link reasoning} blocks and leave
   * these out.
   */
  reasoningDetails?: Record<string, unknown>[];
}

/** The result of a tool call, answering the assistant's call with the same id. */
export interface ToolMessage {
  role: 'tool';
  toolCallId: string;
  content: string | TextPart[];
  /** Set when the tool failed, so providers that mark errors (Anthropic's `is_error`) can say so. */
  isError?: boolean;
}

/** One message of a conversation. */
export type ChatMessage = SystemMessage | DeveloperMessage | UserMessage | AssistantMessage | ToolMessage;

/** Who says a message. */
export type ChatRole = ChatMessage['role'];
