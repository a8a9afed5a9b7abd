import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer } from './fake-provider-server.js';

let fake: FakeProviderServer;
beforeEach(async () => {
  fake = await new FakeProviderServer().start();
});
afterEach(async () => {
  await fake.close();
});

const ask = (signal?: AbortSignal): Promise<Response> =>
  fetch(`${fake.openaiBaseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }),
    ...(signal === undefined ? {} : { signal }),
  });

describe('FakeProviderServer.cutByCaller', () => {
  it('resolves when asked after the caller already cut the exchange', async () => {
    fake.enqueue({ type: 'hang' });
    const controller = new AbortController();
    const call = ask(controller.signal).catch(() => undefined);
    const [request] = await fake.waitForRequests(1);
    const first = fake.cutByCaller(request!);
    controller.abort();
    await call;
    await first;
    // The cut is over: asking again answers at once rather than waiting for ever.
    await expect(fake.cutByCaller(request!)).resolves.toBe(request);
  });

  it('rejects, rather than waiting for ever, when the exchange was answered whole', async () => {
    await (await ask()).json();
    const [request] = fake.requests;
    await expect(fake.cutByCaller(request!)).rejects.toThrow(/answered whole/);
  });
});
