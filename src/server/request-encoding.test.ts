import { Agent, request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, TEST_API_KEY, type TestServer } from './test-server.test-helpers.js';

const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
const headers = (encoding: string) => ({
  authorization: `Bearer ${TEST_API_KEY}`,
  'content-type': 'application/json',
  'content-encoding': encoding,
});

describe('compressed request bodies', () => {
  let test: TestServer | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  it('answers a gzip-compressed chat request as the same request uncompressed', async () => {
    test = await startTestServer();
    const response = await fetch(`${test.url}/v1/chat/completions`, { method: 'POST', headers: headers('gzip'), body: gzipSync(body) });
    expect(response.status).toBe(200);
    expect((await response.json()) as unknown).toMatchObject({ object: 'chat.completion' });
    expect(test.backend.calls[0]?.request.messages).toEqual([{ role: 'user', content: 'Hello' }]);
  });

  it('refuses an encoding it cannot decode with 415 and OpenAI error JSON, without calling the provider', async () => {
    test = await startTestServer();
    const response = await fetch(`${test.url}/v1/chat/completions`, { method: 'POST', headers: headers('compress'), body });
    expect(response.status).toBe(415);
    expect((await response.json()) as unknown).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'unsupported_content_encoding',
        param: null,
        message: expect.stringContaining('"compress"'),
      },
    });
    expect(test.backend.calls).toHaveLength(0);
  });

  it('answers a body that is not in its encoding with 400 on a connection that stays usable', async () => {
    test = await startTestServer({ config: { bodyLimitBytes: 8_000_000 } });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Not gzip at all, and large enough to be still arriving when the first bytes are found wrong.
      const notGzip = Buffer.alloc(3_000_000, 0x7b);
      const refused = await post(`${test.url}/v1/chat/completions`, agent, headers('gzip'), notGzip);
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('invalid_content_encoding');
      const next = await post(`${test.url}/v1/chat/completions`, agent, headers('gzip'), gzipSync(body));
      expect(next.status).toBe(200);
      expect(next.reusedSocket).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});

/** One POST through `agent`, with whether it went on a connection an earlier request opened. */
function post(
  url: string,
  agent: Agent,
  headers: Record<string, string>,
  payload: Buffer,
): Promise<{ status: number; body: string; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', agent, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text, reusedSocket: request.reusedSocket }));
    });
    request.on('error', reject);
    request.end(payload);
  });
}
