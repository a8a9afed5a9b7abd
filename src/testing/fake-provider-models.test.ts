import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProviderServer } from './fake-provider-server.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  // A handler written for chat requests only: it reads the body, which a models listing does not have.
  fake = await new FakeProviderServer({
    handler: (request) => {
      const body = request.body as { response_format: { type: string } };
      return { type: 'answer', content: body.response_format.type };
    },
  }).start();
});
afterAll(async () => {
  await fake.close();
});

describe('the fake provider with a handler that throws', () => {
  it('answers 500 naming the handler’s error instead of resetting the connection', async () => {
    const response = await fetch(`${fake.openaiBaseUrl}/models`, { headers: { authorization: 'Bearer test' } });
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("The fake provider's handler threw");
  });
});
