import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LlmProviderName } from '../../config/variables.js';
import { ProviderError } from '../../errors/provider-errors.js';
import { FakeProviderServer } from '../../testing/fake-provider-server.js';
import { CANARY_KEY, providerEnv, rejection, testConfig } from '../llm.test-helpers.js';
import type { ChatRequest, ChatStreamEvent, LlmProvider } from '../types.js';
import { createProvider } from './create-provider.js';
import { compileOpenAiSpec, openAiSpecProblems } from './openai-spec-bodies.test-helpers.js';

const PROVIDERS: LlmProviderName[] = ['openai', 'azure', 'openai-compatible', 'anthropic', 'gemini', 'bedrock'];
/** Gemini's SDK hands back no response headers on errors, and Google sends no request id to read. */
const requestIdOf = (name: LlmProviderName): { requestId?: string } => (name === 'gemini' ? {} : { requestId: 'req_fake_1' });
const request: ChatRequest = {
  model: '',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hi' },
  ],
};

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const all: ChatStreamEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe.each(PROVIDERS)('%s provider against the fake server', (name) => {
  let fake: FakeProviderServer;
  let provider: LlmProvider;
  const signal = (): AbortSignal => new AbortController().signal;

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

  it('answers, with usage, finish reason and request id mapped', async () => {
    fake.enqueue({
      type: 'answer',
      content: 'Hi!',
      usage: { promptTokens: 20, completionTokens: 5, cachedPromptTokens: 8, reasoningTokens: 2 },
    });
    const completion = await provider.complete(request, signal());
    expect(completion).toMatchObject({ provider: name, content: 'Hi!', finishReason: 'stop', ...requestIdOf(name) });
    // Gemini counts thinking apart from the answer: its completion tokens are the answer's and the thoughts'.
    const completionTokens = name === 'gemini' ? 7 : 5;
    expect(completion.usage).toMatchObject({
      promptTokens: 20,
      completionTokens,
      totalTokens: 20 + completionTokens,
      cachedPromptTokens: 8,
    });
    if (name !== 'anthropic' && name !== 'bedrock') expect(completion.usage.reasoningTokens).toBe(2);
    expect(completion.model).toBe(provider.defaultModel);
  });

  it('sends the request in the provider’s own shape', async () => {
    await provider.complete({ ...request, maxTokens: 50 }, signal());
    const sent = fake.requests[0];
    expect(sent?.wire).toBe(name === 'openai-compatible' ? 'openai' : name);
    if (name === 'anthropic')
      expect(sent?.body).toMatchObject({ system: 'Be brief.', max_tokens: 50, messages: [{ role: 'user', content: 'Say hi' }] });
    else if (name === 'gemini') {
      expect(sent).toMatchObject({ path: '/v1beta/models/gemini-2.5-flash:generateContent', model: 'gemini-2.5-flash' });
      expect(sent?.body).toMatchObject({
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        contents: [{ role: 'user', parts: [{ text: 'Say hi' }] }],
        generationConfig: { maxOutputTokens: 50 },
      });
    } else if (name === 'bedrock') {
      expect(sent).toMatchObject({ path: '/model/amazon.nova-lite-v1%3A0/converse', model: 'amazon.nova-lite-v1:0' });
      expect(sent?.body).toMatchObject({
        system: [{ text: 'Be brief.' }],
        messages: [{ role: 'user', content: [{ text: 'Say hi' }] }],
        inferenceConfig: { maxTokens: 50 },
      });
    } else expect(sent?.body).toMatchObject({ messages: [{ role: 'system' }, { role: 'user' }] });
    if (name === 'azure') expect(sent).toMatchObject({ deployment: 'prod-deploy', query: { 'api-version': '2024-10-21' } });
  });

  const statuses: Array<[number, string, boolean]> = [
    [400, 'BadRequestError', false],
    [401, 'AuthenticationError', false],
    [403, 'PermissionDeniedError', false],
    [404, 'NotFoundError', false],
    [408, 'RequestTimeoutError', true],
    [409, 'ConflictError', true],
    [422, 'UnprocessableEntityError', false],
    [429, 'RateLimitedError', true],
    [500, 'ProviderServerError', true],
    [502, 'ProviderServerError', true],
    [503, 'ProviderServerError', true],
  ];
  it.each(statuses)('maps HTTP %i to %s (retryable: %s)', async (status, className, retryable) => {
    fake.enqueue({ type: 'error', status, message: `failure mentioning ${CANARY_KEY}` });
    const error = await rejection(provider.complete(request, signal()));
    expect(error.constructor.name).toBe(className);
    expect(ProviderError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status, retryable, provider: name, ...requestIdOf(name) });
    expect(error.message).not.toContain(CANARY_KEY);
    expect((error as ProviderError).cause).toBeDefined();
    // The SDK's error is kept as the cause: printing the whole error must not show the key either.
    expect(inspect(error, { depth: 8 })).not.toContain(CANARY_KEY);
    expect(JSON.stringify(error)).not.toContain(CANARY_KEY);
  });

  it('keeps the wait from Retry-After and retry-after-ms', async () => {
    fake.enqueue({ type: 'error', status: 429, retryAfter: 7 }, { type: 'error', status: 429, retryAfterMs: 1500, retryAfter: 7 });
    expect(await rejection(provider.complete(request, signal()))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 7000 });
    expect(await rejection(provider.complete(request, signal()))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 1500 });
  });

  it('tells an exhausted quota from a rate limit', async () => {
    const code = name === 'anthropic' ? 'billing_error' : 'insufficient_quota';
    fake.enqueue({ type: 'error', status: name === 'anthropic' ? 400 : 429, code });
    const error = await rejection(provider.complete(request, signal()));
    expect(error).toMatchObject({ name: 'QuotaExhaustedError', retryable: false });
  });

  it('returns a filtered answer as an answer, with the text it has', async () => {
    fake.enqueue({ type: 'answer', content: 'Partial', finishReason: 'content_filter' });
    const completion = await provider.complete(request, signal());
    expect(completion).toMatchObject({ content: 'Partial', finishReason: 'content_filter' });
    if (name === 'azure') {
      // A filtered prompt is still an error: there is no answer to return.
      fake.enqueue({ type: 'error', status: 400, code: 'content_filter' });
      expect(await rejection(provider.complete(request, signal()))).toMatchObject({ name: 'ContentFilterError', status: 400 });
    }
  });

  it('maps a connection reset to ProviderConnectionError', async () => {
    fake.enqueue({ type: 'reset' });
    expect(await rejection(provider.complete(request, signal()))).toMatchObject({ name: 'ProviderConnectionError', retryable: true });
  });

  it('maps a malformed body to MalformedResponseError', async () => {
    fake.enqueue({ type: 'malformed' });
    expect(await rejection(provider.complete(request, signal()))).toMatchObject({ name: 'MalformedResponseError', retryable: true });
  });

  it('maps a timeout abort to ProviderTimeoutError', async () => {
    fake.enqueue({ type: 'hang' });
    const controller = new AbortController();
    const pending = rejection(provider.complete(request, controller.signal));
    await fake.waitForRequests(1);
    controller.abort(new DOMException('attempt timed out', 'TimeoutError'));
    expect(await pending).toMatchObject({ name: 'ProviderTimeoutError', retryable: true });
  });

  it('surfaces the caller’s own abort as an abort, not a provider failure', async () => {
    fake.enqueue({ type: 'hang' });
    const controller = new AbortController();
    const pending = rejection(provider.complete(request, controller.signal));
    await fake.waitForRequests(1);
    controller.abort();
    const error = await pending;
    expect(error.name).toBe('AbortError');
    expect(ProviderError.isInstance(error)).toBe(false);
  });

  it('streams deltas, then one done with the whole answer and usage', async () => {
    fake.enqueue({ type: 'answer', content: 'one two three four', chunks: 4, usage: { promptTokens: 9, completionTokens: 4 } });
    const events = await collect(provider.stream(request, signal()));
    const deltas = events.filter((event) => event.type === 'delta');
    expect(deltas.length).toBe(4);
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    if (done?.type !== 'done') return;
    expect(done.completion).toMatchObject({ content: 'one two three four', finishReason: 'stop', ...requestIdOf(name) });
    expect(done.completion.usage).toMatchObject({ promptTokens: 9, completionTokens: 4, totalTokens: 13 });
  });

  it.each([false, true])('fails a stream cut short (socket destroyed: %s), never a silent success', async (destroy) => {
    fake.enqueue({ type: 'cut-stream', afterChunks: 2, destroy });
    const seen: ChatStreamEvent[] = [];
    const error = await rejection(
      (async () => {
        for await (const event of provider.stream(request, signal())) seen.push(event);
      })(),
    );
    expect(error).toMatchObject({ name: 'ProviderConnectionError', retryable: true });
    expect(seen.some((event) => event.type === 'done')).toBe(false);
  });

  it('fails a stream with a malformed event', async () => {
    fake.enqueue({ type: 'malformed' });
    expect(await rejection(collect(provider.stream(request, signal())))).toMatchObject({ name: 'MalformedResponseError' });
  });

  it('fails a stream with an error status before it starts', async () => {
    fake.enqueue({ type: 'error', status: 503 });
    expect(await rejection(collect(provider.stream(request, signal())))).toMatchObject({ name: 'ProviderServerError', status: 503 });
  });

  it('pings through the models endpoint', async () => {
    await provider.ping(signal());
    // Bedrock's runtime has no free call that proves access to the model: it asks for one token.
    if (name === 'bedrock')
      expect(fake.requests[0]).toMatchObject({ method: 'POST', wire: 'bedrock', body: { inferenceConfig: { maxTokens: 1 } } });
    else expect(fake.requests[0]).toMatchObject({ method: 'GET', wire: 'models' });
    fake.enqueue({ type: 'error', status: 401 });
    expect(await rejection(provider.ping(signal()))).toMatchObject({ name: 'AuthenticationError' });
  });
});

describe('key rotation', () => {
  it.each(PROVIDERS.filter((name) => name !== 'openai-compatible'))('%s uses a replaced key on the next call', async (name) => {
    const fake = await new FakeProviderServer({ apiKeys: ['sk-new-key-after-rotation'] }).start();
    try {
      const config = testConfig(providerEnv(name, fake, 'sk-old-key-before-rotation'));
      const provider = createProvider(name, config);
      expect(await rejection(provider.complete(request, new AbortController().signal))).toMatchObject({ name: 'AuthenticationError' });
      const secrets = {
        openai: config.llm.openai.apiKey,
        'openai-compatible': config.llm.openai.apiKey,
        azure: config.llm.azure.apiKey,
        anthropic: config.llm.anthropic.apiKey,
        gemini: config.llm.gemini.apiKey,
        // The fake server knows an AWS caller by the access key id of its signature.
        bedrock: config.llm.bedrock.accessKeyId,
      };
      const secret = secrets[name];
      secret?.replace('sk-new-key-after-rotation');
      await expect(provider.complete(request, new AbortController().signal)).resolves.toMatchObject({ content: 'ok' });
    } finally {
      await fake.close();
    }
  });
});
