import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { GroundworkError } from '../errors/groundwork-error.js';
import { startTestServer, TEST_API_KEY, type TestServer } from './test-server.test-helpers.js';

let harness: TestServer | undefined;

async function start(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  harness = await startTestServer(...args);
  return harness;
}

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function post(server: TestServer, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

describe('POST /v1/chat/completions', () => {
  it('answers in OpenAI’s chat.completion shape through the official SDK', async () => {
    const server = await start();
    server.backend.enqueue({ content: 'Hallo!', usage: { promptTokens: 20, completionTokens: 3, cachedPromptTokens: 16 } });
    const completion = await server.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'developer', content: 'Translate to German.' },
        { role: 'user', content: [{ type: 'text', text: 'Hello!' }] },
      ],
      temperature: 0,
      max_completion_tokens: 50,
      stop: 'END',
      seed: 7,
      response_format: { type: 'json_schema', json_schema: { name: 'word', schema: { type: 'object' }, strict: true } },
    });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hallo!' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 20, completion_tokens: 3, total_tokens: 23, prompt_tokens_details: { cached_tokens: 16 } },
    });
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(typeof completion.created).toBe('number');
    expect(server.backend.calls[0]?.request).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'developer', content: 'Translate to German.' },
        { role: 'user', content: [{ type: 'text', text: 'Hello!' }] },
      ],
      temperature: 0,
      maxTokens: 50,
      stop: ['END'],
      seed: 7,
      responseFormat: { type: 'json_schema', name: 'word', schema: { type: 'object' }, strict: true },
    });
  });

  it('streams server-sent events the SDK iterates, with a final usage chunk on request', async () => {
    const server = await start();
    server.backend.enqueue({ content: 'one two three', chunks: 3 });
    const stream = await server.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('one two three');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
  });

  it('ends the event stream with data: [DONE] and sends no usage chunk unless asked', async () => {
    const server = await start();
    const response = await post(server, JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await response.text()).split('\n\n').filter((event) => event !== '');
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.slice('data: '.length)) as Record<string, unknown>);
    expect(chunks.some((chunk) => 'usage' in chunk)).toBe(false);
  });

  it('refuses a stream before its first event with the error’s own status and Retry-After', async () => {
    const server = await start();
    server.backend.enqueue({ error: new GroundworkErrorWithWait('circuit_open', 'Circuit for openai/m is open.', 2500) });
    const response = await post(server, JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('reports a failure after the stream started as an error event the SDK raises', async () => {
    const server = await start();
    const { ProviderServerError } = await import('../errors/provider-errors.js');
    server.backend.enqueue({
      content: 'partial answer here',
      failAfterDeltas: 1,
      error: new ProviderServerError('upstream died', { provider: 'openai', model: 'gpt-4o-mini', status: 500 }),
    });
    const stream = await server.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const received: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
      })(),
    ).rejects.toThrow(/upstream died/);
    expect(received.join('')).not.toBe('');
  });

  it('reports cache hits in X-Groundwork-Cache and passes the caller’s cache choice on', async () => {
    const server = await start();
    server.backend.enqueue({ cached: true });
    const response = await post(server, JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }), {
      'x-groundwork-cache': 'refresh',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-groundwork-cache')).toBe('hit');
    expect(server.backend.calls[0]?.cache).toBe('refresh');
  });

  it('echoes a caller’s X-Request-Id and generates one otherwise', async () => {
    const server = await start();
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const echoed = await post(server, body, { 'x-request-id': 'trace-abc.123' });
    expect(echoed.headers.get('x-request-id')).toBe('trace-abc.123');
    expect(server.backend.calls[0]?.requestId).toBe('trace-abc.123');
    const generated = await post(server, body, { 'x-request-id': 'bad id with spaces' });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('aborts the upstream call when the caller disconnects', async () => {
    const server = await start();
    server.backend.enqueue({ hang: true });
    const caller = new AbortController();
    const request = fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      signal: caller.signal,
    }).catch((error: unknown) => error);
    await waitFor(() => server.backend.calls.length === 1);
    expect(server.backend.calls[0]?.signal.aborted).toBe(false);
    caller.abort();
    await request;
    await waitFor(() => server.backend.calls[0]?.signal.aborted === true);
    await waitFor(() => server.logs.some((line) => line['msg'] === 'request' && line['status'] === 499));
  });

  it('aborts a streamed upstream call when the caller stops reading', async () => {
    const server = await start();
    server.backend.enqueue({ content: 'x'.repeat(200), chunks: 200 });
    const stream = await server.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    for await (const _chunk of stream) break;
    await waitFor(() => server.backend.calls[0]?.signal.aborted === true);
    expect(server.backend.calls[0]?.signal.aborted).toBe(true);
  });
});

describe('request validation', () => {
  it('refuses malformed JSON with 400 without quoting the body', async () => {
    const server = await start();
    const response = await post(server, '{"model": "m", "messages": [ secret-prompt-text');
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { type: string; code: string; message: string; param: unknown } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json', param: null });
    expect(body.error.message).not.toContain('secret-prompt-text');
  });

  it('refuses a schema-invalid body with 400 naming the field', async () => {
    const server = await start();
    const cases: Array<[unknown, string]> = [
      [{ messages: [{ role: 'user', content: 'hi' }] }, 'model'],
      [{ model: 'm', messages: [] }, 'messages'],
      [{ model: 'm', messages: [{ role: 'function', name: 'f', content: 'hi' }] }, 'messages[0].role'],
      [{ model: 'm', messages: [{ role: 'tool', content: 'hi' }] }, 'messages[0].tool_call_id'],
      [{ model: 'm', messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
      [{ model: 'm', messages: [{ role: 'user', content: 'hi', cache_control: {} }] }, 'messages[0].cache_control'],
      [
        { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x' } }] }] },
        'messages[0].content[0].image_url.url',
      ],
      [{ model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 3 }, 'temperature'],
      [{ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: -1 }, 'max_tokens'],
      [{ model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'custom', custom: { name: 'x' } }] }, 'tools[0].type'],
      [{ model: 'm', messages: [{ role: 'user', content: 'hi' }], n: 0 }, 'n'],
      [{ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, max_completion_tokens: 6 }, 'max_tokens'],
    ];
    for (const [body, param] of cases) {
      const response = await post(server, JSON.stringify(body));
      expect(response.status, param).toBe(400);
      const error = ((await response.json()) as { error: { param: string; message: string } }).error;
      expect(error.param).toBe(param);
      expect(error.message).toContain(param);
    }
    expect(server.backend.calls).toHaveLength(0);
  });

  it('refuses stream_options without stream: true with 400 naming stream_options, as OpenAI does', async () => {
    const server = await start();
    const messages = [{ role: 'user' as const, content: 'hi' }];
    for (const stream of [undefined, false] as const) {
      const refused = await server.client.chat.completions
        .create({ model: 'gpt-4o-mini', messages, ...(stream === undefined ? {} : { stream }), stream_options: { include_usage: true } })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toEqual({
        type: 'invalid_request_error',
        code: 'invalid_request',
        param: 'stream_options',
        message: "Invalid request: stream_options: is only allowed when 'stream' is enabled.",
      });
    }
    // Empty, the field asks for nothing.
    server.backend.enqueue({ content: 'ok' });
    const answered = await post(server, JSON.stringify({ model: 'gpt-4o-mini', messages, stream: false, stream_options: null }));
    expect(answered.status).toBe(200);
    expect(server.backend.calls).toHaveLength(1);
  });

  it('refuses a body over the limit with 413, by Content-Length and by what arrives', async () => {
    const server = await start({ config: { bodyLimitBytes: 1024 } });
    const big = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(4096) }] });
    const declared = await post(server, big);
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    const chunked = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(big));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    await expect(
      server.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(4096) }] }),
    ).rejects.toMatchObject({ status: 413 });
  });

  it('refuses an unknown X-Groundwork-Cache value', async () => {
    const server = await start();
    const response = await post(server, JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }), {
      'x-groundwork-cache': 'maybe',
    });
    expect(response.status).toBe(400);
  });
});

describe('routing', () => {
  it('answers 404 for an unknown route and 405 for a wrong method, in OpenAI’s error JSON', async () => {
    const server = await start();
    const missing = await fetch(`${server.url}/v1/audio/speech`, { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { type: 'not_found_error', code: 'not_found' } });
    const wrong = await fetch(`${server.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    expect(wrong.status).toBe(405);
    expect(await wrong.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
  });

  it('lists models in OpenAI’s shape', async () => {
    const server = await start();
    server.backend.models = [
      { id: 'gpt-4o-mini', ownedBy: 'openai' },
      { id: 'claude-sonnet-4', ownedBy: 'anthropic' },
    ];
    const models = [];
    for await (const model of server.client.models.list()) models.push(model);
    expect(models).toEqual([
      { id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'openai' },
      { id: 'claude-sonnet-4', object: 'model', created: 0, owned_by: 'anthropic' },
    ]);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

class GroundworkErrorWithWait extends GroundworkError {
  readonly retryAfterMs: number;

  constructor(code: string, message: string, retryAfterMs: number) {
    super(code, message, { retryable: true });
    this.retryAfterMs = retryAfterMs;
  }
}
