import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl, uniqueName } from '../../../test/services.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/fake-provider-server.js';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';
import { type ServeSignals, serveCommand } from './serve.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-announce-'));
let fake: FakeProviderServer;
let env: Record<string, string>;

beforeAll(async () => {
  fake = await startFakeProviderServer();
  env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: `sqlite:${join(directory, 'app.db')}`,
    REDIS_URL: redisUrl(),
    REDIS_KEY_PREFIX: `${uniqueName('gw_announce')}:`,
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    GROUNDWORK_VIRTUAL_KEYS: 'true',
    // A minute: only the announcement can bring a change within seconds.
    TENANT_KEY_CACHE_TTL_MS: '60000',
    PORT: '0',
  };
});

afterAll(async () => {
  await fake?.close();
  rmSync(directory, { recursive: true, force: true });
});

async function run(...argv: string[]) {
  const io = recordingIo(env);
  const status = await main(argv, io);
  return { status, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

async function waitFor<T>(read: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('groundwork keys against a running serve', () => {
  it('revokes a key on every running service within seconds, though they cache keys for a minute', async () => {
    const created = await run('keys', 'create', 'announced', '--json');
    expect(created.status).toBe(0);
    const plain = JSON.parse(created.out).plainKey as string;
    let stop: (name: string) => void = () => undefined;
    const signals: ServeSignals = { stopped: new Promise((resolve) => (stop = resolve)), dispose: () => undefined };
    const serveIo = recordingIo(env);
    const exit = serveCommand(serveIo, signals);
    try {
      const url = await waitFor(() => serveIo.stderr.join('\n').match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1], 20_000);
      const call = () =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${plain}` },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
        });
      // The key is now cached as active for a minute.
      expect((await call()).status).toBe(200);
      const revoked = await run('keys', 'revoke', 'announced');
      expect(revoked.status).toBe(0);
      expect(revoked.err).not.toContain('Warning');
      const revokedAt = Date.now();
      const status = await waitFor(async () => {
        const answer = await call();
        return answer.status === 401 ? answer.status : undefined;
      }, 10_000);
      expect(status).toBe(401);
      expect(Date.now() - revokedAt).toBeLessThan(10_000);
    } finally {
      stop('SIGTERM');
      expect(await exit).toBe(0);
    }
  }, 30_000);

  it('warns, but keeps the change, when the announcement cannot be sent', async () => {
    await run('keys', 'create', 'unannounced');
    const saved = env.REDIS_URL as string;
    // Nothing listens on port 1: the change is saved, the announcement fails, and the tool says so.
    env.REDIS_URL = 'redis://127.0.0.1:1';
    try {
      const revoked = await run('keys', 'revoke', 'unannounced');
      expect(revoked.status).toBe(0);
      expect(revoked.err).toMatch(/announcing it over Redis failed; running services apply it within 60000 ms/);
    } finally {
      env.REDIS_URL = saved;
    }
    const shown = await run('keys', 'show', 'unannounced', '--json');
    expect(JSON.parse(shown.out)[0].revokedAt).not.toBeNull();
  }, 30_000);
});
