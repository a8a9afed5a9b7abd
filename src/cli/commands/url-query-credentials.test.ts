import { describe, expect, it } from 'vitest';
import { runCli } from '../../../test/node-process.js';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

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

describe('credentials in a provider base URL’s query', () => {
  it('groundwork config masks an API key passed as key=, sig= or subscription-key=, as proxies and gateways take them', async () => {
    const GOOGLE_KEY = 'AIzaSy-query-canary-41c7';
    const SAS_SIGNATURE = 'sas-signature-canary-93ab';
    const GATEWAY_KEY = 'gateway-subscription-canary-6d0e';
    const io = recordingIo({
      GEMINI_BASE_URL: `https://gateway.example/gemini?key=${GOOGLE_KEY}`,
      OPENAI_BASE_URL: `https://proxy.example/v1?sig=${SAS_SIGNATURE}&subscription-key=${GATEWAY_KEY}`,
    });
    expect(await main(['config'], io)).toBe(0);
    const printed = [...io.stdout, ...io.stderr].join('\n');
    for (const canary of [GOOGLE_KEY, SAS_SIGNATURE, GATEWAY_KEY]) expect(printed).not.toContain(canary);
    expect(printed).toContain('"baseUrl": "https://gateway.example/gemini?key=***"');
    expect(printed).toContain('"baseUrl": "https://proxy.example/v1?sig=***&subscription-key=***"');
  });
});
