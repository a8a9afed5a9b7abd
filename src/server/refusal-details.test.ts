import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, TEST_API_KEY, type TestServer } from './test-server.test-helpers.js';

let harness: TestServer | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('refusals say what is allowed', () => {
  it('a 405 names the allowed methods in an Allow header', async () => {
    harness = await startTestServer();
    const response = await fetch(`${harness.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('a body nested 50,000 levels deep (in json_schema) is a 400, not a 500', async () => {
    harness = await startTestServer({ config: { bodyLimitBytes: 1_000_000 } });
    const schema = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
    const body = `{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"deep","schema":${schema}}}}`;
    const response = await fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('too_deeply_nested');
  });
});
