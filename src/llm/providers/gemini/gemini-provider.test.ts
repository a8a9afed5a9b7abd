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

describe('Gemini provider against the fake server, through @google/genai', () => {
  let fake: FakeProviderServer;
  let provider: LlmProvider;
  const signal = (): AbortSignal => new AbortController().signal;
  const body = (index = 0): Record<string, unknown> => fake.requests[index]?.body as Record<string, unknown>;

  beforeAll(async () => {
    fake = await new FakeProviderServer().start();
    provider = createProvider('gemini', testConfig(providerEnv('gemini', fake)));
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('round-trips a tool call: declaration, functionCall, functionResponse by name, answer', async () => {
    fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: `It is ${toolResultsOf(request)[0]?.content} in Paris.` }
        : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }] },
    );
    const first = await provider.complete({ model: '', messages: question, tools: [weather], toolChoice: 'required' }, signal());
    expect(first).toMatchObject({
      finishReason: 'tool_calls',
      toolCalls: [{ type: 'function', name: 'weather', arguments: '{"city":"Paris"}' }],
    });
    expect(body(0)).toMatchObject({
      tools: [{ functionDeclarations: [{ name: 'weather', description: weather.description, parametersJsonSchema: weather.parameters }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
    });
    const id = first.toolCalls?.[0]?.id ?? '';
    const messages: ChatMessage[] = [
      ...question,
      { role: 'assistant', content: null, toolCalls: first.toolCalls ?? [] },
      { role: 'tool', toolCallId: id, content: '21 °C' },
    ];
    const second = await provider.complete({ model: '', messages, tools: [weather] }, signal());
    expect(second).toMatchObject({ content: 'It is 21 °C in Paris.', finishReason: 'stop' });
    expect(body(1)['contents']).toEqual([
      { role: 'user', parts: [{ text: 'How warm is it in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Paris' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { output: '21 °C' } } }] },
    ]);
  });

  it('streams text in deltas and a tool call whole, as Gemini sends it', async () => {
    fake.enqueue({ type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }] });
    const events = await collect(provider.stream({ model: '', messages: question, tools: [weather] }, signal()));
    expect(fake.requests[0]).toMatchObject({ path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent', query: { alt: 'sse' } });
    const calls = events.filter((event) => event.type === 'tool-call-delta');
    expect(calls).toEqual([expect.objectContaining({ index: 0, name: 'weather', arguments: '{"city":"Paris"}' })]);
    expect(doneOf(events)).toMatchObject({ finishReason: 'tool_calls', toolCalls: [{ id: calls[0]?.id, name: 'weather' }] });
  });

  it('sends images, audio and PDFs inline, and refuses what Gemini cannot fetch', async () => {
    const messages: ChatMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', url: `data:image/png;base64,${PNG}` },
          { type: 'audio', data: 'UklGRg==', format: 'wav' },
          { type: 'file', data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' },
        ],
      },
    ];
    expect(await provider.unsupportedFields({ model: '', messages })).toEqual([]);
    await provider.complete({ model: '', messages }, signal());
    expect((body()['contents'] as Array<{ parts: unknown }>)[0]?.parts).toEqual([
      { text: 'What is in these?' },
      { inlineData: { mimeType: 'image/png', data: PNG } },
      { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
    ]);
    const remote: ChatRequest = {
      model: '',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', url: 'https://example.com/cat.jpg' },
            { type: 'file', fileId: 'file-1' },
          ],
        },
      ],
    };
    expect(await provider.unsupportedFields(remote)).toEqual(['messages[0].content[0]', 'messages[0].content[1]']);
  });

  it('asks for structured output natively: JSON mime type and the schema as it is', async () => {
    const schema = { type: 'object', properties: { word: { type: 'string' } }, required: ['word'], additionalProperties: false };
    fake.enqueue({ type: 'answer', json: { word: 'hallo' } });
    const completion = await provider.complete(
      { model: '', messages: question, responseFormat: { type: 'json_schema', name: 'w', schema } },
      signal(),
    );
    expect(JSON.parse(completion.content)).toEqual({ word: 'hallo' });
    expect(body()['generationConfig']).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it('puts the schema in the system instruction when tools come too, which Gemini before 3 refuses beside the mime type', async () => {
    const schema = { type: 'object', properties: { word: { type: 'string' } }, required: ['word'], additionalProperties: false };
    const responseFormat = { type: 'json_schema', name: 'w', schema } as const;
    const messages: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }, ...question];
    fake.enqueue({ type: 'answer', json: { word: 'hallo' } }, { type: 'answer', json: { word: 'hallo' } });
    const completion = await provider.complete({ model: '', messages, tools: [weather], responseFormat }, signal());
    expect(JSON.parse(completion.content)).toEqual({ word: 'hallo' });
    const config = body()['generationConfig'] as Record<string, unknown> | undefined;
    expect(config?.['responseMimeType']).toBeUndefined();
    expect(config?.['responseJsonSchema']).toBeUndefined();
    const instruction = JSON.stringify(body()['systemInstruction']);
    expect(instruction).toContain('Be brief.');
    expect(instruction).toContain(JSON.stringify(JSON.stringify(schema)).slice(1, -1));
    expect(body()['tools']).toMatchObject([{ functionDeclarations: [{ name: 'weather' }] }]);
    await provider.complete({ model: 'gemini-3-pro-preview', messages, tools: [weather], responseFormat }, signal());
    expect(body(1)['generationConfig']).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it('sends sampling, candidates and thinking; maps several candidates and thinking tokens', async () => {
    fake.enqueue({
      type: 'answer',
      choices: [{ content: 'one' }, { content: 'two' }],
      usage: { promptTokens: 10, completionTokens: 4, reasoningTokens: 6 },
    });
    const completion = await provider.complete(
      { model: '', messages: question, n: 2, temperature: 0.2, topP: 0.9, seed: 3, stop: ['END'], maxTokens: 99, reasoningEffort: 'low' },
      signal(),
    );
    expect(body()['generationConfig']).toMatchObject({
      candidateCount: 2,
      temperature: 0.2,
      topP: 0.9,
      seed: 3,
      stopSequences: ['END'],
      maxOutputTokens: 99,
      thinkingConfig: { thinkingBudget: 1024 },
    });
    expect(completion.choices.map((choice) => choice.message.content)).toEqual(['one', 'two']);
    expect(completion.usage).toEqual({
      promptTokens: 10,
      completionTokens: 10,
      totalTokens: 20,
      cachedPromptTokens: 0,
      reasoningTokens: 6,
    });
  });

  it('asks for thoughts when thinking is on, and answers them as reasoning_content, whole and streamed', async () => {
    const thinking = { type: 'answer', content: 'It is mild.', reasoning: 'Paris in spring: about 15 °C.' } as const;
    fake.enqueue(thinking, thinking, thinking);
    const completion = await provider.complete({ model: '', messages: question, reasoningEffort: 'medium' }, signal());
    expect(body()['generationConfig']).toMatchObject({ thinkingConfig: { thinkingBudget: 8192, includeThoughts: true } });
    expect(completion.choices[0]?.message).toMatchObject({
      content: 'It is mild.',
      passthrough: { reasoning_content: 'Paris in spring: about 15 °C.' },
    });
    const streamed = doneOf(await collect(provider.stream({ model: '', messages: question, reasoningEffort: 'max' }, signal())));
    expect(body(1)['generationConfig']).toMatchObject({ thinkingConfig: { thinkingBudget: -1, includeThoughts: true } });
    expect(streamed.choices[0]?.message).toMatchObject({
      content: 'It is mild.',
      passthrough: { reasoning_content: 'Paris in spring: about 15 °C.' },
    });
    await provider.complete({ model: '', messages: question, reasoningEffort: 'none' }, signal());
    expect((body(2)['generationConfig'] as Record<string, unknown>)['thinkingConfig']).toEqual({ thinkingBudget: 0 });
  });

  it('answers the images an image model makes as the message’s images, data URLs, whole and streamed', async () => {
    const drawn = { type: 'answer', content: 'Here is a dot.', images: [{ mediaType: 'image/png', data: PNG }] } as const;
    fake.enqueue(drawn, drawn);
    const images = [{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }];
    const completion = await provider.complete({ model: 'gemini-2.5-flash-image', messages: question }, signal());
    expect(completion.choices[0]?.message).toEqual({ content: 'Here is a dot.', passthrough: { images } });
    const streamed = doneOf(await collect(provider.stream({ model: 'gemini-2.5-flash-image', messages: question }, signal())));
    expect(streamed.choices[0]?.message).toEqual({ content: 'Here is a dot.', passthrough: { images } });
  });

  it('answers a safety stop as a filtered answer, and fails a blocked prompt with ContentFilterError', async () => {
    fake.enqueue({ type: 'answer', refusal: 'I can’t help with that.' }, { type: 'answer', promptBlocked: 'PROHIBITED_CONTENT' });
    expect(await provider.complete({ model: '', messages: question }, signal())).toMatchObject({
      content: 'I can’t help with that.',
      finishReason: 'content_filter',
    });
    const blocked = await rejection(provider.complete({ model: '', messages: question }, signal()));
    expect(blocked).toMatchObject({ name: 'ContentFilterError', retryable: false });
    expect(blocked.message).toContain('PROHIBITED_CONTENT');
    fake.enqueue({ type: 'answer', promptBlocked: 'SAFETY' });
    expect(await rejection(collect(provider.stream({ model: '', messages: question }, signal())))).toMatchObject({
      name: 'ContentFilterError',
    });
  });

  it('classifies RESOURCE_EXHAUSTED with its RetryInfo, an exhausted quota, UNAVAILABLE and an invalid key', async () => {
    fake.enqueue(
      { type: 'error', status: 429, retryAfterMs: 7000 },
      { type: 'error', status: 429, code: 'insufficient_quota' },
      { type: 'error', status: 503 },
      { type: 'error', status: 400, code: 'API_KEY_INVALID', message: 'API key not valid. Please pass a valid API key.' },
    );
    expect(await rejection(provider.complete({ model: '', messages: question }, signal()))).toMatchObject({
      name: 'RateLimitedError',
      retryable: true,
      retryAfterMs: 7000,
    });
    expect(await rejection(provider.complete({ model: '', messages: question }, signal()))).toMatchObject({
      name: 'QuotaExhaustedError',
      retryable: false,
    });
    expect(await rejection(provider.complete({ model: '', messages: question }, signal()))).toMatchObject({
      name: 'ProviderServerError',
      retryable: true,
    });
    expect(await rejection(provider.complete({ model: '', messages: question }, signal()))).toMatchObject({
      name: 'AuthenticationError',
      status: 400,
    });
  });

  it('names every field it cannot honour, at once', async () => {
    const request: ChatRequest = {
      model: '',
      messages: [
        { role: 'user', content: 'Hi', name: 'ada' },
        { role: 'tool', toolCallId: 'call_unknown', content: 'orphan' },
        {
          role: 'assistant',
          content: 'Two dots.',
          images: [
            { type: 'image', url: `data:image/png;base64,${PNG}` },
            { type: 'image', url: 'data:image/gif;base64,R0lGODlh' },
          ],
        },
      ],
      logitBias: { '1': 1 },
      logprobs: true,
      user: 'u',
      parallelToolCalls: false,
      passthrough: { modalities: ['text'] },
    };
    expect(await provider.unsupportedFields(request)).toEqual([
      'logit_bias',
      'user',
      'logprobs',
      'parallel_tool_calls',
      'modalities',
      'messages[0].name',
      'messages[1].tool_call_id',
      'messages[2].images[1]',
    ]);
  });

  it('embeds through batchEmbedContents with the dimensions asked, and refuses token arrays', async () => {
    const answer = await provider.embed?.({ model: 'gemini-embedding-001', inputs: ['a cat', 'a dog'], dimensions: 256 }, signal());
    expect(fake.requests[0]).toMatchObject({ path: '/v1beta/models/gemini-embedding-001:batchEmbedContents' });
    expect(body()).toMatchObject({ requests: [{ outputDimensionality: 256 }, { outputDimensionality: 256 }] });
    expect(answer?.vectors.map((vector) => vector.length)).toEqual([256, 256]);
    expect(answer?.usage.promptTokens).toBeGreaterThan(0);
    expect(await rejection(provider.embed!({ model: 'gemini-embedding-001', inputs: [[1, 2, 3]] }, signal()))).toMatchObject({
      code: 'llm_invalid_request',
    });
  });
});

describe('Gemini on Vertex AI', () => {
  it('calls the project and location’s publisher path with the credentials’ bearer token', async () => {
    const fake = await new FakeProviderServer().start();
    try {
      const env = {
        LLM_PROVIDER: 'gemini',
        GOOGLE_GENAI_USE_VERTEXAI: 'true',
        GOOGLE_CLOUD_PROJECT: 'proj-1',
        GOOGLE_CLOUD_LOCATION: 'europe-west4',
        GEMINI_BASE_URL: fake.geminiBaseUrl,
      };
      const authClient = { getRequestHeaders: async () => new Headers({ authorization: 'Bearer ya29.test-token' }) };
      const provider = createProvider('gemini', testConfig(env), { googleAuthOptions: { authClient: authClient as never } });
      await provider.complete({ model: '', messages: question }, new AbortController().signal);
      expect(fake.requests[0]?.path).toBe(
        '/v1beta1/projects/proj-1/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent',
      );
      expect(fake.requests[0]?.headers['authorization']).toBe('[redacted]');
    } finally {
      await fake.close();
    }
  });

  it('is refused at load without a project and a location, naming both', () => {
    expect(() => testConfig({ LLM_PROVIDER: 'gemini', GOOGLE_GENAI_USE_VERTEXAI: 'true' })).toThrow(
      /GOOGLE_CLOUD_PROJECT.*GOOGLE_CLOUD_LOCATION/s,
    );
  });
});
