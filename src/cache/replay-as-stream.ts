import type { ChatCompletion, ChatStreamEvent } from '../llm/types.js';

/**
 * Replays a complete (typically cached) answer as a provider stream would deliver it: its text
 * in deltas of at most `chunkSize` characters (never splitting a surrogate pair), then one
 * `done` with the completion unchanged.
 */
export async function* replayAsStream(completion: ChatCompletion, chunkSize = 64): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const size = Math.max(1, Math.floor(chunkSize));
  let chunk = '';
  let length = 0;
  for (const character of completion.content) {
    chunk += character;
    length++;
    if (length === size) {
      yield { type: 'delta', text: chunk };
      chunk = '';
      length = 0;
    }
  }
  if (chunk !== '') yield { type: 'delta', text: chunk };
  yield { type: 'done', completion };
}
