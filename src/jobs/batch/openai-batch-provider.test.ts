import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import type { BatchProvider } from './batch-provider.js';
import { createBatchProvider } from './create-batch-provider.js';

let fake: FakeProviderServer;
let provider: BatchProvider;
beforeAll(async () => {
  fake = await startFakeProviderServer();
  const config = loadConfig({
    env: { LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-find-test', OPENAI_BASE_URL: fake.openaiBaseUrl, OPENAI_MODEL: 'gpt-4o-mini' },
    envFile: false,
  });
  provider = createBatchProvider(config, 'openai');
});
afterAll(async () => {
  await provider.close();
  await fake.close();
});
beforeEach(() => fake.reset());

const signal = (): AbortSignal => AbortSignal.timeout(30_000);
const lines = [{ customId: 'item-0', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } }];

describe('finding a batch submitted earlier on the OpenAI wire', () => {
  it('finds it by its groundwork_batch metadata, through the pages of the list', async () => {
    const oldest = await provider.submit(lines, { groundwork_batch: 'batch-oldest' }, signal());
    for (let index = 0; index < 120; index++) await provider.submit(lines, { groundwork_batch: `batch-${index}` }, signal());
    const since = Date.now() - 60_000;
    expect(await provider.findSubmitted('batch-oldest', since, signal())).toBe(oldest);
    expect(await provider.findSubmitted('batch-119', since, signal())).toBe(fake.batches.ids.at(-1));
    expect(await provider.findSubmitted('batch-never-sent', since, signal())).toBeUndefined();
    // Two pages of 100 read for the oldest, and for the one never sent.
    const lists = fake.requests.filter((request) => request.path === '/v1/batches' && request.method === 'GET');
    expect(lists.map((request) => request.query['after'] === undefined)).toEqual([true, false, true, true, false]);
  }, 30_000);

  it('stops reading at batches created before the batch was enqueued', async () => {
    await provider.submit(lines, { groundwork_batch: 'batch-earlier' }, signal());
    for (let index = 0; index < 100; index++) await provider.submit(lines, { groundwork_batch: `batch-${index}` }, signal());
    // Enqueued an hour from now: every batch listed is older, so the first page is the last read.
    expect(await provider.findSubmitted('batch-earlier', Date.now() + 3_600_000, signal())).toBeUndefined();
    expect(fake.requests.filter((request) => request.path === '/v1/batches' && request.method === 'GET')).toHaveLength(1);
  }, 30_000);
});
