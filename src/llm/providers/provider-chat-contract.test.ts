import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LlmProviderName } from '../../config/variables.js';
import { FakeProviderServer } from '../../testing/fake-provider-server.js';
import { toolResultsOf } from '../../testing/fake-tool-results.js';
import { providerEnv, testConfig } from '../llm.test-helpers.js';
import type { ChatCompletion, ChatMessage, ChatRequest, ChatStreamEvent, FunctionTool, LlmProvider } from '../types.js';
import { createProvider } from './create-provider.js';
import { compileOpenAiSpec, openAiSpecProblems } from './openai-spec-bodies.test-helpers.js';

const PROVIDERS: LlmProviderName[] = ['openai', 'azure', 'openai-compatible', 'anthropic'];

const weather: FunctionTool = {
  type: 'function',
  name: 'weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const question: ChatMessage[] = [{ role: 'user', content: 'How warm is it in Paris?' }];
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const all: ChatStreamEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

function doneOf(events: readonly ChatStreamEvent[]): ChatCompletion {
  const done = events.at(-1);
  if (done?.type !== 'done') throw new Error('the stream did not end with done');
  return done.completion;
}

/** Answers the first turn with a call of `weather`, a tool-result turn with text. */
function weatherAgent(fake: FakeProviderServer): void {
  fake.setHandler((request) =>
    toolResultsOf(request).length > 0
      ? { type: 'answer', content: `It is ${toolResultsOf(request)[0]?.content} in Paris.` }
      : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }], chunks: 4 },
  );
}

/** The conversation after the model called a tool and the tool answered. */
function withResult(completion: ChatCompletion, result: string): ChatMessage[] {
  const calls = completion.toolCalls ?? [];
  return [
    ...question,
    { role: 'assistant', content: null, toolCalls: calls },
    ...calls.map((call) => ({ role: 'tool' as const, toolCallId: call.id, content: result })),
  ];
}

describe.each(PROVIDERS)('%s provider: the whole chat surface', (name) => {
  let fake: FakeProviderServer;
  let provider: LlmProvider;
  const signal = (): AbortSignal => new AbortController().signal;
  const openAiFamily = name !== 'anthropic';
  const body = (index = 0): Record<string, unknown> => fake.requests[index]?.body as Record<string, unknown>;

  beforeAll(async () => {
    compileOpenAiSpec();
    fake = await new FakeProviderServer().start();
    provider = createProvider(name, testConfig(providerEnv(name, fake)));
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());
  // Every body an OpenAI-family upstream received must be valid by OpenAI's own spec.
  afterEach(() => {
    expect(openAiSpecProblems(fake.requests)).toEqual([]);
  });

  it('round-trips a tool call: definition, call, result, answer', async () => {
    weatherAgent(fake);
    const first = await provider.complete({ model: '', messages: question, tools: [weather] }, signal());
    expect(first.finishReason).toBe('tool_calls');
    expect(first.toolCalls).toEqual([
      { id: expect.stringMatching(/.+/), type: 'function', name: 'weather', arguments: '{"city":"Paris"}' },
    ]);
    if (openAiFamily) {
      expect(body(0)['tools']).toEqual([
        { type: 'function', function: { name: 'weather', description: weather.description, parameters: weather.parameters } },
      ]);
    } else {
      expect(body(0)['tools']).toEqual([{ name: 'weather', description: weather.description, input_schema: weather.parameters }]);
    }

    const second = await provider.complete({ model: '', messages: withResult(first, '21 °C'), tools: [weather] }, signal());
    expect(second).toMatchObject({ content: 'It is 21 °C in Paris.', finishReason: 'stop' });
    const id = first.toolCalls?.[0]?.id;
    if (openAiFamily) {
      expect(body(1)['messages']).toEqual([
        { role: 'user', content: 'How warm is it in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id, type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: id, content: '21 °C' },
      ]);
    } else {
      expect(body(1)['messages']).toEqual([
        { role: 'user', content: 'How warm is it in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id, name: 'weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: [{ type: 'text', text: '21 °C' }] }] },
      ]);
    }
  });

  it('streams a tool call as deltas, arguments assembled, then answers the result', async () => {
    weatherAgent(fake);
    const events = await collect(provider.stream({ model: '', messages: question, tools: [weather] }, signal()));
    const deltas = events.filter((event) => event.type === 'tool-call-delta');
    expect(deltas[0]).toMatchObject({ index: 0, id: expect.stringMatching(/.+/), name: 'weather' });
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.map((delta) => delta.arguments).join('')).toBe('{"city":"Paris"}');
    const first = doneOf(events);
    expect(first).toMatchObject({
      finishReason: 'tool_calls',
      toolCalls: [{ id: deltas[0]?.id, name: 'weather', arguments: '{"city":"Paris"}' }],
    });

    const answer = await collect(provider.stream({ model: '', messages: withResult(first, '22 °C'), tools: [weather] }, signal()));
    expect(doneOf(answer)).toMatchObject({ content: 'It is 22 °C in Paris.', finishReason: 'stop' });
    expect(
      answer
        .filter((event) => event.type === 'delta')
        .map((event) => event.text)
        .join(''),
    ).toBe('It is 22 °C in Paris.');
  });

  it('sends tool_choice and parallel_tool_calls in the provider’s terms', async () => {
    await provider.complete(
      { model: '', messages: question, tools: [weather], toolChoice: { type: 'function', name: 'weather' }, parallelToolCalls: false },
      signal(),
    );
    await provider.complete({ model: '', messages: question, tools: [weather], toolChoice: 'required' }, signal());
    if (openAiFamily) {
      expect(body(0)).toMatchObject({ tool_choice: { type: 'function', function: { name: 'weather' } }, parallel_tool_calls: false });
      expect(body(1)).toMatchObject({ tool_choice: 'required' });
    } else {
      expect(body(0)['tool_choice']).toEqual({ type: 'tool', name: 'weather', disable_parallel_tool_use: true });
      expect(body(1)['tool_choice']).toEqual({ type: 'any' });
    }
  });

  it('sends images by URL and inline', async () => {
    const messages: ChatMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', url: 'https://example.com/cat.jpg', detail: 'high' },
          { type: 'image', url: `data:image/png;base64,${PNG}` },
        ],
      },
    ];
    await provider.complete({ model: '', messages }, signal());
    const content = (body()['messages'] as Array<{ content: unknown }>)[0]?.content;
    if (openAiFamily) {
      expect(content).toEqual([
        { type: 'text', text: 'What is in these?' },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
      ]);
    } else {
      expect(content).toEqual([
        { type: 'text', text: 'What is in these?' },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      ]);
    }
  });

  it('returns a refusal as an answer, plain and streamed', async () => {
    const refusal = 'I can’t help with that.';
    fake.enqueue({ type: 'answer', refusal }, { type: 'answer', refusal, chunks: 3 });
    const plain = await provider.complete({ model: '', messages: question }, signal());
    const events = await collect(provider.stream({ model: '', messages: question }, signal()));
    const streamed = doneOf(events);
    if (openAiFamily) {
      expect(plain).toMatchObject({ refusal, content: '', finishReason: 'stop' });
      expect(plain.choices[0]?.message.content).toBeNull();
      expect(streamed).toMatchObject({ refusal, finishReason: 'stop' });
      const pieces = events.filter((event) => event.type === 'refusal-delta').map((event) => event.text);
      expect(pieces.length).toBeGreaterThan(1);
      expect(pieces.join('')).toBe(refusal);
    } else {
      // Anthropic says a refusal with its stop reason; the words it wrote are the content.
      expect(plain).toMatchObject({ content: refusal, finishReason: 'content_filter' });
      expect(streamed).toMatchObject({ content: refusal, finishReason: 'content_filter' });
    }
  });

  it('maps the answer’s id, service tier, usage details and rate-limit headers', async () => {
    const rateLimitHeaders = openAiFamily
      ? { 'x-ratelimit-remaining-requests': '99', 'x-ratelimit-limit-tokens': '40000' }
      : { 'anthropic-ratelimit-requests-remaining': '49' };
    fake.enqueue({
      type: 'answer',
      content: 'Hi',
      systemFingerprint: 'fp_fake',
      serviceTier: openAiFamily ? 'default' : 'standard',
      rateLimitHeaders,
      usage: { promptTokens: 30, completionTokens: 5, cachedPromptTokens: 10, cacheWritePromptTokens: openAiFamily ? 0 : 4 },
    });
    const completion = await provider.complete({ model: '', messages: question }, signal());
    expect(completion).toMatchObject({ id: openAiFamily ? 'chatcmpl-fake-1' : 'msg_fake_1', rateLimitHeaders });
    expect(completion.serviceTier).toBe(openAiFamily ? 'default' : 'standard');
    expect(completion.usage).toMatchObject({ promptTokens: 30, cachedPromptTokens: 10 });
    if (openAiFamily) {
      expect(completion).toMatchObject({ systemFingerprint: 'fp_fake', created: expect.any(Number) });
      expect(completion.usage).toMatchObject({ audioPromptTokens: 0, audioCompletionTokens: 0, acceptedPredictionTokens: 0 });
    } else {
      expect(completion.usage.cacheWritePromptTokens).toBe(4);
    }
  });

  it('streams the same answer-level facts as it answers them plainly', async () => {
    fake.enqueue({ type: 'answer', content: 'Hi there', serviceTier: openAiFamily ? 'default' : 'standard', systemFingerprint: 'fp_s' });
    const completion = doneOf(await collect(provider.stream({ model: '', messages: question }, signal())));
    expect(completion).toMatchObject({
      id: openAiFamily ? 'chatcmpl-fake-1' : 'msg_fake_1',
      serviceTier: openAiFamily ? 'default' : 'standard',
    });
    if (openAiFamily) {
      expect(completion.systemFingerprint).toBe('fp_s');
      expect(body()['stream_options']).toEqual({ include_usage: true });
    }
  });
});

describe.each(PROVIDERS.filter((name) => name !== 'anthropic'))('%s provider: OpenAI-only fields', (name) => {
  let fake: FakeProviderServer;
  let provider: LlmProvider;
  const signal = (): AbortSignal => new AbortController().signal;
  const body = (): Record<string, unknown> => fake.requests[0]?.body as Record<string, unknown>;

  beforeAll(async () => {
    compileOpenAiSpec();
    fake = await new FakeProviderServer().start();
    provider = createProvider(name, testConfig(providerEnv(name, fake)));
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());
  // Every body an OpenAI-family upstream received must be valid by OpenAI's own spec.
  afterEach(() => {
    expect(openAiSpecProblems(fake.requests)).toEqual([]);
  });

  it('answers n choices with log probabilities', async () => {
    fake.enqueue({ type: 'answer', choices: [{ content: 'one' }, { content: 'two words' }], logprobs: true });
    const completion = await provider.complete({ model: '', messages: question, n: 2, logprobs: true, topLogprobs: 2 }, signal());
    expect(body()).toMatchObject({ n: 2, logprobs: true, top_logprobs: 2 });
    expect(completion.choices.map((choice) => choice.message.content)).toEqual(['one', 'two words']);
    expect(completion.content).toBe('one');
    const tokens = completion.choices[1]?.logprobs?.content;
    expect(tokens?.map((token) => token.token)).toEqual(['two ', 'words']);
    expect(tokens?.[0]?.topLogprobs).toHaveLength(2);
    expect(tokens?.[0]?.bytes).toEqual([...Buffer.from('two ')]);
  });

  it('streams n choices by index, with log probabilities assembled', async () => {
    fake.enqueue({ type: 'answer', choices: [{ content: 'alpha beta gamma' }, { content: 'delta epsilon' }], logprobs: true, chunks: 2 });
    const events = await collect(provider.stream({ model: '', messages: question, n: 2, logprobs: true }, signal()));
    const second = events.filter((event) => event.type === 'delta' && event.choice === 1);
    expect(second.map((event) => (event.type === 'delta' ? event.text : '')).join('')).toBe('delta epsilon');
    const completion = doneOf(events);
    expect(completion.choices.map((choice) => choice.message.content)).toEqual(['alpha beta gamma', 'delta epsilon']);
    expect(completion.choices[0]?.logprobs?.content?.map((token) => token.token).join('')).toBe('alpha beta gamma');
  });

  it('sends every modelled field under its wire name and pass-through fields verbatim', async () => {
    const request: ChatRequest = {
      model: '',
      messages: [
        { role: 'developer', content: 'Be exact.' },
        { role: 'user', content: 'Hi', name: 'ada' },
      ],
      temperature: 0.3,
      topP: 0.9,
      maxTokens: 77,
      stop: ['END'],
      seed: 7,
      parallelToolCalls: true,
      tools: [{ ...weather, strict: true }],
      toolChoice: 'auto',
      n: 1,
      logprobs: false,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
      logitBias: { '50256': -100 },
      user: 'user-1',
      metadata: { team: 'a' },
      store: true,
      serviceTier: 'flex',
      reasoningEffort: 'low',
      verbosity: 'low',
      responseFormat: { type: 'json_object' },
      passthrough: { modalities: ['text'], prediction: { type: 'content', content: 'Hi' }, web_search_options: {}, prompt_cache_key: 'k1' },
    };
    await provider.complete(request, signal());
    const tokenField = name === 'openai-compatible' ? 'max_tokens' : 'max_completion_tokens';
    expect(body()).toMatchObject({
      temperature: 0.3,
      top_p: 0.9,
      [tokenField]: 77,
      stop: ['END'],
      seed: 7,
      parallel_tool_calls: true,
      tool_choice: 'auto',
      n: 1,
      logprobs: false,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      logit_bias: { '50256': -100 },
      user: 'user-1',
      metadata: { team: 'a' },
      store: true,
      service_tier: 'flex',
      reasoning_effort: 'low',
      verbosity: 'low',
      response_format: { type: 'json_object' },
      modalities: ['text'],
      prediction: { type: 'content', content: 'Hi' },
      web_search_options: {},
      prompt_cache_key: 'k1',
    });
    expect((body()['tools'] as Array<{ function: { strict?: boolean } }>)[0]?.function.strict).toBe(true);
    const messages = body()['messages'] as Array<{ role: string; name?: string }>;
    // Compatible servers (Ollama, vLLM…) know no developer role, nor does Azure's default API version (2024-10-21); OpenAI does.
    expect(messages[0]?.role).toBe(name === 'openai' ? 'developer' : 'system');
    expect(messages[1]).toMatchObject({ role: 'user', name: 'ada' });
  });

  it('sends no max_* field when the request sets no maximum', async () => {
    await provider.complete({ model: '', messages: question }, signal());
    expect(body()).not.toHaveProperty('max_tokens');
    expect(body()).not.toHaveProperty('max_completion_tokens');
  });

  it('sends audio and file parts as OpenAI parts', async () => {
    await provider.complete(
      {
        model: '',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'audio', data: 'UklGRg==', format: 'wav' },
              { type: 'file', fileId: 'file-123' },
              { type: 'file', data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' },
            ],
          },
        ],
      },
      signal(),
    );
    expect((body()['messages'] as Array<{ content: unknown }>)[0]?.content).toEqual([
      { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
      { type: 'file', file: { file_id: 'file-123' } },
      { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
    ]);
  });
});

describe('the spec check on upstream bodies', () => {
  it('catches a body OpenAI would refuse', () => {
    const request = { wire: 'openai' as const, method: 'POST', path: '/v1/chat/completions', query: {}, headers: {}, stream: false };
    const body = { model: 'm', messages: [{ role: 'tool', content: 'no id' }], tool_choice: 'sometimes' };
    expect(openAiSpecProblems([{ ...request, body }]).length).toBeGreaterThan(0);
    expect(openAiSpecProblems([{ ...request, body: { model: 'm', messages: [{ role: 'user', content: 'Hi' }] } }])).toEqual([]);
  });
});
