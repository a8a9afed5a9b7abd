import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../../observability/capture-logger.test-helpers.js';
import { type ServiceStack, STACK_API_KEY, startServiceStack } from '../service-stack.test-helpers.js';

/*
 * `serve`'s forwarded Responses API (OpenAI upstream) and the response cache, which holds chat
 * answers only: a caller asking for it is refused, an operator's default is said not to apply.
 */

let stack: ServiceStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const ask = { model: 'gpt-4o-mini', input: 'hi', temperature: 0, store: false };

function responsesCalls(current: ServiceStack): number {
  return current.fake.requests.filter((request) => request.path.endsWith('/responses')).length;
}

describe('a forwarded Responses call and the response cache', () => {
  it('refuses X-Groundwork-Cache: use or refresh with 400 naming the header, before sending; bypass is honoured', async () => {
    stack = await startServiceStack({ LLM_CACHE: 'memory' });
    const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0 });
    for (const choice of ['use', 'refresh']) {
      const refused = await client.responses.create(ask, { headers: { 'x-groundwork-cache': choice } }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
        type: 'invalid_request_error',
        code: 'llm_unsupported_params',
        param: 'X-Groundwork-Cache',
        message: expect.stringContaining('cannot be cached'),
      });
    }
    expect(responsesCalls(stack)).toBe(0);
    stack.fake.enqueue({ type: 'answer', content: 'fresh' });
    const { response } = await client.responses.create(ask, { headers: { 'x-groundwork-cache': 'bypass' } }).withResponse();
    expect(response.headers.get('x-groundwork-cache')).toBe('miss');
    expect(responsesCalls(stack)).toBe(1);
  });

  it('answers uncached under SERVER_CACHE=true, which the server says once does not apply to forwarded calls', async () => {
    const captured = captureLogger('info');
    stack = await startServiceStack({ LLM_CACHE: 'memory', SERVER_CACHE: 'true' }, captured.logger);
    const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0 });
    for (let call = 0; call < 2; call++) {
      const { response } = await client.responses.create(ask).withResponse();
      expect(response.headers.get('x-groundwork-cache')).toBe('miss');
    }
    expect(responsesCalls(stack)).toBe(2);
    const notes = captured.records.filter((record) => String(record['msg']).includes('SERVER_CACHE'));
    expect(notes).toEqual([expect.objectContaining({ provider: 'openai' })]);
    expect(String(notes[0]?.['msg'])).toContain('forwarded Responses API calls');
  });
});
