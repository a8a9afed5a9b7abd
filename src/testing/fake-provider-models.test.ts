import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProviderServer } from './fake-provider-server.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  // A handler written for chat requests, as the examples' is: it reads the body's response_format.
  fake = await new FakeProviderServer({
    handler: (request) => {
      const body = request.body as { response_format?: { type?: string } };
      return { type: 'answer', content: body.response_format?.type ?? 'text' };
    },
  }).start();
});
afterAll(async () => {
  await fake.close();
});

describe('the fake provider with a chat handler', () => {
  it('still lists its models on GET /v1/models (the doctor’s reachability check)', async () => {
    const response = await fetch(`${fake.openaiBaseUrl}/models`, { headers: { authorization: 'Bearer test' } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: Array<{ id: string }> }).data).toEqual([expect.objectContaining({ id: 'fake-model' })]);
  });
});
