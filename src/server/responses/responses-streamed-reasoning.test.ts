import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import type { FakeAnswer } from '../../testing/fake-behaviour.js';
import type { FakeProviderServer } from '../../testing/fake-provider-server.js';
import { responsesStacks, UPSTREAMS } from './responses-stacks.test-helpers.js';

/*
 * A translated Responses stream of a reasoning model, read with the `openai` SDK and checked against
 * OpenAI's event schemas: the `reasoning` item streams as the model thinks, before the message
 * item, as a whole `Response` orders them, from each provider's wire.
 */

const start = responsesStacks();

const REASONING = 'Paris is the capital; say so.';
const ANSWER = 'Paris.';

const SETUPS: Record<string, { env: (fake: FakeProviderServer) => Record<string, string>; answer: FakeAnswer; effort: boolean }> = {
  'openai-compatible': {
    env: UPSTREAMS['openai-compatible']!,
    answer: { type: 'answer', content: ANSWER, reasoning: REASONING, chunks: 3 },
    effort: false,
  },
  anthropic: { env: UPSTREAMS['anthropic']!, answer: { type: 'answer', content: ANSWER, thinking: REASONING, chunks: 3 }, effort: true },
  gemini: {
    env: (fake) => ({ LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'AIza-reason-secret', GEMINI_BASE_URL: fake.geminiBaseUrl }),
    answer: { type: 'answer', content: ANSWER, reasoning: REASONING, chunks: 3 },
    effort: true,
  },
  bedrock: {
    env: (fake) => ({
      LLM_PROVIDER: 'bedrock',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAREASON',
      AWS_SECRET_ACCESS_KEY: 'aws-reason-secret',
      BEDROCK_BASE_URL: fake.bedrockEndpoint,
    }),
    answer: { type: 'answer', content: ANSWER, reasoning: REASONING, chunks: 3 },
    effort: false,
  },
};

describe.each(Object.keys(SETUPS))('a translated stream in front of %s', (name) => {
  const setup = SETUPS[name]!;

  it('streams the reasoning item as the model thinks, before the message item', async () => {
    const { client, stack, checker } = await start(setup.env);
    stack.fake.setHandler(() => setup.answer);
    const stream = await client.responses.create({
      model: 'reasoner',
      input: 'Capital of France?',
      store: false,
      stream: true,
      ...(setup.effort ? { reasoning: { effort: 'low' as const } } : {}),
    });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    await checker.problems();
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.delta',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const deltas = events.flatMap((event) => (event.type === 'response.reasoning_text.delta' ? [event] : []));
    expect(deltas.map((event) => event.delta).join('')).toBe(REASONING);
    expect(new Set(deltas.map((event) => event.output_index))).toEqual(new Set([0]));
    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error(`ended with ${completed?.type}`);
    expect(completed.response.output).toEqual([
      { id: deltas[0]?.item_id, type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: REASONING }] },
      expect.objectContaining({ type: 'message', content: [expect.objectContaining({ type: 'output_text', text: ANSWER })] }),
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
  });
});
