import { cacheKey } from '../src/cache/cache-key.js';
import { createResponseCache } from '../src/cache/create-response-cache.js';
import type { ResponseCache } from '../src/cache/response-cache.js';
import { Secret } from '../src/config/secret.js';
import { createRedisClient } from '../src/internal/redis.js';
import { createOpenAiProvider } from '../src/llm/providers/openai/openai-provider.js';
import type { ChatRequest } from '../src/llm/types.js';
import { silentLogger } from '../src/observability/logger.js';
import { FakeProviderServer } from '../src/testing/fake-provider-server.js';
import { redisUrl, uniqueName } from '../test/services.js';
import { type BenchResult, type LatencySummary, measureSerial, round } from './harness.js';

/*
 * What a cache hit costs next to the call it saves. The baseline is an uncached call through the
 * OpenAI provider adapter to the fake provider server answering at once (zero latency), so the
 * ratios are a floor: a real provider takes hundreds of milliseconds more per call.
 * A hit is measured as the LLM client will make it: the key computed from the request, then
 * `getOrCompute` in `use` mode.
 */
export default async function cacheBench(): Promise<BenchResult> {
  const iterations = 5_000;
  const request: ChatRequest = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You translate English words to German. Answer with the word only.' },
      { role: 'user', content: 'Translate: house' },
    ],
    temperature: 0,
    maxTokens: 50,
  };
  const fake = await new FakeProviderServer({ handler: () => ({ type: 'answer', content: 'Haus' }) }).start();
  const provider = createOpenAiProvider({
    apiKey: new Secret('OPENAI_API_KEY', 'bench-key'),
    model: 'gpt-4o-mini',
    baseUrl: fake.openaiBaseUrl,
  });
  const compute = () => provider.complete(request, new AbortController().signal);
  const keyOf = () => cacheKey({ ...request, provider: 'openai', namespace: 'bench' });
  const config = { ttlSeconds: 3600, maxEntries: 10_000, maxBytes: 50 * 1024 * 1024, namespace: 'bench' } as const;

  const redis = createRedisClient({ url: new Secret('REDIS_URL', redisUrl()), displayUrl: redisUrl(), keyPrefix: 'unused:' });
  await new Promise((resolve, reject) => {
    redis.once('ready', resolve);
    setTimeout(() => reject(new Error(`Redis at ${redisUrl()} is not reachable`)), 5000).unref();
  });
  const keyPrefix = `${uniqueName('gwbench')}:`;
  const memory = createResponseCache({ ...config, mode: 'memory' }, { logger: silentLogger() }) as ResponseCache;
  const shared = createResponseCache({ ...config, mode: 'redis' }, { logger: silentLogger(), redis, keyPrefix }) as ResponseCache;

  try {
    const hit = (cache: ResponseCache) => async () => {
      const lookup = await cache.getOrCompute(keyOf(), compute, 'use');
      if (!lookup.hit) throw new Error('expected a cache hit');
    };
    await memory.getOrCompute(keyOf(), compute, 'use');
    await shared.getOrCompute(keyOf(), compute, 'use');

    const uncached = await measureSerial(compute, { iterations: 2_000, warmup: 200 });
    const memoryHit = await measureSerial(hit(memory), { iterations, warmup: 500 });
    const redisHit = await measureSerial(hit(shared), { iterations, warmup: 500 });
    const keyOnly = await measureSerial(keyOf, { iterations, warmup: 500 });

    const ratio = (baseline: LatencySummary, subject: LatencySummary, field: 'p50_us' | 'p99_us') =>
      round(baseline[field] / subject[field]);
    return {
      name: 'cache',
      description:
        'Response cache hit latency (key + getOrCompute) for memory and Redis, against an uncached call through the OpenAI adapter to the fake provider at zero latency.',
      rows: [
        { subject: 'uncached call (fake provider, 0 ms)', ...uncached },
        { subject: 'memory cache hit', ...memoryHit },
        { subject: 'redis cache hit', ...redisHit },
        { subject: 'cacheKey alone', ...keyOnly },
      ],
      ratios: {
        ratio_uncached_over_memory_hit_p50: ratio(uncached, memoryHit, 'p50_us'),
        ratio_uncached_over_memory_hit_p99: ratio(uncached, memoryHit, 'p99_us'),
        ratio_uncached_over_redis_hit_p50: ratio(uncached, redisHit, 'p50_us'),
        ratio_uncached_over_redis_hit_p99: ratio(uncached, redisHit, 'p99_us'),
        ratio_redis_hit_over_memory_hit_p50: ratio(redisHit, memoryHit, 'p50_us'),
      },
    };
  } finally {
    await memory.close();
    await shared.close();
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await provider.close?.();
    await fake.close();
  }
}
