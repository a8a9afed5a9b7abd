import { type ChildProcess, spawn } from 'node:child_process';
import { CLI_BIN, TSX_IMPORT } from './node-process.js';
import { freshPostgresDatabase, redisUrl, uniqueName } from './services.js';

/** Real `groundwork serve` processes sharing one PostgreSQL database and one Redis (a private prefix). */
export interface ServeFleet {
  /** Each process's origin, e.g. `http://127.0.0.1:40123`. */
  urls: string[];
  /** The environment every process runs with (the database, Redis, provider, prices). */
  env: Record<string, string>;
  /** Stops every process (SIGTERM: each flushes its ledger). */
  close(): Promise<void>;
  /** What the processes wrote on stderr (their logs, at `LOG_LEVEL`). */
  logs(): string;
}

/** Creates a fresh database on the test PostgreSQL server; answers its URL and how to drop it. */
export function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  return freshPostgresDatabase('gw_fleet');
}

function startOne(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; logs: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX_IMPORT, CLI_BIN, 'serve'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start within 180 s: ${stderr}`));
    }, 180_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      if (url !== undefined) {
        clearTimeout(timer);
        resolve({ child, url, logs: () => stderr });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${stderr}`));
    });
  });
}

/**
 * Starts `replicas` serve processes on a migrated database (`databaseUrl`), with virtual keys on,
 * against `providerBaseUrl` (an OpenAI-compatible fake). `env` adds or overrides variables.
 */
export async function startServeFleet(options: {
  replicas: number;
  databaseUrl: string;
  providerBaseUrl: string;
  env?: Record<string, string>;
}): Promise<ServeFleet> {
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    DATABASE_URL: options.databaseUrl,
    DB_MIGRATE_ON_START: 'false',
    REDIS_URL: redisUrl(),
    REDIS_KEY_PREFIX: `${uniqueName('gw_fleet')}:`,
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-fleet',
    OPENAI_BASE_URL: options.providerBaseUrl,
    LLM_MAX_CONCURRENT: '200',
    LLM_MAX_ATTEMPTS: '1',
    GROUNDWORK_VIRTUAL_KEYS: 'true',
    LLM_EXPECTED_REPLICAS: String(options.replicas),
    HOST: '127.0.0.1',
    PORT: '0',
    ...options.env,
  };
  const started = await Promise.allSettled(Array.from({ length: options.replicas }, () => startOne(env)));
  const children = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stop = async () => {
    await Promise.all(
      children.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  };
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  return { urls: children.map(({ url }) => url), env, close: stop, logs: () => children.map(({ logs }) => logs()).join('\n') };
}
