import { describe, expect, it } from 'vitest';
import { completionOf } from '../llm/model/completion-of.js';
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
      { type: 'delta', text: 'abcd', choice: 0 },
      { type: 'delta', text: 'efgh', choice: 0 },
      { type: 'delta', text: 'ij', choice: 0 },
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

  it('replays every choice: its text, refusal, log probabilities and tool calls (id and name, then arguments), each naming its choice', async () => {
    const logprobs = { content: [{ token: 'Hi', logprob: -0.5, bytes: [72, 105], topLogprobs: [] }], refusal: null };
    const completion = completionOf({
      provider: 'openai',
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: {
            content: 'Hi',
            toolCalls: [
              { id: 'call_1', type: 'function', name: 'lookup', arguments: '{"word":"cat"}' },
              { id: 'call_2', type: 'function', name: 'now', arguments: '' },
            ],
          },
          finishReason: 'tool_calls',
          logprobs,
        },
        { index: 1, message: { content: null, refusal: 'No.' }, finishReason: 'content_filter' },
      ],
      usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
    });
    expect(await collect(replayAsStream(completion))).toEqual([
      { type: 'delta', text: 'Hi', choice: 0 },
      { type: 'logprobs-delta', choice: 0, logprobs },
      { type: 'tool-call-delta', choice: 0, index: 0, id: 'call_1', name: 'lookup', arguments: '' },
      { type: 'tool-call-delta', choice: 0, index: 0, arguments: '{"word":"cat"}' },
      { type: 'tool-call-delta', choice: 0, index: 1, id: 'call_2', name: 'now', arguments: '' },
      { type: 'refusal-delta', text: 'No.', choice: 1 },
      { type: 'done', completion },
    ]);
  });

  it('replays each choice’s reasoning first, in pieces, under either name the answer kept it', async () => {
    const completion = completionOf({
      provider: 'openai',
      model: 'deepseek-reasoner',
      choices: [
        {
          index: 0,
          message: { content: 'Hi', passthrough: { reasoning_content: 'Greet back.', audio: { id: 'a' } } },
          finishReason: 'stop',
        },
        { index: 1, message: { content: 'Yo', passthrough: { reasoning: 'Be brief.' } }, finishReason: 'stop' },
      ],
      usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
    });
    expect(await collect(replayAsStream(completion, 6))).toEqual([
      { type: 'reasoning-delta', text: 'Greet ', choice: 0 },
      { type: 'reasoning-delta', text: 'back.', choice: 0 },
      { type: 'delta', text: 'Hi', choice: 0 },
      { type: 'reasoning-delta', text: 'Be bri', choice: 1 },
      { type: 'reasoning-delta', text: 'ef.', choice: 1 },
      { type: 'delta', text: 'Yo', choice: 1 },
      { type: 'done', completion },
    ]);
  });
});
