import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateOpenAiSchema } from '../../test/openai-spec.js';
import { FakeProviderServer, startFakeProviderServer } from './index.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const auth = { authorization: 'Bearer sk-test' };

async function upload(lines: unknown[], base = fake.openaiBaseUrl, query = ''): Promise<Record<string, unknown>> {
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([lines.map((line) => JSON.stringify(line)).join('\n')], { type: 'application/jsonl' }), 'in.jsonl');
  const response = await fetch(`${base}/files${query}`, { method: 'POST', headers: auth, body: form });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: { ...auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const line = (id: string, content: string) => ({
  custom_id: id,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
});

describe('the fake OpenAI Batch API', () => {
  it('answers uploads, batches in every state and result files that validate against the contract', async () => {
    fake.batches.settings.pollsBeforeEnd = 1;
    fake.enqueue({ type: 'answer', content: 'one' }, { type: 'error', status: 400, message: 'refused line' });
    const file = await upload([line('a', 'first'), line('b', 'second')]);
    expect(validateOpenAiSchema('OpenAIFile', file)).toEqual([]);
    const created = await call('POST', '/v1/batches', {
      input_file_id: file['id'],
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    expect(validateOpenAiSchema('Batch', created.body)).toEqual([]);
    expect(created.body['status']).toBe('validating');
    const running = await call('GET', `/v1/batches/${created.body['id']}`);
    expect(running.body['status']).toBe('in_progress');
    const ended = await call('GET', `/v1/batches/${created.body['id']}`);
    expect(validateOpenAiSchema('Batch', ended.body)).toEqual([]);
    expect(ended.body).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 1, failed: 1 } });
    const output = await (await fetch(`${fake.openaiBaseUrl}/files/${ended.body['output_file_id']}/content`, { headers: auth })).text();
    const answered = JSON.parse(output.trim()) as { custom_id: string; response: { status_code: number; body: unknown } };
    expect(answered.custom_id).toBe('a');
    expect(validateOpenAiSchema('CreateChatCompletionResponse', answered.response.body)).toEqual([]);
    const errors = await (await fetch(`${fake.openaiBaseUrl}/files/${ended.body['error_file_id']}/content`, { headers: auth })).text();
    expect(JSON.parse(errors.trim())).toMatchObject({ custom_id: 'b', response: { status_code: 400 } });
  });

  it('fails, expires and cancels batches on request, and fails a creation as scripted', async () => {
    const file = await upload([line('a', 'x'), line('b', 'y')]);
    const create = { input_file_id: file['id'], endpoint: '/v1/chat/completions', completion_window: '24h' };
    fake.batches.failCreate({ status: 429, message: 'slow down', retryAfter: 3 });
    const refused = await fetch(`${fake.openaiBaseUrl}/batches`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(create),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3');
    for (const end of ['failed', 'expired'] as const) {
      fake.batches.endNext(end);
      const batch = await call('POST', '/v1/batches', create);
      const read = await call('GET', `/v1/batches/${batch.body['id']}`);
      expect(validateOpenAiSchema('Batch', read.body)).toEqual([]);
      expect(read.body['status']).toBe(end);
    }
    fake.batches.settings.manual = true;
    const batch = await call('POST', '/v1/batches', create);
    expect((await call('GET', `/v1/batches/${batch.body['id']}`)).body['status']).toBe('in_progress');
    expect((await call('POST', `/v1/batches/${batch.body['id']}/cancel`)).body['status']).toBe('cancelling');
    const cancelled = await call('GET', `/v1/batches/${batch.body['id']}`);
    expect(validateOpenAiSchema('Batch', cancelled.body)).toEqual([]);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', request_counts: { total: 2, completed: 1 } });
  });

  it('serves Azure under /openai/... only with an api-version', async () => {
    expect((await call('POST', '/openai/batches', {})).status).toBe(404);
    const file = await upload([line('a', 'x')], `${fake.url}/openai`, '?api-version=2024-10-21');
    const batch = await call('POST', '/openai/batches?api-version=2024-10-21', {
      input_file_id: file['id'],
      endpoint: '/chat/completions',
      completion_window: '24h',
    });
    expect(validateOpenAiSchema('Batch', batch.body)).toEqual([]);
  });
});

describe('listing batches', () => {
  it('lists OpenAI batches newest first, a page at a time, without counting as a status read', async () => {
    const ids: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      const file = await upload([line('a', name)]);
      const created = await call('POST', '/v1/batches', {
        input_file_id: file['id'],
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        metadata: { groundwork_batch: name },
      });
      ids.push(String(created.body['id']));
    }
    const first = await call('GET', '/v1/batches?limit=2');
    expect(validateOpenAiSchema('ListBatchesResponse', first.body)).toEqual([]);
    expect(first.body).toMatchObject({ object: 'list', first_id: ids[2], last_id: ids[1], has_more: true });
    expect((first.body['data'] as Array<Record<string, unknown>>).map((batch) => batch['metadata'])).toEqual([
      { groundwork_batch: 'third' },
      { groundwork_batch: 'second' },
    ]);
    const second = await call('GET', `/v1/batches?limit=2&after=${ids[1]}`);
    expect(second.body).toMatchObject({ first_id: ids[0], last_id: ids[0], has_more: false });
    // Listed, never read: each is still validating.
    expect((first.body['data'] as Array<Record<string, unknown>>)[0]?.['status']).toBe('validating');
  });

  it('lists Anthropic message batches newest first', async () => {
    const params = { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
    const older = await call('POST', '/v1/messages/batches', { requests: [{ custom_id: 'a', params }] });
    const newer = await call('POST', '/v1/messages/batches', { requests: [{ custom_id: 'a', params }] });
    const listed = await call('GET', '/v1/messages/batches?limit=1');
    expect(listed.body).toMatchObject({ first_id: newer.body['id'], last_id: newer.body['id'], has_more: true });
    const next = await call('GET', `/v1/messages/batches?limit=1&after_id=${String(newer.body['id'])}`);
    expect(next.body).toMatchObject({ data: [{ id: older.body['id'], type: 'message_batch' }], has_more: false });
  });

  it('makes the batch but loses the answer when told to', async () => {
    fake.batches.loseCreateAnswer();
    const file = await upload([line('a', 'lost')]);
    await expect(
      call('POST', '/v1/batches', { input_file_id: file['id'], endpoint: '/v1/chat/completions', completion_window: '24h' }),
    ).rejects.toThrow();
    expect(fake.batches.ids).toHaveLength(1);
    expect(
      (await call('POST', '/v1/batches', { input_file_id: file['id'], endpoint: '/v1/chat/completions', completion_window: '24h' })).status,
    ).toBe(200);
  });
});

describe('the fake Anthropic Message Batches API', () => {
  it('creates, reads, and serves results per request, with cancel', async () => {
    fake.batches.settings.manual = true;
    fake.enqueue({ type: 'answer', content: 'hello' });
    const params = { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
    const created = await call('POST', '/v1/messages/batches', {
      requests: [
        { custom_id: 'a', params },
        { custom_id: 'b', params },
      ],
    });
    expect(created.body).toMatchObject({ type: 'message_batch', processing_status: 'in_progress', request_counts: { processing: 2 } });
    const id = String(created.body['id']);
    expect((await call('GET', `/v1/messages/batches/${id}/results`)).status).toBe(400);
    expect((await call('POST', `/v1/messages/batches/${id}/cancel`)).body['processing_status']).toBe('canceling');
    const ended = await call('GET', `/v1/messages/batches/${id}`);
    expect(ended.body).toMatchObject({ processing_status: 'ended', request_counts: { succeeded: 1, canceled: 1 } });
    const results = (await (await fetch(String(ended.body['results_url']), { headers: auth })).text())
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text));
    expect(results[0]).toMatchObject({
      custom_id: 'a',
      result: { type: 'succeeded', message: { type: 'message', content: [{ type: 'text', text: 'hello' }] } },
    });
    expect(results[1]).toMatchObject({ custom_id: 'b', result: { type: 'canceled' } });
  });
});

describe('the fake Batch APIs with keys enforced', () => {
  it("refuses a wrong key with 401 in each wire's own error shape, as on its other endpoints", async () => {
    const strict = await new FakeProviderServer({ apiKeys: ['right-key'] }).start();
    try {
      const anthropic = new Anthropic({ apiKey: 'wrong-key', baseURL: strict.anthropicBaseUrl, maxRetries: 0 });
      const refused = await anthropic.messages.batches.list().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
      expect((refused as InstanceType<typeof Anthropic.AuthenticationError>).error).toEqual({
        type: 'error',
        error: { type: 'authentication_error', message: 'invalid x-api-key' },
      });
      expect((refused as InstanceType<typeof Anthropic.AuthenticationError>).requestID).toMatch(/^req_fake_/);
      // The same answer as Anthropic's messages endpoint gives a wrong key.
      const messages = await anthropic.messages
        .create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
        .catch((error: unknown) => error);
      expect((messages as InstanceType<typeof Anthropic.AuthenticationError>).error).toEqual(
        (refused as InstanceType<typeof Anthropic.AuthenticationError>).error,
      );

      const openai = new OpenAI({ apiKey: 'wrong-key', baseURL: strict.openaiBaseUrl, maxRetries: 0 });
      const openaiRefused = await openai.batches.list().catch((error: unknown) => error);
      expect(openaiRefused).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(openaiRefused).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
      expect((openaiRefused as InstanceType<typeof OpenAI.AuthenticationError>).requestID).toMatch(/^req_fake_/);
    } finally {
      await strict.close();
    }
  });
});
