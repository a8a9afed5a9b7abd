import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer } from '../../../testing/fake-provider-server.js';
import { providerEnv, testConfig } from '../../llm.test-helpers.js';
import type { ChatMessage, ChatStreamEvent, LlmProvider } from '../../types.js';
import { createProvider } from '../create-provider.js';

const question: ChatMessage[] = [{ role: 'user', content: 'Hi' }];
const schema = { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] };
const lookup = { type: 'function' as const, name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } };

describe('Anthropic provider translation, against the fake server', () => {
  let fake: FakeProviderServer;
  let provider: LlmProvider;
  const signal = (): AbortSignal => new AbortController().signal;
  const body = (index = 0): Record<string, unknown> => fake.requests[index]?.body as Record<string, unknown>;

  beforeAll(async () => {
    fake = await new FakeProviderServer().start();
    provider = createProvider('anthropic', testConfig(providerEnv('anthropic', fake)));
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('sends the model’s own output maximum when the request sets none, never a hidden 1024', async () => {
    await provider.complete({ model: '', messages: question }, signal());
    await provider.complete({ model: 'claude-sonnet-4-5', messages: question }, signal());
    expect(body(0)['max_tokens']).toBe(8192); // claude-3-5-haiku-latest
    expect(body(1)['max_tokens']).toBe(64_000);
  });

  it('takes LLM_MAX_OUTPUT_TOKENS over the model table', async () => {
    const configured = createProvider('anthropic', testConfig({ ...providerEnv('anthropic', fake), LLM_MAX_OUTPUT_TOKENS: '3000' }));
    await configured.complete({ model: '', messages: question }, signal());
    expect(body()['max_tokens']).toBe(3000);
  });

  it('sends sampling, stop, user, service tier and every system and developer message', async () => {
    await provider.complete(
      {
        model: '',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
          ...question,
        ],
        temperature: 0.4,
        topP: 0.8,
        stop: ['END'],
        user: 'user-42',
        serviceTier: 'default',
      },
      signal(),
    );
    expect(body()).toMatchObject({
      system: 'Be brief.\n\nUse French.',
      temperature: 0.4,
      top_p: 0.8,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-42' },
      service_tier: 'standard_only',
      messages: [{ role: 'user', content: 'Hi' }],
    });
  });

  it('maps reasoning effort to a thinking budget that fits in max_tokens', async () => {
    await provider.complete({ model: '', messages: question, reasoningEffort: 'medium', maxTokens: 20_000 }, signal());
    await provider.complete({ model: '', messages: question, reasoningEffort: 'high', maxTokens: 4000 }, signal());
    await provider.complete({ model: '', messages: question, reasoningEffort: 'none' }, signal());
    expect(body(0)['thinking']).toEqual({ type: 'enabled', budget_tokens: 8192 });
    expect(body(1)['thinking']).toEqual({ type: 'enabled', budget_tokens: 3999 });
    expect(body(2)['thinking']).toEqual({ type: 'disabled' });
  });

  it('sends a PDF as a document block', async () => {
    const pdf = 'data:application/pdf;base64,JVBERi0xLjQ=';
    await provider.complete(
      { model: '', messages: [{ role: 'user', content: [{ type: 'file', data: pdf, filename: 'invoice.pdf' }] }] },
      signal(),
    );
    expect((body()['messages'] as Array<{ content: unknown }>)[0]?.content).toEqual([
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0xLjQ=' }, title: 'invoice.pdf' },
    ]);
  });

  it('merges consecutive tool results into one user turn, with is_error, before the user’s next words', async () => {
    const messages: ChatMessage[] = [
      ...question,
      {
        role: 'assistant',
        content: 'Looking up.',
        toolCalls: [
          { id: 'toolu_a', type: 'function', name: 'lookup', arguments: '{"q":"a"}' },
          { id: 'toolu_b', type: 'function', name: 'lookup', arguments: '{"q":"b"}' },
        ],
      },
      { role: 'tool', toolCallId: 'toolu_a', content: 'found a' },
      { role: 'tool', toolCallId: 'toolu_b', content: 'lookup failed', isError: true },
      { role: 'user', content: 'And then?' },
    ];
    await provider.complete({ model: '', messages, tools: [lookup] }, signal());
    expect((body()['messages'] as unknown[]).slice(1)).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Looking up.' },
          { type: 'tool_use', id: 'toolu_a', name: 'lookup', input: { q: 'a' } },
          { type: 'tool_use', id: 'toolu_b', name: 'lookup', input: { q: 'b' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_a', content: [{ type: 'text', text: 'found a' }] },
          { type: 'tool_result', tool_use_id: 'toolu_b', content: [{ type: 'text', text: 'lookup failed' }], is_error: true },
          { type: 'text', text: 'And then?' },
        ],
      },
    ]);
  });

  it('forces the structured-output tool when the caller has no tools', async () => {
    fake.enqueue({ type: 'answer', json: { word: 'hallo' } });
    const completion = await provider.complete(
      { model: '', messages: question, responseFormat: { type: 'json_schema', name: 'answer', schema } },
      signal(),
    );
    expect(body()['tool_choice']).toEqual({ type: 'tool', name: 'answer' });
    expect(completion).toMatchObject({ content: '{"word":"hallo"}', finishReason: 'stop' });
    expect(completion.toolCalls).toBeUndefined();
  });

  it('offers the structured-output tool beside the caller’s tools without forcing it', async () => {
    fake.enqueue(
      { type: 'answer', toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] },
      { type: 'answer', toolCalls: [{ name: 'answer', arguments: { word: 'hallo' } }] },
    );
    const request = {
      model: '',
      messages: question,
      tools: [lookup],
      responseFormat: { type: 'json_schema' as const, name: 'answer', schema },
    };
    const call = await provider.complete(request, signal());
    expect(body(0)['tool_choice']).toEqual({ type: 'any' });
    expect((body(0)['tools'] as Array<{ name: string }>).map((tool) => tool.name)).toEqual(['lookup', 'answer']);
    expect(call).toMatchObject({ finishReason: 'tool_calls', toolCalls: [{ name: 'lookup', arguments: '{"q":"x"}' }] });

    const answer = await provider.complete(request, signal());
    expect(answer).toMatchObject({ content: '{"word":"hallo"}', finishReason: 'stop' });
    expect(answer.toolCalls).toBeUndefined();

    await provider.complete({ ...request, toolChoice: 'auto' }, signal());
    expect(body(2)['tool_choice']).toEqual({ type: 'auto' });
  });

  it('streams a structured answer through the answer tool as text deltas', async () => {
    fake.enqueue({ type: 'answer', json: { word: 'hallo' }, chunks: 3 });
    const events: ChatStreamEvent[] = [];
    for await (const event of provider.stream(
      { model: '', messages: question, responseFormat: { type: 'json_schema', name: 'answer', schema } },
      signal(),
    ))
      events.push(event);
    const text = events.map((event) => (event.type === 'delta' ? event.text : '')).join('');
    expect(text).toBe('{"word":"hallo"}');
    expect(events.at(-1)).toMatchObject({ type: 'done', completion: { content: '{"word":"hallo"}', finishReason: 'stop' } });
  });
});
