import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, TSX_IMPORT } from '../../test/node-process.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/fake-provider-server.js';

/*
 * A fleet of replicas, each its own process, shares one quota through a Redis of the test's own
 * (never the shared one), which the test kills mid-run. The fake provider counts what reached it.
 */

const WORKER = fileURLToPath(new URL('./fleet-outage.worker.ts', import.meta.url));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A `redis-server` of this test's own on a free port, with nothing saved to disk. The port is free
 * when probed but may be taken before the server binds it: then another free port is tried.
 */
async function privateRedis(): Promise<{ url: string; kill(): Promise<void> }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const started = await redisOn(port);
    if (started !== undefined) return started;
    if (attempt === 5) throw new Error(`redis-server did not start on any of ${attempt} free ports (the last: ${port})`);
  }
}

/** Starts `redis-server` on `port`; undefined if it did not get the port (it exited, or another server answers there). */
async function redisOn(port: number): Promise<{ url: string; kill(): Promise<void> } | undefined> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    await exited;
  };
  cleanups.push(kill);
  const url = `redis://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    if (server.exitCode !== null || server.signalCode !== null) return undefined;
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      // Whoever answers must be this server, not one that took the port first.
      const info = await probe.info('server');
      probe.disconnect();
      if (info.includes(`process_id:${server.pid}\r\n`)) return { url, kill };
      await kill();
      return undefined;
    } catch (error) {
      probe.disconnect();
      if (tries >= 100) throw new Error(`redis-server on port ${port} did not start: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

interface Replica {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<{ admittedAt: number[]; refusedAt: Record<string, number[]> }>;
}

function replica(env: Record<string, string>): Replica {
  const child = spawn(process.execPath, ['--import', TSX_IMPORT, WORKER], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.startsWith('ready\n')) onReady();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const result = new Promise<Replica['result'] extends Promise<infer R> ? R : never>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last));
      else reject(new Error(`replica exited ${code}: ${stderr}${stdout}`));
    });
  });
  // A replica that dies before it is ready fails the test instead of hanging it.
  return { child, ready: Promise.race([ready, result.then(() => undefined)]), result };
}

/** Runs `replicas` processes for `runMs`, kills Redis after `killAfterMs`, and returns what each admitted when. */
async function fleetRun(options: {
  replicas: number;
  quota: number;
  onStoreFailure: 'local' | 'refuse';
  killAfterMs: number;
  runMs: number;
}) {
  const redis = await privateRedis();
  const fake: FakeProviderServer = await startFakeProviderServer();
  cleanups.push(() => fake.close());
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: 'sqlite::memory:',
    LLM_LEDGER: 'off',
    LLM_CACHE: 'off',
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-fleet-0000000000000000',
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: 'fleet:',
    LLM_REQUESTS_PER_MINUTE: String(options.quota),
    LLM_EXPECTED_REPLICAS: String(options.replicas),
    LLM_RATE_LIMIT_ON_STORE_FAILURE: options.onStoreFailure,
    LLM_RATE_LIMIT_MAX_WAIT_MS: '0',
    LLM_MAX_ATTEMPTS: '1',
  };
  const spawnedAt = Date.now();
  const fleet = Array.from({ length: options.replicas }, () => replica(env));
  await Promise.all(fleet.map((member) => member.ready));
  const startedAt = Date.now();
  const endAt = startedAt + options.runMs;
  for (const member of fleet) member.child.stdin?.end(`go ${endAt}\n`);
  await new Promise((resolve) => setTimeout(resolve, options.killAfterMs));
  const killedAt = Date.now();
  await redis.kill();
  const results = await Promise.all(fleet.map((member) => member.result));
  const admitted = results.flatMap((result) => result.admittedAt);
  const refusedAt: Record<string, number[]> = {};
  for (const result of results)
    for (const [code, times] of Object.entries(result.refusedAt)) refusedAt[code] = [...(refusedAt[code] ?? []), ...times];
  const endedAt = Math.max(endAt, ...admitted);
  const outage = (times: readonly number[] | undefined): number => (times ?? []).filter((at) => at > killedAt).length;
  return {
    spawnedAt,
    killedAt,
    endedAt,
    /** Calls that reached the provider: each replica's first call (through Redis) and every call admitted after. */
    reachedProvider: fake.requests.filter((request) => request.wire !== 'models').length,
    /** Admitted after Redis was killed (a call Redis admitted just before may answer just after: one a replica). */
    admittedDuringOutage: outage(admitted),
    refusedDuringOutage: Object.fromEntries(Object.entries(refusedAt).map(([code, times]) => [code, outage(times)])),
    admitted,
  };
}

describe('a fleet of replicas sharing a quota through Redis, with Redis killed mid-run', () => {
  it('LLM_RATE_LIMIT_ON_STORE_FAILURE=local: the local shares (quota ÷ replicas, starting empty) keep the fleet within the quota', async () => {
    const replicas = 4;
    const quota = 120; // a minute: 2 a second for the fleet, one every 2 s for each replica's local share
    const run = await fleetRun({ replicas, quota, onStoreFailure: 'local', killAfterMs: 2000, runMs: 8000 });
    const outageMs = run.endedAt - run.killedAt;
    const outageQuota = (quota * outageMs) / 60_000;
    const wholeQuota = quota + (quota * (run.endedAt - run.spawnedAt)) / 60_000;
    console.info(
      `fleet of ${replicas} processes, quota ${quota}/min, Redis killed for ${outageMs} ms: ${run.admittedDuringOutage} admitted ` +
        `during the outage against a quota of ${outageQuota.toFixed(1)} for that time (refused then: ${JSON.stringify(run.refusedDuringOutage)}); ` +
        `${run.reachedProvider} reached the provider in all, against ${wholeQuota.toFixed(1)} (the burst plus the refill)`,
    );
    expect(run.reachedProvider).toBe(run.admitted.length + replicas);
    // The replicas offered more than their local shares through the outage: the shares are what held them.
    expect(run.refusedDuringOutage.rate_limit_exceeded ?? 0).toBeGreaterThan(0);
    // Within the quota through the outage; replicas whose local buckets started full would admit 4 × 30 at once.
    expect(run.admittedDuringOutage).toBeLessThanOrEqual(Math.floor(outageQuota) + replicas);
    // …and the local shares do admit, at about the fleet's rate: falling back is not refusing.
    expect(run.admittedDuringOutage).toBeGreaterThanOrEqual(Math.floor(outageQuota * 0.5));
    expect(run.reachedProvider).toBeLessThanOrEqual(Math.floor(wholeQuota) + replicas);
  }, 180_000);

  it('LLM_RATE_LIMIT_ON_STORE_FAILURE=refuse: nothing is admitted while Redis is down, and each refusal says why', async () => {
    const replicas = 2;
    const run = await fleetRun({ replicas, quota: 600, onStoreFailure: 'refuse', killAfterMs: 1500, runMs: 4500 });
    console.info(
      `fleet of ${replicas} processes, refuse: ${run.admittedDuringOutage} admitted during the outage; refused then: ${JSON.stringify(run.refusedDuringOutage)}`,
    );
    expect(run.reachedProvider).toBe(run.admitted.length + replicas);
    expect(run.admittedDuringOutage).toBeLessThanOrEqual(replicas);
    expect(run.refusedDuringOutage.rate_limit_store_unavailable ?? 0).toBeGreaterThan(0);
    expect(run.refusedDuringOutage.rate_limit_exceeded ?? 0).toBe(0);
  }, 180_000);
});
