import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../config/secret.js';
import { rejection } from '../../llm.test-helpers.js';
import type { ChatRequest } from '../../types.js';
import { createAnthropicProvider } from './anthropic-provider.js';

const request: ChatRequest = { model: '', messages: [{ role: 'user', content: 'Say hi' }] };
const signal = (): AbortSignal => new AbortController().signal;

describe('Anthropic errors answered before the answer began', () => {
  let server: Server;
  let status = 400;
  let error: Record<string, unknown> = {};
  let baseUrl: string;
  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_1' });
      response.end(JSON.stringify({ type: 'error', error, request_id: 'req_1' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const provider = () =>
    createAnthropicProvider({ apiKey: new Secret('ANTHROPIC_API_KEY', 'sk-ant-test'), model: 'claude-sonnet-4-5', baseUrl });

  it('a credit balance too low, which Anthropic answers as a 400 invalid_request_error, is an exhausted quota', async () => {
    status = 400;
    error = {
      type: 'invalid_request_error',
      message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
    };
    const failed = await rejection(provider().complete(request, signal()));
    expect(failed).toMatchObject({
      name: 'QuotaExhaustedError',
      kind: 'quota_exhausted',
      status: 400,
      retryable: false,
      requestId: 'req_1',
    });
    expect(failed.message).toContain('credit balance is too low');
  });

  it('any other invalid_request_error stays a bad request', async () => {
    status = 400;
    error = { type: 'invalid_request_error', message: 'messages: at least one message is required' };
    expect(await rejection(provider().complete(request, signal()))).toMatchObject({ kind: 'bad_request', retryable: false });
  });
});
