import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { redisUrl, uniqueName } from '../../test/services.js';
import type { ResilienceConfig } from '../config/app-config.js';
import { ProviderServerError } from '../errors/provider-errors.js';
import type { AttemptInfo, AttemptResult } from '../llm/call-pipeline.js';
import { silentLogger } from '../observability/logger.js';

/** Settings for tests: the seed's defaults unless overridden. */
export function testConfig(overrides: Partial<ResilienceConfig> = {}): ResilienceConfig {
  return {
    maxAttempts: 3,
    retryMinMs: 2000,
    retryMaxMs: 10_000,
    retryAfterMaxMs: 60_000,
    timeoutMs: 60_000,
    deadlineMs: 120_000,
    requestsPerMinute: 2500,
    tokensPerMinute: undefined,
    rateLimitMaxWaitMs: 30_000,
    onStoreFailure: 'local',
    expectedReplicas: 1,
    maxConcurrent: 10,
    queueMax: 1000,
    queueTimeoutMs: 60_000,
    circuitFailureThreshold: 5,
    circuitResetMs: 60_000,
    fallbacks: [],
    ...overrides,
  };
}

export const logger = silentLogger();

/** An attempt that answers `value` at once. */
export const answer =
  <T>(value: T) =>
  async (): Promise<AttemptResult<T>> => ({ value });

/** A 503 from the provider: retryable, counts against its health. */
export const serverError = (provider = 'openai', retryAfterMs?: number): ProviderServerError =>
  new ProviderServerError('service unavailable', { provider, status: 503, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });

/** An attempt that never answers until its signal aborts. */
export const hang = (info: AttemptInfo): Promise<AttemptResult<never>> =>
  new Promise((_resolve, reject) => info.signal.addEventListener('abort', () => reject(info.signal.reason)));

/**
 * A Redis connection for integration tests and a key prefix unique to the test. Fails the test
 * when Redis is unreachable: never skipped silently.
 */
export async function testRedis(): Promise<{ redis: Redis; prefix: string; close(): Promise<void> }> {
  const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 2000 });
  redis.on('error', () => {});
  await expect(redis.connect(), `Redis must be reachable at ${redisUrl()}`).resolves.toBeUndefined();
  const prefix = `${uniqueName('gwtest')}:`;
  return {
    redis,
    prefix,
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}
