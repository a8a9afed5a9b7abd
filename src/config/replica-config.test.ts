import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/config-error.js';
import { loadConfig, validateEnvironment } from './load-config.js';

const CANARY = 'replica-pw-canary-7731';
const PRIMARY = 'postgres://app@db.internal:5432/app?sslmode=require';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ env, envFile: false });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('DATABASE_REPLICA_URLS', () => {
  it('takes comma-separated PostgreSQL URLs, labelled without credentials, with the lag settings', () => {
    const config = loadConfig({
      env: {
        DATABASE_URL: PRIMARY,
        DATABASE_REPLICA_URLS: ` postgres://app:${CANARY}@r1.internal:5433/app?sslmode=require , postgresql://app:${CANARY}@r1.internal:5433/app?sslmode=require,postgres://r2.internal/app`,
        DB_REPLICA_MAX_LAG_MS: '2500',
        DB_REPLICA_CHECK_INTERVAL_MS: '500',
      },
      envFile: false,
    });
    const replicas = config.database.replicas;
    expect(replicas?.labels).toEqual(['r1.internal:5433/app', 'r1.internal:5433/app#2', 'r2.internal:5432/app']);
    expect(replicas?.maxLagMs).toBe(2500);
    expect(replicas?.checkIntervalMs).toBe(500);
    expect(replicas?.urls?.reveal().split(',')).toHaveLength(3);
    expect(JSON.stringify(config)).not.toContain(CANARY);
    expect(inspect(config, { depth: 10 })).not.toContain(CANARY);
  });

  it('defaults to no replicas, a 10 s lag bound and a 2 s check interval', () => {
    const replicas = loadConfig({ env: { DATABASE_URL: PRIMARY }, envFile: false }).database.replicas;
    expect(replicas?.urls).toBeUndefined();
    expect(replicas?.labels).toEqual([]);
    expect(replicas?.maxLagMs).toBe(10_000);
    expect(replicas?.checkIntervalMs).toBe(2000);
  });

  it('reads the list from DATABASE_REPLICA_URLS_FILE, as a secret', () => {
    const directory = mkdtempSync(join(tmpdir(), 'groundwork-replicas-'));
    try {
      const file = join(directory, 'replicas');
      writeFileSync(file, `postgres://app:${CANARY}@r1.internal:5432/app\n`);
      const config = loadConfig({ env: { DATABASE_URL: PRIMARY, DATABASE_REPLICA_URLS_FILE: file }, envFile: false });
      expect(config.database.replicas?.labels).toEqual(['r1.internal:5432/app']);
      expect(config.database.replicas?.urls?.reveal()).toContain(CANARY);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('refuses replicas beside an embedded database, and bad entries, all at once and without echoing them', () => {
    const error = configError({
      DATABASE_URL: 'sqlite::memory:',
      DATABASE_REPLICA_URLS: `postgres://app:${CANARY}@r1.internal/app,mysql://app:${CANARY}@r2.internal/app`,
      DB_REPLICA_MAX_LAG_MS: '0',
    });
    const messages = error.issues.map((issue) => `${issue.variable}: ${issue.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DATABASE_REPLICA_URLS: is set but DATABASE_URL is sqlite; read replicas need a PostgreSQL DATABASE_URL/),
        'DATABASE_REPLICA_URLS: entry 2 must be a postgres:// or postgresql:// URL',
        expect.stringMatching(/^DB_REPLICA_MAX_LAG_MS: must be between 1 and/),
      ]),
    );
    expect(error.message).not.toContain(CANARY);
    const status = validateEnvironment({
      env: { DATABASE_URL: 'pglite:memory', DATABASE_REPLICA_URLS: 'postgres://r1/app' },
      envFile: false,
    });
    expect(status.isValid).toBe(false);
    expect(status.errors.map((issue) => issue.variable)).toEqual(['DATABASE_REPLICA_URLS']);
  });
});
