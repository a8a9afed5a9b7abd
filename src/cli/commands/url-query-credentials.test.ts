import { describe, expect, it } from 'vitest';
import { runCli } from '../../../test/node-process.js';

/* A password given as a query parameter of DATABASE_URL or REDIS_URL, rather than in the user part. */
const PASSWORD = 'hunter2secret';
const SSL_PASSWORD = 'ssl-key-passphrase-5d1c';
const REDIS_PASSWORD = 'redis-query-canary-8e2f';
const env = {
  DATABASE_URL: `postgres://app@127.0.0.1:1/app?password=${PASSWORD}&sslpassword=${SSL_PASSWORD}`,
  REDIS_URL: `redis://127.0.0.1:1?password=${REDIS_PASSWORD}`,
  DB_ACQUIRE_TIMEOUT_MS: '2000',
};

function expectClean(text: string): void {
  for (const canary of [PASSWORD, SSL_PASSWORD, REDIS_PASSWORD]) expect(text).not.toContain(canary);
}

describe('credentials in a connection URL’s query', () => {
  it('groundwork config masks them and keeps the rest of the URL', async () => {
    const result = await runCli(['config'], { env });
    expect(result.code).toBe(0);
    expectClean(result.stdout + result.stderr);
    expect(result.stdout).toContain('"displayUrl": "postgres://app@127.0.0.1:1/app?password=***&sslpassword=***"');
    expect(result.stdout).toContain('"displayUrl": "redis://127.0.0.1:1?password=***"');
  }, 60_000);

  it('groundwork migrate status shows neither in the database line nor in the connection error', async () => {
    const result = await runCli(['migrate', 'status'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Database: postgres://app@127.0.0.1:1/app?password=***&sslpassword=***');
    expect(result.stderr).toMatch(/✘/);
    expectClean(result.stdout + result.stderr);
  }, 60_000);
});
