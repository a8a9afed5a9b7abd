import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer } from './fake-provider-server.js';

let fake: FakeProviderServer;
beforeEach(async () => {
  fake = await new FakeProviderServer().start();
});
afterEach(async () => {
  await fake.close();
});

const ask = (): Promise<Response> =>
  fetch(`${fake.openaiBaseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }),
  });

describe('a cut answer to a request that did not ask for a stream', () => {
  it('is the JSON answer cut short, not a stream the caller never asked for', async () => {
    fake.enqueue({ type: 'cut-stream' });
    const response = await ask();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const text = await response.text();
    expect(text.startsWith(`{"id":"${fake.requests[0]?.answerId}"`)).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('with destroy, loses the connection in the middle of the body', async () => {
    fake.enqueue({ type: 'cut-stream', destroy: true });
    const response = await ask();
    expect(response.headers.get('content-type')).toBe('application/json');
    await expect(response.text()).rejects.toThrow();
  });
});

describe('a stream cut with destroy', () => {
  it('sends its head and first deltas before the connection is lost', async () => {
    fake.enqueue({ type: 'cut-stream', afterChunks: 2, destroy: true });
    const response = await fetch(`${fake.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], stream: true }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += decoder.decode(value);
        }
      })(),
    ).rejects.toThrow();
    expect(text.match(/^data: /gm)).toHaveLength(3);
  });
});
