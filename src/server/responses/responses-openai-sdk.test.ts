import { describe, expect, it } from 'vitest';
import { responsesStacks, UPSTREAMS } from './responses-stacks.test-helpers.js';

/* The official `openai` SDK's Responses API against `groundwork serve`, in front of each kind of upstream. */

const start = responsesStacks();

describe.each(Object.keys(UPSTREAMS))('responses in front of %s', (upstream) => {
  it('answers responses.create', async () => {
    const { client, stack } = await start(UPSTREAMS[upstream]!);
    stack.fake.enqueue({ type: 'answer', content: 'Hallo Welt', usage: { promptTokens: 9, completionTokens: 3 } });
    const response = await client.responses.create({ model: 'gpt-4o-mini', instructions: 'Translate to German.', input: 'Hello world' });
    expect(response.output_text).toBe('Hallo Welt');
    expect(response.status).toBe('completed');
    expect(response.usage).toMatchObject({ input_tokens: 9, output_tokens: 3, total_tokens: 12 });
  });

  it('streams with responses.stream', async () => {
    const { client, stack, checker } = await start(UPSTREAMS[upstream]!);
    stack.fake.enqueue({ type: 'answer', content: 'Guten Tag', chunks: 3 });
    const stream = client.responses.stream({ model: 'gpt-4o-mini', input: 'Good day' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('Guten Tag');
    expect(deltas.length).toBeGreaterThan(1);
    expect(final.output_text).toBe('Guten Tag');
    expect(checker.eventTypes).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...deltas.map(() => 'response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
  });
});
