import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/services.js';
import { Secret } from '../config/secret.js';
import { createOpenAiProvider } from '../llm/providers/openai/openai-provider.js';
import type { ChatRequest, LlmProvider } from '../llm/types.js';
import { FakeProviderServer } from '../testing/fake-provider-server.js';
import { adminRedis, captureLogger, connectedRedisClient, deleteKeys } from './cache.test-helpers.js';
import { cacheKey } from './cache-key.js';
import { createResponseCache } from './create-response-cache.js';
import type { ResponseCache } from './response-cache.js';

/*
 * The cache in front of a real provider adapter talking HTTP to the fake provider server: what
 * the fake server counts is what a real provider would have been charged for.
 */
describe('response cache in front of a provider over HTTP', () => {
  let fake: FakeProviderServer;
  let provider: LlmProvider;
  const request: ChatRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Capital of France?' }], temperature: 0 };
  const key = cacheKey({ ...request, provider: 'openai', namespace: 'default' });
  const config = { ttlSeconds: 60, maxEntries: 100, maxBytes: 1024 * 1024, namespace: 'default' } as const;

  beforeAll(async () => {
    fake = await new FakeProviderServer({ handler: () => ({ type: 'answer', content: 'Paris', delayMs: 50 }) }).start();
    provider = createOpenAiProvider({
      apiKey: new Secret('OPENAI_API_KEY', 'test-key'),
      model: 'gpt-4o-mini',
      baseUrl: fake.openaiBaseUrl,
    });
  });

  afterAll(async () => {
    await provider.close?.();
    await fake.close();
  });

  const call = (cache: ResponseCache) => cache.getOrCompute(key, () => provider.complete(request, new AbortController().signal), 'use');

  it('sends one request to the provider for 100 concurrent identical calls (memory)', async () => {
    fake.reset();
    const cache = createResponseCache({ ...config, mode: 'memory' }, { logger: captureLogger().logger }) as ResponseCache;
    const results = await Promise.all(Array.from({ length: 100 }, () => call(cache)));
    expect(fake.requests).toHaveLength(1);
    expect(results.every((result) => result.completion.content === 'Paris')).toBe(true);
    expect(results.filter((result) => result.hit)).toHaveLength(99);
    await cache.close();
  });

  it('sends one request to the provider for 100 concurrent identical calls over two processes (Redis)', async () => {
    fake.reset();
    const keyPrefix = `${uniqueName('gwtest')}:`;
    const clients = [await connectedRedisClient(), await connectedRedisClient()];
    const admin = adminRedis();
    try {
      const caches = clients.map(
        (redis) => createResponseCache({ ...config, mode: 'redis' }, { logger: captureLogger().logger, redis, keyPrefix }) as ResponseCache,
      );
      const results = await Promise.all(Array.from({ length: 100 }, (_, index) => call(caches[index % 2] as ResponseCache)));
      expect(fake.requests).toHaveLength(1);
      expect(results.every((result) => result.completion.content === 'Paris')).toBe(true);
      expect(results.filter((result) => !result.hit)).toHaveLength(1);
      for (const cache of caches) await cache.close();
    } finally {
      await deleteKeys(admin, keyPrefix);
      for (const client of clients) client.disconnect();
      admin.disconnect();
    }
  });
});
