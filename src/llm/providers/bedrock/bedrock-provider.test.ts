import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer } from '../../../testing/fake-provider-server.js';
import { toolResultsOf } from '../../../testing/fake-tool-results.js';
import { providerEnv, rejection, testConfig } from '../../llm.test-helpers.js';
import type { ChatCompletion, ChatMessage, ChatRequest, ChatStreamEvent, FunctionTool, LlmProvider } from '../../types.js';
import { createProvider } from '../create-provider.js';

const question: ChatMessage[] = [{ role: 'user', content: 'How warm is it in Paris?' }];
const weather: FunctionTool = {
  type: 'function',
  name: 'weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
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

describe('Bedrock provider against the fake server, through the AWS SDK', () => {
  let fake: FakeProviderServer;
  let provider: LlmProvider;
  const signal = (): AbortSignal => new AbortController().signal;
  const body = (index = 0): Record<string, unknown> => fake.requests[index]?.body as Record<string, unknown>;

  beforeAll(async () => {
    fake = await new FakeProviderServer().start();
    provider = createProvider('bedrock', testConfig(providerEnv('bedrock', fake)));
  });
  afterAll(async () => {
    await provider.close?.();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('signs requests with the static credentials (SigV4) for the configured region', async () => {
    const keeping = await new FakeProviderServer({ keepAuthHeaders: true }).start();
    try {
      const signed = createProvider('bedrock', testConfig({ ...providerEnv('bedrock', keeping, 'AKIATESTKEY'), AWS_REGION: 'eu-west-1' }));
      await signed.complete({ model: '', messages: question }, signal());
      expect(keeping.requests[0]?.headers['authorization']).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIATESTKEY\/\d{8}\/eu-west-1\/bedrock\/aws4_request/,
      );
      await signed.close?.();
    } finally {
      await keeping.close();
    }
  });

  it('round-trips a tool call: toolSpec, toolUse, toolResult, answer', async () => {
    fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: `It is ${toolResultsOf(request)[0]?.content} in Paris.` }
        : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }] },
    );
    const first = await provider.complete(
      { model: '', messages: question, tools: [weather], toolChoice: { type: 'function', name: 'weather' } },
      signal(),
    );
    expect(first).toMatchObject({ finishReason: 'tool_calls', toolCalls: [{ name: 'weather', arguments: '{"city":"Paris"}' }] });
    expect(body(0)['toolConfig']).toEqual({
      tools: [{ toolSpec: { name: 'weather', description: weather.description, inputSchema: { json: weather.parameters } } }],
      toolChoice: { tool: { name: 'weather' } },
    });
    const id = first.toolCalls?.[0]?.id ?? '';
    const messages: ChatMessage[] = [
      ...question,
      { role: 'assistant', content: null, toolCalls: first.toolCalls ?? [] },
      { role: 'tool', toolCallId: id, content: '21 °C' },
    ];
    const second = await provider.complete({ model: '', messages, tools: [weather] }, signal());
    expect(second).toMatchObject({ content: 'It is 21 °C in Paris.', finishReason: 'stop' });
    expect(body(1)['messages']).toEqual([
      { role: 'user', content: [{ text: 'How warm is it in Paris?' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: id, name: 'weather', input: { city: 'Paris' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: id, content: [{ text: '21 °C' }] } }] },
    ]);
  });

  it('streams text and tool input in pieces over AWS event-stream framing', async () => {
    fake.enqueue({ type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }], chunks: 4 });
    const events = await collect(provider.stream({ model: '', messages: question, tools: [weather] }, signal()));
    expect(fake.requests[0]?.path).toBe('/model/amazon.nova-lite-v1%3A0/converse-stream');
    const deltas = events.filter((event) => event.type === 'tool-call-delta');
    expect(deltas[0]).toMatchObject({ index: 0, id: expect.stringMatching(/.+/), name: 'weather' });
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.map((delta) => delta.arguments).join('')).toBe('{"city":"Paris"}');
    expect(doneOf(events)).toMatchObject({ finishReason: 'tool_calls', toolCalls: [{ id: deltas[0]?.id, arguments: '{"city":"Paris"}' }] });
  });

  it('sends images and documents as bytes, and refuses what Converse cannot take', async () => {
    const messages: ChatMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare these.' },
          { type: 'image', url: `data:image/png;base64,${PNG}` },
          { type: 'file', data: 'data:application/pdf;base64,JVBERi0=', filename: 'Q3 report (final).pdf' },
        ],
      },
    ];
    await provider.complete({ model: '', messages }, signal());
    expect((body()['messages'] as Array<{ content: unknown }>)[0]?.content).toEqual([
      { text: 'Compare these.' },
      { image: { format: 'png', source: { bytes: PNG } } },
      { document: { format: 'pdf', name: 'Q3 report (final)', source: { bytes: 'JVBERi0=' } } },
    ]);
    const refused: ChatRequest = {
      model: '',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', url: 'https://example.com/cat.jpg' },
            { type: 'audio', data: 'UklGRg==', format: 'wav' },
            { type: 'file', fileId: 'file-1' },
          ],
        },
      ],
    };
    expect(await provider.unsupportedFields(refused)).toEqual([
      'messages[0].content[0]',
      'messages[0].content[1]',
      'messages[0].content[2]',
    ]);
  });

  it('gives structured output through a forced tool, plain and streamed', async () => {
    const schema = { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] };
    const request: ChatRequest = { model: '', messages: question, responseFormat: { type: 'json_schema', name: 'answer', schema } };
    fake.enqueue({ type: 'answer', json: { word: 'hallo' } }, { type: 'answer', json: { word: 'hallo' }, chunks: 3 });
    const plain = await provider.complete(request, signal());
    expect(plain).toMatchObject({ finishReason: 'stop' });
    expect(plain.toolCalls).toBeUndefined();
    expect(JSON.parse(plain.content)).toEqual({ word: 'hallo' });
    expect(body(0)['toolConfig']).toMatchObject({ toolChoice: { tool: { name: 'answer' } } });
    const streamed = doneOf(await collect(provider.stream(request, signal())));
    expect(JSON.parse(streamed.content)).toEqual({ word: 'hallo' });
  });

  it('maps cache reads and writes, metadata, and a guardrail as a filtered answer', async () => {
    fake.enqueue(
      {
        type: 'answer',
        content: 'Hi',
        usage: { promptTokens: 30, completionTokens: 5, cachedPromptTokens: 10, cacheWritePromptTokens: 4 },
      },
      { type: 'answer', promptBlocked: 'guardrail' },
    );
    const completion = await provider.complete({ model: '', messages: question, metadata: { team: 'a' } }, signal());
    expect(body(0)['requestMetadata']).toEqual({ team: 'a' });
    expect(completion.usage).toEqual({
      promptTokens: 30,
      completionTokens: 5,
      totalTokens: 35,
      cachedPromptTokens: 10,
      cacheWritePromptTokens: 4,
    });
    expect(await provider.complete({ model: '', messages: question }, signal())).toMatchObject({ finishReason: 'content_filter' });
  });

  it('classifies ThrottlingException as a retryable rate limit and a service quota as exhausted', async () => {
    fake.enqueue(
      { type: 'error', status: 429, code: 'ThrottlingException', retryAfter: 3 },
      { type: 'error', status: 400, code: 'ServiceQuotaExceededException' },
      { type: 'error', status: 403, code: 'UnrecognizedClientException' },
      { type: 'error', status: 424, code: 'ModelErrorException' },
    );
    expect(await rejection(provider.complete({ model: '', messages: question }, signal()))).toMatchObject({
      name: 'RateLimitedError',
      retryable: true,
      retryAfterMs: 3000,
      requestId: 'req_fake_1',
    });
    expect(await rejection(provider.complete({ model: '', messages: question }, signal()))).toMatchObject({
      name: 'QuotaExhaustedError',
      retryable: false,
    });
    expect(await rejection(provider.complete({ model: '', messages: question }, signal()))).toMatchObject({
      name: 'AuthenticationError',
      status: 403,
    });
    expect(await rejection(provider.complete({ model: '', messages: question }, signal()))).toMatchObject({
      name: 'ProviderServerError',
      retryable: true,
    });
  });

  it('honours tool_choice none by offering no tools, and cannot once the conversation holds tool turns', async () => {
    const request: ChatRequest = {
      model: '',
      messages: question,
      tools: [weather],
      toolChoice: 'none',
      responseFormat: { type: 'json_schema', name: 'forecast', schema: { type: 'object', properties: { celsius: { type: 'number' } } } },
    };
    expect(await provider.unsupportedFields(request)).toEqual([]);
    fake.enqueue({ type: 'answer', json: { celsius: 21 } });
    await provider.complete(request, signal());
    expect(body()['toolConfig']).toBeUndefined();
    const afterTools: ChatRequest = {
      ...request,
      messages: [
        ...question,
        { role: 'assistant', content: null, toolCalls: [{ id: 't1', type: 'function', name: 'weather', arguments: '{"city":"Paris"}' }] },
        { role: 'tool', toolCallId: 't1', content: '21' },
      ],
    };
    expect(await provider.unsupportedFields(afterTools)).toEqual(['tool_choice']);
  });

  it('names every field it cannot honour, at once', async () => {
    const request: ChatRequest = {
      model: '',
      messages: [{ role: 'user', content: 'Hi', name: 'ada' }],
      seed: 1,
      n: 2,
      reasoningEffort: 'low',
      parallelToolCalls: false,
      passthrough: { audio: {} },
    };
    expect(await provider.unsupportedFields(request)).toEqual([
      'seed',
      'reasoning_effort',
      'n',
      'parallel_tool_calls',
      'audio',
      'messages[0].name',
    ]);
  });

  it('embeds with Titan (one text a request, dimensions) and Cohere (all texts at once)', async () => {
    const titan = await provider.embed?.({ model: 'amazon.titan-embed-text-v2:0', inputs: ['a cat', 'a dog'], dimensions: 256 }, signal());
    expect(fake.requests.map((request) => request.path)).toEqual([
      '/model/amazon.titan-embed-text-v2%3A0/invoke',
      '/model/amazon.titan-embed-text-v2%3A0/invoke',
    ]);
    expect(body(0)).toEqual({ inputText: 'a cat', dimensions: 256 });
    expect(titan?.vectors.map((vector) => vector.length)).toEqual([256, 256]);
    expect(titan?.usage.promptTokens).toBe(4);
    fake.reset();
    const cohere = await provider.embed?.({ model: 'cohere.embed-english-v3', inputs: ['one', 'two', 'three'] }, signal());
    expect(fake.requests).toHaveLength(1);
    expect(body(0)).toEqual({ texts: ['one', 'two', 'three'], input_type: 'search_document' });
    expect(cohere?.vectors).toHaveLength(3);
    fake.enqueue({ type: 'error', status: 429, code: 'ThrottlingException' });
    expect(await rejection(provider.embed!({ model: 'cohere.embed-english-v3', inputs: ['x'] }, signal()))).toMatchObject({
      name: 'RateLimitedError',
    });
  });

  it('is refused at load without a region, and with half a key pair', () => {
    expect(() => testConfig({ LLM_PROVIDER: 'bedrock' })).toThrow(/AWS_REGION/);
    expect(() => testConfig({ LLM_PROVIDER: 'bedrock', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIA1' })).toThrow(
      /AWS_SECRET_ACCESS_KEY/,
    );
  });
});
