import { afterEach, describe, expect, it } from 'vitest';
import type { FakeProviderServer } from '../testing/fake-provider-server.js';
import { type ServiceStack, STACK_API_KEY, startServiceStack } from './service-stack.test-helpers.js';

/*
 * A plain chat body goes to an OpenAI-family upstream as the caller wrote it (only the model, the
 * output maximum and the stream flags set); any other body is translated through the neutral
 * model. Each test sends the same question both ways — a `top_p: null`, which the translation
 * leaves out, sends a body down the translated path — and holds the two equal: what the upstream
 * received, what the caller got back, the cache, and the failures.
 */

let stack: ServiceStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** A plain body in an order the translation never writes (`user` before `messages`, `model` last). */
const PLAIN = {
  user: 'caller-7',
  messages: [
    { role: 'system', content: 'Be terse.' },
    { role: 'user', content: 'Say hello.', name: 'ada' },
  ],
  temperature: 0.3,
  max_tokens: 20,
  seed: 4,
  model: 'gpt-4o-mini',
};

/** The same request, down the translated path. */
const TRANSLATED = { ...PLAIN, top_p: null };

async function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack!.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${STACK_API_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** An answer without what differs from one request to the next (the upstream's id, and its time when a second turned between two). */
function withoutId(answer: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, created: _created, ...rest } = answer;
  return rest;
}

/** The `data:` payloads of an event stream without their per-request id and time. */
async function chunksOf(response: Response): Promise<unknown[]> {
  const events = (await response.text()).split('\n\n').filter((event) => event !== '');
  return events.map((event) => {
    const data = event.slice('data: '.length);
    if (data === '[DONE]') return data;
    const { id: _id, created: _created, ...rest } = JSON.parse(data) as Record<string, unknown>;
    return rest;
  });
}

describe('the pass-through to OpenAI-family upstreams', () => {
  it('sends a plain body as written, with only the model, output maximum and stream set, equal to the translation', async () => {
    stack = await startServiceStack();
    expect((await post(PLAIN)).status).toBe(200);
    expect((await post(TRANSLATED)).status).toBe(200);
    const [passed, translated] = stack.upstreamBodies();
    // The caller's order: the body itself went, not a translation of it.
    expect(Object.keys(passed!)).toEqual(['model', 'user', 'messages', 'temperature', 'seed', 'max_completion_tokens', 'stream']);
    expect(Object.keys(translated!)).not.toEqual(Object.keys(passed!));
    expect(passed).toEqual(translated);
    expect(passed).toEqual({
      model: 'gpt-4o-mini',
      user: 'caller-7',
      messages: PLAIN.messages,
      temperature: 0.3,
      seed: 4,
      max_completion_tokens: 20,
      stream: false,
    });
  });

  it('answers with the same fields either way: ids aside, usage, finish reason, refusal, tool calls and logprobs', async () => {
    stack = await startServiceStack();
    const behaviours = [
      { type: 'answer' as const, content: 'Hello.', systemFingerprint: 'fp_1', usage: { promptTokens: 9, completionTokens: 2 } },
      { type: 'answer' as const, refusal: 'I can’t help with that.' },
      { type: 'answer' as const, toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' }, id: 'call_1' }] },
      { type: 'answer' as const, content: 'Hi there.', logprobs: true },
    ];
    for (const behaviour of behaviours) {
      stack.fake.enqueue(behaviour, behaviour);
      const passed = (await (await post(PLAIN)).json()) as Record<string, unknown>;
      const translated = (await (await post(TRANSLATED)).json()) as Record<string, unknown>;
      expect(passed['id']).toMatch(/^chatcmpl-/);
      expect(withoutId(passed)).toEqual(withoutId(translated));
    }
  });

  it('streams every chunk as the translated path does, with the usage the caller asked for', async () => {
    stack = await startServiceStack();
    const streamed = { stream: true, stream_options: { include_usage: true } };
    stack.fake.enqueue(
      { type: 'answer', content: 'one two three four', chunks: 4 },
      { type: 'answer', content: 'one two three four', chunks: 4 },
    );
    const passed = await chunksOf(await post({ ...PLAIN, ...streamed }));
    const translated = await chunksOf(await post({ ...TRANSLATED, ...streamed }));
    expect(passed).toEqual(translated);
    expect(
      passed.filter((chunk) => (chunk as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content),
    ).toHaveLength(4);
    expect(passed.at(-2)).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number) } });
    const [upstream] = stack.upstreamBodies();
    expect(Object.keys(upstream!)).toEqual([
      'model',
      'user',
      'messages',
      'temperature',
      'seed',
      'max_completion_tokens',
      'stream',
      'stream_options',
    ]);
    expect(upstream).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('carries an unmodelled field to the upstream untouched (a translated body)', async () => {
    stack = await startServiceStack();
    const prediction = { type: 'content', content: [{ type: 'text', text: 'Hello' }] };
    expect((await post({ ...PLAIN, prediction, web_search_options: {} })).status).toBe(200);
    expect(stack.upstreamBodies()[0]).toMatchObject({ prediction, web_search_options: {} });
  });

  it('sets the output maximum the configuration adds, and translates what a dialect must rewrite', async () => {
    stack = await startServiceStack({ LLM_PROVIDER: 'openai-compatible', OPENAI_MODEL: 'llama3.1', LLM_MAX_OUTPUT_TOKENS: '50' });
    const { max_tokens: _max, ...unbounded } = PLAIN;
    expect((await post(unbounded)).status).toBe(200);
    expect((await post({ ...PLAIN, messages: [{ role: 'developer', content: 'Be terse.' }, ...PLAIN.messages.slice(1)] })).status).toBe(
      200,
    );
    const [bounded, developer] = stack.upstreamBodies();
    expect(Object.keys(bounded!)).toEqual(['model', 'user', 'messages', 'temperature', 'seed', 'max_tokens', 'stream']);
    expect(bounded).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 50 });
    // Compatible servers get `developer` as `system`: that body was translated.
    expect((developer!['messages'] as Array<{ role: string }>)[0]?.role).toBe('system');
  });

  it('goes to Azure’s deployment path with the body as written', async () => {
    stack = await startServiceStack((fake: FakeProviderServer) => ({
      LLM_PROVIDER: 'azure',
      AZURE_OPENAI_API_KEY: 'azure-compat-secret',
      AZURE_OPENAI_ENDPOINT: fake.azureEndpoint,
      AZURE_OPENAI_DEPLOYMENT: 'chat-deploy',
    }));
    expect((await post(PLAIN)).status).toBe(200);
    expect((await post(TRANSLATED)).status).toBe(200);
    const [passed, translated] = stack.fake.requests.map((request) => request.body as Record<string, unknown>);
    expect(passed).toEqual(translated);
    expect(Object.keys(passed!).slice(0, 3)).toEqual(['model', 'user', 'messages']);
    expect(stack.fake.requests.at(-1)?.deployment).toBe('chat-deploy');
  });

  it('shares one cache entry with the translated path, replayed the same as JSON and as a stream', async () => {
    stack = await startServiceStack();
    const cache = { 'x-groundwork-cache': 'use' };
    const miss = await post(PLAIN, cache);
    expect(miss.headers.get('x-groundwork-cache')).toBe('miss');
    const missed = (await miss.json()) as Record<string, unknown>;
    const hit = await post(TRANSLATED, cache);
    expect(hit.headers.get('x-groundwork-cache')).toBe('hit');
    expect(withoutId((await hit.json()) as Record<string, unknown>)).toEqual(withoutId(missed));
    const again = await post(PLAIN, cache);
    expect(again.headers.get('x-groundwork-cache')).toBe('hit');
    expect(await again.json()).toEqual(missed);
    const streamedHit = await chunksOf(await post({ ...PLAIN, stream: true }, cache));
    const streamedTranslated = await chunksOf(await post({ ...TRANSLATED, stream: true }, cache));
    expect(streamedHit).toEqual(streamedTranslated);
    expect(stack.upstreamBodies()).toHaveLength(1);
  });

  it('fails as the translated path does: upstream 4xx and 5xx, garbage, a reset, a stream cut mid-way', async () => {
    // The breaker would open after a few failures in a row and answer the rest itself.
    stack = await startServiceStack({ LLM_CIRCUIT_FAILURE_THRESHOLD: '100' });
    const failures = [
      { type: 'error' as const, status: 400, code: 'invalid_value', message: 'Bad field.' },
      { type: 'error' as const, status: 503, message: 'Overloaded.' },
      { type: 'malformed' as const },
      { type: 'reset' as const },
    ];
    for (const failure of failures) {
      stack.fake.enqueue(failure, failure);
      const passed = await post(PLAIN);
      const translated = await post(TRANSLATED);
      const passedError = (await passed.json()) as { error: Record<string, unknown> };
      const translatedError = (await translated.json()) as { error: Record<string, unknown> };
      expect(passed.status).toBe(translated.status);
      expect(passed.status).toBeGreaterThanOrEqual(400);
      expect(passedError.error['code']).toBe(translatedError.error['code']);
      expect(passedError.error['type']).toBe(translatedError.error['type']);
      expect(passed.headers.get('x-groundwork-attempts')).toBe(translated.headers.get('x-groundwork-attempts'));
    }
    const cut = { type: 'cut-stream' as const, afterChunks: 1 };
    stack.fake.enqueue(cut, cut);
    // The error events differ only in the upstream's request id.
    const withoutRequestId = (text: string) => text.replace(/req_fake_\d+/g, 'req_fake');
    const passedCut = await chunksOf(new Response(withoutRequestId(await (await post({ ...PLAIN, stream: true })).text())));
    const translatedCut = await chunksOf(new Response(withoutRequestId(await (await post({ ...TRANSLATED, stream: true })).text())));
    expect(passedCut).toEqual(translatedCut);
    expect(passedCut.at(-1)).toMatchObject({ error: { code: expect.any(String) } });
  });
});
