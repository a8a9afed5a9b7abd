import { createOpenAI } from '@ai-sdk/openai';
import { generateObject, generateText, isStepCount, streamText, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toolResultsOf } from '../../testing/fake-tool-results.js';
import type { ServiceStack } from '../service-stack.test-helpers.js';
import { STACK_API_KEY } from '../service-stack.test-helpers.js';
import { responsesStacks, UPSTREAMS } from './responses-stacks.test-helpers.js';

/*
 * The Vercel AI SDK's default OpenAI model, `openai(model)`, speaks the Responses API: against
 * `groundwork serve` in front of OpenAI's wire (forwarded), Anthropic and a compatible server (translated).
 */

const startChecked = responsesStacks();

async function start(upstream: string) {
  const checked = await startChecked(UPSTREAMS[upstream]!);
  const openai = createOpenAI({ apiKey: STACK_API_KEY, baseURL: checked.stack.baseUrl, fetch: checked.checker.fetch });
  return { ...checked, model: openai('gpt-4o-mini') };
}

const weather = tool({
  description: 'The weather in a city now',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, celsius: city === 'Paris' ? 21 : 14 }),
});

/** The fake upstream calls the weather tool first, then answers from the tool results it is sent. */
function scriptWeather(stack: ServiceStack): void {
  stack.fake.setHandler((request) => {
    const results = toolResultsOf(request);
    if (results.length === 0) return { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }] };
    return { type: 'answer', content: `Tool said ${results.map((result) => result.content).join(' ')}` };
  });
}

describe.each(Object.keys(UPSTREAMS))('the AI SDK’s default openai(model) in front of %s', (upstream) => {
  it('generates text', async () => {
    const { model, stack } = await start(upstream);
    stack.fake.enqueue({ type: 'answer', content: 'Hallo Welt', usage: { promptTokens: 8, completionTokens: 2 } });
    const result = await generateText({ model, system: 'Translate to German.', prompt: 'Hello world', temperature: 0 });
    expect(result.text).toBe('Hallo Welt');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({ inputTokens: 8, outputTokens: 2 });
  });

  it('streams text', async () => {
    const { model, stack, checker } = await start(upstream);
    stack.fake.enqueue({ type: 'answer', content: 'Guten Morgen', chunks: 3 });
    const result = streamText({ model, prompt: 'Good morning' });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);
    expect(deltas.join('')).toBe('Guten Morgen');
    expect(deltas.length).toBeGreaterThan(1);
    await checker.problems();
    expect(checker.eventTypes.at(-1)).toBe('response.completed');
  });

  it('generates an object', async () => {
    const { model, stack } = await start(upstream);
    stack.fake.enqueue({ type: 'answer', json: { word: 'Katze', gender: 'feminine' } });
    const { object } = await generateObject({
      model,
      schema: z.object({ word: z.string(), gender: z.enum(['masculine', 'feminine', 'neuter']) }),
      prompt: 'Translate cat to German.',
    });
    expect(object).toEqual({ word: 'Katze', gender: 'feminine' });
  });

  it('runs tools with generateText and streamText: call, result, answer', async () => {
    const { model, stack } = await start(upstream);
    scriptWeather(stack);
    const result = await generateText({ model, prompt: 'Weather in Paris?', tools: { weather }, stopWhen: isStepCount(3) });
    expect(result.steps[0]?.toolCalls.map((call) => [call.toolName, call.input])).toEqual([['weather', { city: 'Paris' }]]);
    expect(result.text).toBe('Tool said {"city":"Paris","celsius":21}');
    const streamed = streamText({ model, prompt: 'Weather in Paris?', tools: { weather }, stopWhen: isStepCount(3) });
    const parts: string[] = [];
    for await (const part of streamed.fullStream) parts.push(part.type);
    expect(parts).toEqual(expect.arrayContaining(['tool-input-delta', 'tool-call', 'tool-result', 'text-delta']));
    expect(await streamed.text).toBe('Tool said {"city":"Paris","celsius":21}');
  });
});
