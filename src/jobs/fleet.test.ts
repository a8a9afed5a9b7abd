import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TSX_IMPORT } from '../../test/node-process.js';
import { createInfrastructure } from '../create-infrastructure.js';
import { silentLogger } from '../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/index.js';
import { fleetPrompt } from './fleet-worker.test-helpers.js';
import { postgresJobsTarget, sqliteJobsTarget } from './jobs.test-helpers.js';

const WORKER = fileURLToPath(new URL('./fleet-worker.test-helpers.ts', import.meta.url));
const JOBS = 1000;
const CONCURRENCY = 8;

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
afterEach(() => fake.reset());

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', TSX_IMPORT, WORKER], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready: ${stderr}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/*
 * The fleet: three worker processes share one queue of 1,000 prompt jobs against the fake
 * provider; one is SIGKILLed mid-run. Every job must complete exactly once in the ledger (one
 * successful row per job), none may be lost, and the killed worker's jobs must be taken over
 * once their lease passes.
 */
describe.each([postgresJobsTarget, sqliteJobsTarget])('a fleet of workers on $name', (target) => {
  it('completes every job exactly once in the ledger when a worker is killed mid-run', { timeout: 240_000 }, async () => {
    const database = await target.create();
    const env = {
      DATABASE_URL: database.url,
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-test-fleet',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_CACHE: 'off',
      LLM_MAX_ATTEMPTS: '1',
      JOBS_POLL_INTERVAL_MS: '100',
      JOBS_TIMEOUT_MS: '2000',
      JOBS_RETRY_LIMIT: '5',
      LOG_LEVEL: 'silent',
      FLEET_CONCURRENCY: String(CONCURRENCY),
    };
    const infra = await createInfrastructure({ env, envFile: false, logger: silentLogger() });
    const workers: ChildProcess[] = [];
    try {
      await infra.initDb();
      const ids = await infra.withSession(async () => {
        const enqueued: string[] = [];
        for (let n = 0; n < JOBS; n++)
          enqueued.push(await infra.jobs.enqueue(fleetPrompt, { n: String(n) }, { idempotencyKey: `job-${n}` }));
        return enqueued;
      });
      expect(new Set(ids).size).toBe(JOBS);
      workers.push(...(await Promise.all([startWorker(env), startWorker(env), startWorker(env)])));
      const completed = async () => (await infra.jobs.status()).counts.completed;
      await expect.poll(completed, { timeout: 120_000, interval: 50 }).toBeGreaterThanOrEqual(JOBS / 5);
      // Hold every answer until all three workers are full (a worker holds at most CONCURRENCY
      // jobs, so 3 × CONCURRENCY active jobs means the victim holds CONCURRENCY of them), then kill
      // it: it surely dies holding jobs, not between two polls. The hold stays well inside the lease.
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      fake.setHandler(async () => {
        await held;
        return { type: 'answer' };
      });
      const active = async () => (await infra.jobs.status()).counts.active;
      try {
        await expect.poll(active, { timeout: 10_000, interval: 20 }).toBe(3 * CONCURRENCY);
        const victim = workers[0] as ChildProcess;
        victim.kill('SIGKILL');
        await exited(victim);
      } finally {
        fake.setHandler(undefined);
        release();
      }
      await expect.poll(completed, { timeout: 180_000, interval: 250 }).toBe(JOBS);

      const status = await infra.jobs.status();
      expect(status.counts).toMatchObject({ completed: JOBS, failed: 0, active: 0, created: 0, retry: 0 });
      const rows = await infra.db
        .selectFrom('llm_usage')
        .select(['job_id', (eb) => eb.fn.countAll<number | string>().as('count')])
        .where('outcome', '=', 'success')
        .groupBy('job_id')
        .execute();
      expect(rows).toHaveLength(JOBS);
      expect(rows.every((row) => Number(row.count) === 1)).toBe(true);
      expect(new Set(rows.map((row) => row.job_id))).toEqual(new Set(ids));
      // The killed worker held jobs: they ran again elsewhere once their lease passed.
      const retaken = (await infra.jobs.list({ state: 'completed', limit: JOBS })).filter((job) => job.attempts > 1);
      expect(retaken.length).toBeGreaterThan(0);
      expect(fake.requests.length).toBeGreaterThanOrEqual(JOBS);

      for (const worker of workers.slice(1)) worker.kill('SIGTERM');
      expect(await Promise.all(workers.slice(1).map(exited))).toEqual([0, 0]);
    } finally {
      for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
      await infra.close();
      await database.drop();
    }
  });
});
