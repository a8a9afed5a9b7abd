import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServiceStack, STACK_API_KEY, startServiceStack } from '../service-stack.test-helpers.js';

/*
 * `serve`'s request-duration metric for forwarded streams that the upstream ends without a
 * response (`response.failed`, or an `error` event): the stream ends cleanly, and the request
 * still counts, as failed.
 */

let upstream: Server | undefined;
let stack: ServiceStack | undefined;

afterEach(async () => {
  await stack?.close();
  await new Promise((resolve) => (upstream === undefined ? resolve(undefined) : upstream.close(resolve)));
  stack = undefined;
  upstream = undefined;
});

/** A Responses API upstream whose every stream is `events`, each a server-sent event named by its type. */
async function upstreamStreaming(events: Array<Record<string, unknown>>): Promise<string> {
  upstream = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_stream_metrics' });
      for (const [index, event] of events.entries())
        response.write(`event: ${String(event['type'])}\ndata: ${JSON.stringify({ ...event, sequence_number: index })}\n\n`);
      response.end();
    });
  });
  await new Promise<void>((resolve) => upstream?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
}

const response = (status: string, error: unknown) => ({
  id: 'resp_metrics',
  object: 'response',
  created_at: 1,
  status,
  error,
  model: 'gpt-4o-mini',
  output: [],
});

async function streamThroughServe(events: Array<Record<string, unknown>>): Promise<string[]> {
  const baseUrl = await upstreamStreaming(events);
  stack = await startServiceStack({ OPENAI_BASE_URL: baseUrl });
  const answer = await fetch(`${stack.baseUrl}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${STACK_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', input: 'Hi', stream: true, store: false }),
  });
  expect(answer.status).toBe(200);
  const text = await answer.text();
  return [...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1] ?? '');
}

async function durationSamples(): Promise<string[]> {
  const text = await (await fetch(`${stack?.baseUrl.replace(/\/v1$/, '')}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith('gen_ai_server_request_duration_seconds_count{'));
}

describe('the request duration of a forwarded stream the upstream ends without a response', () => {
  it('counts a stream ending in response.failed as failed, with the response’s error code', async () => {
    const events = await streamThroughServe([
      { type: 'response.created', response: response('in_progress', null) },
      { type: 'response.failed', response: response('failed', { code: 'server_error', message: 'The model failed.' }) },
    ]);
    expect(events).toEqual(['response.created', 'response.failed']);
    expect(await durationSamples()).toEqual([
      'gen_ai_server_request_duration_seconds_count{gen_ai_operation_name="responses",gen_ai_request_model="gpt-4o-mini",error_type="server_error"} 1',
    ]);
  });

  it('counts a stream ending in an upstream error event as failed, with the event’s code', async () => {
    const events = await streamThroughServe([
      { type: 'response.created', response: response('in_progress', null) },
      { type: 'error', code: 'rate_limit_exceeded', message: 'Slow down.', param: null },
    ]);
    expect(events).toEqual(['response.created', 'error']);
    expect(await durationSamples()).toEqual([
      'gen_ai_server_request_duration_seconds_count{gen_ai_operation_name="responses",gen_ai_request_model="gpt-4o-mini",error_type="rate_limit_exceeded"} 1',
    ]);
  });
});
