import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/node-process.js';
import { FakeProviderServer } from '../testing/fake-provider-server.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-lifetime-'));
let fake: FakeProviderServer;

beforeAll(async () => {
  fake = await new FakeProviderServer().start();
});
afterAll(async () => {
  await fake.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('a process whose only work is an LLM call', () => {
  it('stays alive through the retry backoff after a 500 and prints the answer', async () => {
    fake.reset();
    fake.enqueue({ type: 'error', status: 500 }, { type: 'answer', content: 'answered after a retry' });
    const result = await runCli(['prompt', 'hello'], {
      cwd: directory,
      env: {
        HOME: directory,
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-lifetime-test-000000000000',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        DATABASE_URL: `sqlite:${join(directory, 'app.db')}`,
        LLM_CACHE: 'off',
        LLM_RETRY_MIN_MS: '300',
        LLM_RETRY_MAX_MS: '300',
      },
    });
    expect({ code: result.code, stdout: result.stdout.trim(), stderr: result.stderr }).toMatchObject({
      code: 0,
      stdout: 'answered after a retry',
    });
    expect(fake.requests).toHaveLength(2);
  }, 30_000);
});
