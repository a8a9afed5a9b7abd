import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer } from './fake-provider-server.js';

let fake: FakeProviderServer;
beforeEach(async () => {
  fake = await new FakeProviderServer().start();
});
afterEach(async () => {
  await fake.close();
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
