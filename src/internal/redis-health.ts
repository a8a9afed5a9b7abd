import type { HealthCheck } from '../observability/health.js';
import type { RedisClient } from './redis.js';
import { describeRedisFailure } from './redis-failure.js';

/** Waits until the client is connected, at most `timeoutMs`; resolves false when it is not. */
export function waitForRedis(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    client.once('ready', onReady);
  });
}

/** The `redis` check: optional (its loss degrades limits, breaker and cache to local state), `PING` with latency. */
export function redisHealthCheck(client: RedisClient, displayUrl: string): HealthCheck {
  return {
    name: 'redis',
    required: false,
    async check() {
      const started = performance.now();
      try {
        await client.ping();
        return { status: 'ok', latencyMs: performance.now() - started, detail: displayUrl };
      } catch (error) {
        return {
          status: 'down',
          latencyMs: performance.now() - started,
          detail: `${displayUrl} does not answer (${describeRedisFailure(error)}); shared limits and cache fall back to this process`,
        };
      }
    },
  };
}
