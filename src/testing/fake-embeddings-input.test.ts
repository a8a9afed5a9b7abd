import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer } from './fake-provider-server.js';

let fake: FakeProviderServer;
beforeEach(async () => {
  fake = await new FakeProviderServer().start();
});
afterEach(async () => {
  await fake.close();
});

describe("the fake's embeddings endpoint and an input OpenAI refuses", () => {
  it.each([
    ['an empty text', ''],
    ['an empty list', []],
    ['a list holding an empty text', ['hello', '']],
    ['an empty list of token ids', [[]]],
  ])('answers %s with a 400, as OpenAI does, rather than an empty answer', async (_case, input) => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
    const refused = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: input as string[] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("'$.input' is invalid");
  });

  it('still embeds texts and token ids', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
    const answer = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(answer.data).toHaveLength(2);
    const tokens = await client.embeddings.create({ model: 'text-embedding-3-small', input: [1, 2, 3] });
    expect(tokens.data).toHaveLength(1);
  });
});
