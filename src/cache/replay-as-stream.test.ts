import { describe, expect, it } from 'vitest';
import type { ChatStreamEvent } from '../llm/types.js';
import { sampleCompletion } from './cache.test-helpers.js';
import { replayAsStream } from './replay-as-stream.js';

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const collected: ChatStreamEvent[] = [];
  for await (const event of events) collected.push(event);
  return collected;
}

describe('replayAsStream', () => {
  it('yields the text in deltas of at most chunkSize characters, then done with the completion unchanged', async () => {
    const completion = sampleCompletion('abcdefghij');
    const events = await collect(replayAsStream(completion, 4));
    expect(events).toEqual([
      { type: 'delta', text: 'abcd' },
      { type: 'delta', text: 'efgh' },
      { type: 'delta', text: 'ij' },
      { type: 'done', completion },
    ]);
  });

  it('never splits a character made of a surrogate pair', async () => {
    const completion = sampleCompletion('👋🌍🎉x');
    const deltas = (await collect(replayAsStream(completion, 1))).filter((event) => event.type === 'delta');
    expect(deltas.map((event) => event.text)).toEqual(['👋', '🌍', '🎉', 'x']);
  });

  it('yields only done for an empty answer, and uses 64-character deltas by default', async () => {
    expect(await collect(replayAsStream(sampleCompletion('')))).toEqual([{ type: 'done', completion: sampleCompletion('') }]);
    const deltas = (await collect(replayAsStream(sampleCompletion('y'.repeat(130))))).filter((event) => event.type === 'delta');
    expect(deltas.map((event) => event.text.length)).toEqual([64, 64, 2]);
  });
});
