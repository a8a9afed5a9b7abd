import type { FakeAnswer, FakeUsage } from './fake-behaviour.js';

/** What a wire format needs to know about the request it answers. */
export interface WireContext {
  /** A unique id for this answer. */
  id: string;
  /** When the answer was made, in Unix seconds (OpenAI's `created`, the Responses API's `created_at`). */
  created: number;
  model: string;
  /** The parsed request body. */
  body: Record<string, unknown>;
}

/**
 * The frames of one streamed answer: opening frames, one frame per delta, closing frames. Server-sent
 * events are text; AWS event-stream messages (Bedrock) are binary.
 */
export interface StreamFrames {
  head: Array<string | Uint8Array>;
  deltas: Array<string | Uint8Array>;
  tail: Array<string | Uint8Array>;
}

/** One provider's wire format, as the fake server speaks it. */
export interface WireFormat {
  /** The header carrying the request id (`x-request-id`, `request-id`). */
  readonly requestIdHeader: string;
  /** The content type of a stream. @default 'text/event-stream' */
  readonly streamContentType?: string;
  answerBody(context: WireContext, answer: FakeAnswer): unknown;
  streamFrames(context: WireContext, answer: FakeAnswer): StreamFrames;
  /** `retryAfterMs`: the scripted wait, for wires that say it in the body (Gemini's `RetryInfo`). */
  errorBody(status: number, code: string | undefined, message: string, retryAfterMs?: number): unknown;
  /** Extra headers of an error response (Bedrock's `x-amzn-errortype`). */
  errorHeaders?(status: number, code: string | undefined): Record<string, string>;
  /** A stream frame whose data is not JSON. */
  malformedFrame(): string | Uint8Array;
  /**
   * The message of the 400 the provider answers a chat request with when its body breaks one of
   * the provider's rules the fake checks (Anthropic's signed thinking before a tool call, Gemini 3's
   * thought signatures); undefined when the body passes. Checked before any scripted behaviour.
   */
  invalidRequest?(body: Record<string, unknown>, model: string): string | undefined;
}

/** Resolved token counts of an answer. */
export interface ResolvedUsage {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  cacheWritePromptTokens: number;
  reasoningTokens: number;
}

/** The answer's text: `content`, else `json` serialised, else `ok`. */
export function answerText(answer: FakeAnswer): string {
  if (answer.content !== undefined) return answer.content;
  if (answer.json !== undefined) return JSON.stringify(answer.json);
  return 'ok';
}

/** Fills in the usage the script left out: four characters a token. */
export function resolveUsage(body: Record<string, unknown>, text: string, usage: FakeUsage | undefined): ResolvedUsage {
  const promptChars = JSON.stringify(body['messages'] ?? '').length + JSON.stringify(body['system'] ?? '').length;
  return {
    promptTokens: usage?.promptTokens ?? Math.max(1, Math.ceil(promptChars / 4)),
    completionTokens: usage?.completionTokens ?? Math.max(1, Math.ceil(text.length / 4)),
    cachedPromptTokens: usage?.cachedPromptTokens ?? 0,
    cacheWritePromptTokens: usage?.cacheWritePromptTokens ?? 0,
    reasoningTokens: usage?.reasoningTokens ?? 0,
  };
}

/** Splits `text` into `count` pieces of nearly equal length (fewer when the text is short). */
export function splitText(text: string, count: number): string[] {
  const pieces = Math.max(1, Math.min(count, text.length));
  const size = Math.ceil(text.length / pieces);
  const result: string[] = [];
  for (let start = 0; start < text.length; start += size) result.push(text.slice(start, start + size));
  return result.length === 0 ? [''] : result;
}

/** One server-sent event frame. */
export function sseFrame(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${payload}\n\n`;
}
