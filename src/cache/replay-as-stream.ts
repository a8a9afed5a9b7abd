import { reasoningTextOf } from '../llm/model/reasoning-text.js';
import type { ChatCompletion, ChatStreamEvent } from '../llm/types.js';

/**
 * Replays a complete (typically cached) answer as a provider stream would deliver it, choice by
 * choice, each event naming its `choice`: the reasoning first (the message's
 * `passthrough.reasoning_content`, or `reasoning`) in `reasoning-delta`s, as a reasoning model
 * thinks before it answers, then the text in deltas of at most `chunkSize` characters (never
 * splitting a surrogate pair; the reasoning's pieces are of the same size), the refusal in `refusal-delta`s of the same size, the log
 * probabilities in one `logprobs-delta`, and each tool call as a `tool-call-delta` with its id and
 * name followed by one with its arguments; then one `done` with the completion unchanged.
 */
export async function* replayAsStream(completion: ChatCompletion, chunkSize = 64): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const size = Math.max(1, Math.floor(chunkSize));
  for (const { index: choice, message, logprobs } of completion.choices) {
    for (const text of pieces(reasoningTextOf(message.passthrough) ?? '', size)) yield { type: 'reasoning-delta', text, choice };
    for (const text of pieces(message.content ?? '', size)) yield { type: 'delta', text, choice };
    for (const text of pieces(message.refusal ?? '', size)) yield { type: 'refusal-delta', text, choice };
    if (logprobs !== undefined) yield { type: 'logprobs-delta', choice, logprobs };
    for (const [index, call] of (message.toolCalls ?? []).entries()) {
      yield { type: 'tool-call-delta', choice, index, id: call.id, name: call.name, arguments: '' };
      if (call.arguments !== '') yield { type: 'tool-call-delta', choice, index, arguments: call.arguments };
    }
  }
  yield { type: 'done', completion };
}

/** `text` in pieces of at most `size` characters, a surrogate pair never split. */
function* pieces(text: string, size: number): Generator<string, void, undefined> {
  let chunk = '';
  let length = 0;
  for (const character of text) {
    chunk += character;
    length++;
    if (length === size) {
      yield chunk;
      chunk = '';
      length = 0;
    }
  }
  if (chunk !== '') yield chunk;
}
