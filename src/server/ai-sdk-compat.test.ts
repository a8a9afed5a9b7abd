import { createOpenAI } from '@ai-sdk/openai';
import { embed, embedMany, generateText, isStepCount, streamText, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toolResultsOf } from '../testing/fake-tool-results.js';
import { checkedStacks } from './checked-stacks.test-helpers.js';
import { type ServiceStack, STACK_API_KEY } from './service-stack.test-helpers.js';
import type { SpecCheckingFetch } from './spec-checking-fetch.test-helpers.js';

/* The Vercel AI SDK's OpenAI provider (`openai.chat(model)`) against `groundwork serve` in front of the fake provider. */

const startChecked = checkedStacks();
let checker: SpecCheckingFetch;

async function start() {
  const { stack, checker: checking } = await startChecked();
  checker = checking;
  const openai = createOpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, fetch: checker.fetch });
  return { model: openai.chat('gpt-4o-mini'), stack };
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

describe('the Vercel AI SDK', () => {
  it('generates text', async () => {
    const { model, stack } = await start();
    stack.fake.enqueue({ type: 'answer', content: 'Hallo Welt', usage: { promptTokens: 8, completionTokens: 2 } });
    const result = await generateText({ model, system: 'Translate to German.', prompt: 'Hello world', temperature: 0 });
    expect(result.text).toBe('Hallo Welt');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({ inputTokens: 8, outputTokens: 2 });
    expect(stack.upstreamBodies()[0]).toMatchObject({ temperature: 0, messages: [{ role: 'system' }, { role: 'user' }] });
  });

  it('runs tools with generateText: call, result, answer', async () => {
    const { model, stack } = await start();
    scriptWeather(stack);
    const result = await generateText({ model, prompt: 'Weather in Paris?', tools: { weather }, stopWhen: isStepCount(3) });
    expect(result.steps[0]?.toolCalls.map((call) => [call.toolName, call.input])).toEqual([['weather', { city: 'Paris' }]]);
    expect(result.text).toBe('Tool said {"city":"Paris","celsius":21}');
    const upstream = stack.upstreamBodies();
    expect(upstream).toHaveLength(2);
    expect(upstream[0]?.['tools']).toMatchObject([{ type: 'function', function: { name: 'weather' } }]);
    expect(upstream[1]?.['messages']).toMatchObject([
      { role: 'user' },
      { role: 'assistant', tool_calls: [{ function: { name: 'weather' } }] },
      { role: 'tool' },
    ]);
  });

  it('streams text and tool calls with streamText', async () => {
    const { model, stack } = await start();
    scriptWeather(stack);
    const result = streamText({ model, prompt: 'Weather in Paris?', tools: { weather }, stopWhen: isStepCount(3) });
    const parts: string[] = [];
    for await (const part of result.fullStream) parts.push(part.type);
    expect(parts).toContain('tool-input-delta');
    expect(parts).toContain('tool-call');
    expect(parts).toContain('tool-result');
    expect(parts).toContain('text-delta');
    expect(await result.text).toBe('Tool said {"city":"Paris","celsius":21}');
    expect(checker.checked).toBeGreaterThan(4);
  });

  it('embeds with embed and embedMany, dimensions and user included', async () => {
    const { stack } = await start();
    const openai = createOpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, fetch: checker.fetch });
    const model = openai.embedding('text-embedding-3-small');
    const one = await embed({ model, value: 'sunny day', maxRetries: 0, providerOptions: { openai: { dimensions: 256, user: 'user-7' } } });
    expect(one.embedding).toHaveLength(256);
    const many = await embedMany({ model, values: ['a', 'b'], maxRetries: 0 });
    expect(many.embeddings.map((vector) => vector.length)).toEqual([1536, 1536]);
  });
});
