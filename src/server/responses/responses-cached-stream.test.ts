import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { responsesStacks, UPSTREAMS } from './responses-stacks.test-helpers.js';

/*
 * A translated stream answered by the response cache: the cache replays only the answer's text,
 * and the events must still add up to the whole answer, tool calls and refusal included.
 */

const start = responsesStacks();
const CACHED = { LLM_CACHE: 'memory', SERVER_CACHE: 'true' };

const tools = [
  {
    type: 'function' as const,
    name: 'weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
    strict: false,
  },
];

describe('a cached translated stream', () => {
  it('streams the function call of an answer the cache holds, as the first call streamed it', async () => {
    const { client, stack } = await start((fake) => ({ ...UPSTREAMS['anthropic']!(fake), ...CACHED }));
    stack.fake.enqueue({ type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' }, id: 'call_oslo' }], chunks: 3 });
    const request = { model: 'gpt-4o-mini', input: 'Weather in Oslo?', tools, temperature: 0, store: false };
    const first = await client.responses.stream(request).finalResponse();
    expect(first.output.find((item) => item.type === 'function_call')).toMatchObject({ name: 'weather', arguments: '{"city":"Oslo"}' });
    const { data: second, response } = await client.responses.create({ ...request, stream: true }).withResponse();
    const events: ResponseStreamEvent[] = [];
    for await (const event of second) events.push(event);
    expect(response.headers.get('x-groundwork-cache')).toBe('hit');
    expect(stack.fake.requests).toHaveLength(1);
    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error(`ended with ${completed?.type}`);
    expect(completed.response.output).toEqual([
      expect.objectContaining({ type: 'function_call', name: 'weather', call_id: 'call_oslo', arguments: '{"city":"Oslo"}' }),
    ]);
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
  });

  it('streams the refusal of an answer the cache holds', async () => {
    const { client, stack, checker } = await start((fake) => ({ ...UPSTREAMS['openai-compatible']!(fake), ...CACHED }));
    stack.fake.enqueue({ type: 'answer', refusal: 'I can’t help with that.' });
    const request = { model: 'gpt-4o-mini', input: 'Something bad', temperature: 0, store: false };
    await client.responses.stream(request).finalResponse();
    await checker.problems();
    checker.eventTypes.length = 0;
    const cached = await client.responses.stream(request).finalResponse();
    expect(stack.fake.requests).toHaveLength(1);
    expect(cached.output).toHaveLength(1);
    expect(cached.output[0]).toMatchObject({ type: 'message', content: [{ type: 'refusal', refusal: 'I can’t help with that.' }] });
    await checker.problems();
    expect(checker.eventTypes).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.refusal.delta',
      'response.refusal.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
  });

  it('streams the reasoning (first) and URL citations of an answer the cache holds, as the first call gave them', async () => {
    const { client, stack, checker } = await start((fake) => ({ ...UPSTREAMS['openai-compatible']!(fake), ...CACHED }));
    const citation = { start_index: 4, end_index: 15, url: 'https://example.com/', title: 'Example' };
    stack.fake.enqueue({
      type: 'answer',
      content: 'See example.com.',
      reasoning: 'Cite the source.',
      messageFields: { annotations: [{ type: 'url_citation', url_citation: citation }] },
    });
    const request = { model: 'gpt-4o-mini', input: 'Where?', temperature: 0, store: false };
    const shape = (output: unknown[]) => output.map((item) => ({ ...(item as Record<string, unknown>), id: undefined }));
    const first = await client.responses.stream(request).finalResponse();
    await checker.problems();
    checker.eventTypes.length = 0;
    const cached = await client.responses.stream(request).finalResponse();
    expect(stack.fake.requests).toHaveLength(1);
    expect(shape(cached.output)).toEqual(shape(first.output));
    expect(cached.output).toEqual([
      expect.objectContaining({ type: 'reasoning', content: [{ type: 'reasoning_text', text: 'Cite the source.' }] }),
      expect.objectContaining({
        type: 'message',
        content: [expect.objectContaining({ annotations: [{ type: 'url_citation', ...citation }] })],
      }),
    ]);
    // The replay streams the reasoning item whole before the message starts, as a live stream does.
    await checker.problems();
    expect(checker.eventTypes).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.annotation.added',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
  });
});
