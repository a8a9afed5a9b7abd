import { Agent, request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, TEST_API_KEY, type TestServer } from './test-server.test-helpers.js';

let harness: TestServer | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });

/** One POST over node:http (`agent: false`: its own connection), resolving with status and body. */
function post(url: string, agent: Agent | false = false): Promise<{ status: number; text: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${url}/v1/chat/completions`,
      { method: 'POST', agent, headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text, connection: response.headers.connection }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('graceful shutdown', () => {
  it('finishes a request in flight, refuses new connections, then closes the backend', async () => {
    harness = await startTestServer({ config: { shutdownTimeoutMs: 5000 } });
    const server = harness;
    server.backend.enqueue({ delayMs: 300, content: 'finished during shutdown' });
    const inFlight = post(server.url);
    await waitFor(() => server.backend.calls.length === 1);
    const closed = server.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(post(server.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.connection).toBe('close');
    expect(answer.text).toContain('finished during shutdown');
    await closed;
    expect(server.backend.closeCalls).toBe(1);
    expect(server.backend.calls[0]?.signal.aborted).toBe(false);
  });

  it('finishes a stream in flight', async () => {
    harness = await startTestServer();
    const server = harness;
    server.backend.enqueue({ content: 'a streamed answer that takes a while', chunks: 30 });
    const stream = await server.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    const closed = server.close();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('a streamed answer that takes a while');
    await closed;
  });

  it('does not wait for idle keep-alive connections', async () => {
    harness = await startTestServer({ config: { shutdownTimeoutMs: 10_000 } });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    await Promise.all([post(harness.url, agent), post(harness.url, agent), post(harness.url, agent)]);
    expect(Object.values(agent.freeSockets).flat().length).toBeGreaterThan(0);
    const started = performance.now();
    await harness.close();
    expect(performance.now() - started).toBeLessThan(1000);
    agent.destroy();
  });

  it('closes a kept-alive connection after its in-flight response instead of keeping it open', async () => {
    harness = await startTestServer({ config: { shutdownTimeoutMs: 10_000 } });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await post(harness.url, agent);
    harness.backend.enqueue({ delayMs: 200 });
    const inFlight = post(harness.url, agent);
    const server = harness;
    await waitFor(() => server.backend.calls.length === 2);
    const started = performance.now();
    const closed = harness.close();
    expect((await inFlight).status).toBe(200);
    await closed;
    expect(performance.now() - started).toBeLessThan(2000);
    agent.destroy();
  });

  it('gives up on requests still running after the timeout, aborting their upstream calls', async () => {
    harness = await startTestServer({ config: { shutdownTimeoutMs: 200 } });
    const server = harness;
    server.backend.enqueue({ hang: true });
    const inFlight = post(server.url).catch((error: unknown) => error);
    await waitFor(() => server.backend.calls.length === 1);
    const started = performance.now();
    await server.close();
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2000);
    expect(await inFlight).toMatchObject({ code: 'ECONNRESET' });
    expect(server.backend.calls[0]?.signal.aborted).toBe(true);
    expect(server.backend.closeCalls).toBe(1);
    expect(server.logs.some((line) => String(line['msg']).includes('SERVER_SHUTDOWN_TIMEOUT_MS'))).toBe(true);
  });

  it('is idempotent', async () => {
    harness = await startTestServer();
    await Promise.all([harness.close(), harness.close()]);
    await harness.close();
    expect(harness.backend.closeCalls).toBe(1);
  });
});
