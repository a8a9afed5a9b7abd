import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { LlmProviderName } from '../config/variables.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { FakeProviderServer } from '../testing/fake-provider-server.js';
import { toolResultsOf } from '../testing/fake-tool-results.js';
import { createLlmClient } from './create-llm-client.js';
import { capturingLogger, providerEnv, testConfig } from './llm.test-helpers.js';
import type { LlmClient } from './llm-client-types.js';
import { definePrompt } from './prompt.js';
import { PromptRegistry } from './prompt-registry.js';
import { defineTool } from './tools/tool.js';
import type { UsageRecord } from './usage-record.js';

const PROVIDERS: LlmProviderName[] = ['openai', 'azure', 'openai-compatible', 'anthropic'];

const temperatures: Record<string, number> = { Oslo: 3, Rome: 21 };
const weather = defineTool({
  description: 'The temperature in a city, in °C.',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, celsius: temperatures[city] ?? null }),
});

const forecast = definePrompt(
  {
    name: 'forecast',
    version: 1,
    template: 'How warm is it in {{city}}?',
    tools: { weather },
    temperature: 0,
  },
  { registry: new PromptRegistry() },
);

/**
 * The whole tool loop through the real SDKs over HTTP: the fake provider asks for the tool, and
 * answers with text once the request carries the tool's result.
 */
describe.each(PROVIDERS)('the tool loop on %s, over real HTTP', (name) => {
  let fake: FakeProviderServer;
  let client: LlmClient;
  const rows: UsageRecord[] = [];

  beforeAll(async () => {
    fake = await new FakeProviderServer({
      handler: (request) => {
        const results = toolResultsOf(request);
        if (results.length === 0) return { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }], chunks: 4 };
        const { celsius } = JSON.parse(results[0]?.content ?? '{}') as { celsius: number };
        return { type: 'answer', content: `It is ${celsius} °C in Oslo.`, chunks: 2 };
      },
    }).start();
    client = createLlmClient(testConfig({ ...providerEnv(name, fake), LLM_LEDGER_BATCH_SIZE: '1' }), {
      logger: capturingLogger().logger,
      metrics: new GroundworkMetrics(),
      usageSink: { writeBatch: async (batch) => void rows.push(...batch) },
    });
  });
  afterAll(async () => {
    await client.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    rows.length = 0;
  });

  it('runs definition → call → result → answer, with usage summed and each turn in the ledger', async () => {
    const response = await client.executePrompt(forecast, { city: 'Oslo' });
    expect(response.content).toBe('It is 3 °C in Oslo.');
    expect(response.metadata.steps).toBe(2);
    expect(fake.requests).toHaveLength(2);
    const [first, second] = fake.requests;
    expect(JSON.stringify(first?.body)).toContain('"weather"');
    expect(toolResultsOf(second!)).toEqual([{ toolCallId: expect.any(String), content: '{"city":"Oslo","celsius":3}', isError: false }]);
    await client.flush();
    expect(rows.map((row) => row.outcome)).toEqual(['continued', 'success']);
    expect(response.usage.totalTokens).toBe(rows.reduce((sum, row) => sum + row.totalTokens, 0));
  });

  it('streams the tool call as deltas, then its result, then the answer', async () => {
    const kinds: string[] = [];
    let arguments_ = '';
    let text = '';
    for await (const event of client.streamPrompt(forecast, { city: 'Oslo' })) {
      if (kinds.at(-1) !== event.type) kinds.push(event.type);
      if (event.type === 'tool-call-delta') arguments_ += event.arguments;
      if (event.type === 'delta') text += event.text;
      if (event.type === 'tool-result') expect(event.result).toEqual({ city: 'Oslo', celsius: 3 });
    }
    expect(kinds).toEqual(['start', 'tool-call-delta', 'tool-result', 'delta', 'done']);
    expect(JSON.parse(arguments_)).toEqual({ city: 'Oslo' });
    expect(text).toBe('It is 3 °C in Oslo.');
  });

  it('sends the model a tool error for arguments that break the schema, and lets it answer', async () => {
    fake.enqueue(
      { type: 'answer', toolCalls: [{ name: 'weather', arguments: { town: 'Oslo' } }] },
      { type: 'answer', content: 'I could not look it up.' },
    );
    const response = await client.executePrompt(forecast, { city: 'Oslo' });
    expect(response.content).toBe('I could not look it up.');
    const [result] = toolResultsOf(fake.requests[1]!);
    expect(result?.content).toContain('city');
    if (name === 'anthropic') expect(result?.isError).toBe(true);
  });
});

/**
 * Extended thinking with tools: Anthropic refuses the turn after a tool call unless the assistant
 * turn starts with its signed thinking, as the fake does too.
 */
describe('the tool loop on anthropic with extended thinking, over real HTTP', () => {
  let fake: FakeProviderServer;
  let client: LlmClient;

  beforeAll(async () => {
    fake = await new FakeProviderServer({
      handler: (request) =>
        toolResultsOf(request).length === 0
          ? { type: 'answer', thinking: 'Oslo: ask the weather tool.', toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }] }
          : { type: 'answer', thinking: 'The tool said 3.', content: 'It is 3 °C in Oslo.' },
    }).start();
    client = createLlmClient(testConfig({ ...providerEnv('anthropic', fake), LLM_LEDGER: 'false' }), {
      logger: capturingLogger().logger,
      metrics: new GroundworkMetrics(),
    });
  });
  afterAll(async () => {
    await client.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const request = { messages: [{ role: 'user' as const, content: 'How warm is it in Oslo?' }], reasoningEffort: 'low' as const };

  /** The assistant turn the second request sent back. */
  function repeatedTurn(): unknown {
    const messages = (fake.requests[1]?.body as { messages?: Array<{ role: string; content: unknown }> } | undefined)?.messages ?? [];
    return messages.find((message) => message.role === 'assistant')?.content;
  }

  it('sends the signed thinking back first in the turn that called the tool, and answers', async () => {
    const response = await client.complete(request, { tools: { weather } });
    expect(response.content).toBe('It is 3 °C in Oslo.');
    expect(fake.requests).toHaveLength(2);
    expect(repeatedTurn()).toEqual([
      { type: 'thinking', thinking: 'Oslo: ask the weather tool.', signature: expect.stringMatching(/^fake-sig-/) },
      { type: 'tool_use', id: expect.any(String), name: 'weather', input: { city: 'Oslo' } },
    ]);
  });

  it('does the same when the answers stream', async () => {
    let text = '';
    for await (const event of client.stream(request, { tools: { weather } })) if (event.type === 'delta') text += event.text;
    expect(text).toBe('It is 3 °C in Oslo.');
    expect(fake.requests).toHaveLength(2);
    expect((repeatedTurn() as Array<{ type: string }>)[0]).toEqual({
      type: 'thinking',
      thinking: 'Oslo: ask the weather tool.',
      signature: expect.stringMatching(/^fake-sig-/),
    });
  });
});

/** Gemini 3 signs its function calls and refuses the next turn without the signature, as the fake does too. */
describe('the tool loop on a Gemini 3 model, over real HTTP', () => {
  let fake: FakeProviderServer;
  let client: LlmClient;

  beforeAll(async () => {
    fake = await new FakeProviderServer({
      handler: (request) =>
        toolResultsOf(request).length === 0
          ? { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }] }
          : { type: 'answer', content: 'It is 3 °C in Oslo.' },
    }).start();
    client = createLlmClient(testConfig({ ...providerEnv('gemini', fake), GEMINI_MODEL: 'gemini-3-pro-preview', LLM_LEDGER: 'false' }), {
      logger: capturingLogger().logger,
      metrics: new GroundworkMetrics(),
    });
  });
  afterAll(async () => {
    await client.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  /** The `functionCall` part the second request sent back. */
  function repeatedCall(): unknown {
    const contents = (fake.requests[1]?.body as { contents?: Array<{ role: string; parts: unknown[] }> } | undefined)?.contents ?? [];
    return contents.find((content) => content.role === 'model')?.parts[0];
  }

  it('sends each call back with its thought signature, and answers', async () => {
    const response = await client.executePrompt(forecast, { city: 'Oslo' });
    expect(response.content).toBe('It is 3 °C in Oslo.');
    expect(repeatedCall()).toEqual({
      functionCall: { name: 'weather', args: { city: 'Oslo' } },
      thoughtSignature: expect.stringMatching(/^fake-thought-/),
    });
  });

  it('does the same when the answers stream', async () => {
    let text = '';
    for await (const event of client.streamPrompt(forecast, { city: 'Oslo' })) if (event.type === 'delta') text += event.text;
    expect(text).toBe('It is 3 °C in Oslo.');
    expect(repeatedCall()).toEqual({
      functionCall: { name: 'weather', args: { city: 'Oslo' } },
      thoughtSignature: expect.stringMatching(/^fake-thought-/),
    });
  });
});
