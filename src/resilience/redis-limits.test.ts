import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { redisUrl, uniqueName } from '../../test/services.js';
import { Secret } from '../config/secret.js';
import { createRedisClient, type RedisClient } from '../internal/redis.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { ManualClock } from '../testing/manual-clock.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { createResiliencePipeline } from './create-resilience-pipeline.js';
import { RateLimitStoreUnavailableError } from './errors.js';
import { RedisBreakerStore } from './redis-breaker-store.js';
import { answer, logger, testConfig, testRedis } from './resilience.test-helpers.js';

const worker = fileURLToPath(new URL('./limit-accuracy.worker.ts', import.meta.url));

function runWorker(args: string[]): Promise<{ admitted: number; failed: number; startedAt: number; endedAt: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    // 'close', not 'exit': the exit may be seen before the last of stdout (the result line) was read from the pipe.
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`worker exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`worker printed no result: ${JSON.stringify(out)} ${err}`));
      }
    });
  });
}

/** A TCP proxy in front of Redis that the test can cut and restore, without touching the shared server. */
async function redisProxy(): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const target = new URL(redisUrl());
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = (): Promise<void> =>
    new Promise((resolve) => {
      const listening = createServer((client) => {
        const upstream = connect(Number(target.port || 6379), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      server = listening;
      listening.listen(port, '127.0.0.1', () => {
        port = (listening.address() as { port: number }).port;
        resolve();
      });
    });
  const cut = (): Promise<void> =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server?.close(() => resolve());
    });
  await listen();
  return { url: `redis://127.0.0.1:${port}`, cut, restore: listen, close: cut };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const client = async (url: string): Promise<RedisClient> => {
  const redis = createRedisClient({ url: new Secret('REDIS_URL', url), displayUrl: url, keyPrefix: '' }, { commandTimeoutMs: 500 });
  cleanups.push(() => redis.disconnect());
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
};

describe('rate limits shared through Redis', () => {
  it('four processes offering three times the quota admit at most the quota and at least 95% of it', async () => {
    const quota = 400;
    const prefix = `${uniqueName('gwacc')}:`;
    const startAt = Date.now() + 2500;
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => runWorker([redisUrl(), prefix, String(quota), String((quota * 3) / 4), String(startAt)])),
    );
    const { redis, close } = await testRedis();
    cleanups.push(close);
    await redis.del(...(await redis.keys(`${prefix}*`)));
    const admitted = runs.reduce((sum, run) => sum + run.admitted, 0);
    const spanMs = Math.max(...runs.map((run) => run.endedAt)) - Math.min(...runs.map((run) => run.startedAt));
    // A token bucket also refills while the test runs: quota / 60 s × the time it took.
    const refilled = Math.floor((quota * spanMs) / 60_000);
    expect(runs.every((run) => run.failed === 0)).toBe(true);
    expect(admitted).toBeLessThanOrEqual(quota + refilled);
    expect(admitted).toBeGreaterThanOrEqual(Math.ceil(quota * 0.95));
  }, 60_000);

  it('Redis cut mid-run: local buckets take over (limit ÷ replicas), counted and logged, nothing hangs; Redis is used again once back', async () => {
    const proxy = await redisProxy();
    cleanups.push(() => proxy.close());
    const { redis: direct, prefix, close } = await testRedis();
    cleanups.push(close);
    const metrics = new GroundworkMetrics();
    const pipeline = createResiliencePipeline(
      testConfig({ requestsPerMinute: 100, expectedReplicas: 4, rateLimitMaxWaitMs: 0, maxAttempts: 1 }),
      {
        logger,
        metrics,
        redis: await client(proxy.url),
        keyPrefix: prefix,
      },
    );
    cleanups.push(() => pipeline.close());
    const plan = { targets: [{ provider: 'openai', model: 'outage' } as const], estimatedTokens: 1 };
    await pipeline.execute(plan, answer(1));
    const requestsKey = `${prefix}rl:{openai:outage}:requests`;
    expect(Number(await direct.hget(requestsKey, 't'))).toBeCloseTo(99, 0);
    const updatedBefore = Number(await direct.hget(requestsKey, 'u'));

    await proxy.cut();
    const started = Date.now();
    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, () => pipeline.execute(plan, answer(1))));
    expect(Date.now() - started).toBeLessThan(3000);
    // The local share is 100 ÷ 4 = 25 requests a minute, and starts empty: the shared bucket may already be
    // spent, and every replica bursting at once would overrun the quota. Within 3 s it refills one or two.
    const elapsedMs = Date.now() - started;
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled').length).toBeLessThanOrEqual(Math.ceil((25 * elapsedMs) / 60_000));
    const failures = (await metrics.registry.getSingleMetric('groundwork_store_failures_total')?.get())?.values ?? [];
    expect(failures.find((value) => value.labels.component === 'rate_limit')?.value).toBeGreaterThanOrEqual(1);

    await proxy.restore();
    // Once the client has reconnected (and the store's 1 s back-off is over) the bucket in Redis is used again.
    let updatedAfter = updatedBefore;
    for (let tries = 0; tries < 40 && updatedAfter === updatedBefore; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await pipeline.execute(plan, answer(1)).catch(() => undefined);
      updatedAfter = Number(await direct.hget(requestsKey, 'u'));
    }
    expect(updatedAfter).toBeGreaterThan(updatedBefore);
  }, 30_000);

  it('Redis unreachable with onStoreFailure=refuse: calls are refused with a clear error at once', async () => {
    const proxy = await redisProxy();
    cleanups.push(() => proxy.close());
    const pipeline = createResiliencePipeline(testConfig({ onStoreFailure: 'refuse', maxAttempts: 1 }), {
      logger,
      redis: await client(proxy.url),
      keyPrefix: `${uniqueName('gwrefuse')}:`,
    });
    cleanups.push(() => pipeline.close());
    await proxy.cut();
    const started = Date.now();
    const error = await pipeline
      .execute({ targets: [{ provider: 'openai', model: 'refuse' }], estimatedTokens: 1 }, answer(1))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitStoreUnavailableError);
    expect((error as RateLimitStoreUnavailableError).retryAfterMs).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('circuits are shared: a circuit opened by one process is open for another', async () => {
    const { redis, prefix, close } = await testRedis();
    cleanups.push(close);
    const config = testConfig({ circuitFailureThreshold: 2, maxAttempts: 1 });
    const first = createResiliencePipeline(config, { logger, redis, keyPrefix: prefix });
    const second = createResiliencePipeline(config, { logger, redis, keyPrefix: prefix });
    const plan = { targets: [{ provider: 'openai', model: 'shared' } as const], estimatedTokens: 1 };
    const { ProviderServerError } = await import('../errors/provider-errors.js');
    const failing = async (): Promise<never> => {
      throw new ProviderServerError('down', { provider: 'openai', status: 503 });
    };
    await first.execute(plan, failing).catch(() => undefined);
    await first.execute(plan, failing).catch(() => undefined);
    await expect(second.execute(plan, answer(1))).rejects.toMatchObject({ code: 'circuit_open' });
    expect(await second.getState('openai', 'shared')).toMatchObject({ state: 'open', consecutiveFailures: 2 });
    await first.close();
    await second.close();
  });

  it("each process's circuit gauge follows the shared circuit, whichever process changed it", async () => {
    const { redis, prefix, close } = await testRedis();
    cleanups.push(close);
    const clock = new ManualClock();
    const rules = { failureThreshold: 2, resetMs: 30_000 };
    const target = { provider: 'openai', model: 'gauge' } as const;
    const key = 'openai:gauge';
    // Two processes: each its own breaker stage and metrics, one shared store.
    const metricsA = new GroundworkMetrics();
    const metricsB = new GroundworkMetrics();
    const a = new CircuitBreaker({ store: new RedisBreakerStore(redis, rules, prefix), clock, logger, metrics: metricsA, resetMs: 30_000 });
    const b = new CircuitBreaker({ store: new RedisBreakerStore(redis, rules, prefix), clock, logger, metrics: metricsB, resetMs: 30_000 });
    const gauge = async (metrics: GroundworkMetrics) => (await metrics.breakerState.get()).values[0]?.value;
    await b.settle(target, key, await b.acquire(target, key), 'success');
    expect(await gauge(metricsB)).toBe(0);
    for (let index = 0; index < 2; index++) await a.settle(target, key, await a.acquire(target, key), 'failure');
    expect(await gauge(metricsA)).toBe(2);
    // B is refused by the circuit A opened, and says so.
    await expect(b.acquire(target, key)).rejects.toMatchObject({ code: 'circuit_open' });
    expect(await gauge(metricsB)).toBe(2);
    clock.advance(30_000);
    const probe = await b.acquire(target, key); // B wins the test request…
    expect(probe.probe).toBe(true);
    await expect(a.acquire(target, key)).rejects.toMatchObject({ code: 'circuit_open' });
    expect(await gauge(metricsA)).toBe(1);
    await b.settle(target, key, probe, 'success'); // …and closes the shared circuit.
    expect(await gauge(metricsB)).toBe(0);
    // A's next call goes through the closed circuit: its gauge no longer says open.
    await a.settle(target, key, await a.acquire(target, key), 'success');
    expect(await gauge(metricsA)).toBe(0);
  });
});
