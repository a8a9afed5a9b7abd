import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeProviderServer } from './fake-provider-server.js';

/** Whether something accepts TCP connections at `url`'s port. */
function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('FakeProviderServer lifecycle', () => {
  it('refuses a second start() rather than leave the first server listening after close()', async () => {
    const fake = await new FakeProviderServer().start();
    const first = fake.url;
    await expect(fake.start()).rejects.toThrow(/already started/);
    expect(fake.url).toBe(first);
    await fake.close();
    expect(await listening(first)).toBe(false);
  });

  it('can start again once closed', async () => {
    const fake = await new FakeProviderServer().start();
    await fake.close();
    await fake.start();
    fake.enqueue({ type: 'answer', content: 'again' });
    const answer = await fetch(`${fake.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'Hi' }] }),
      signal: AbortSignal.timeout(5000),
    });
    expect(((await answer.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe('again');
    await fake.close();
  });

  it('closes a server whose start() was still under way when close() was called', async () => {
    const fake = new FakeProviderServer();
    const starting = fake.start();
    await fake.close();
    await starting;
    expect(await listening(fake.url)).toBe(false);
  });
});
