import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl } from '../test/services.js';
import { main } from './cli/main.js';
import { recordingIo } from './cli/test-io.test-helpers.js';
import { ConfigSource } from './config/load-config.js';
import { createInfrastructure } from './create-infrastructure.js';
import { createLogger } from './observability/logger.js';
import { FakeProviderServer } from './testing/fake-provider-server.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await new FakeProviderServer().start();
});
afterAll(async () => {
  await fake.close();
});

describe('the failed-call log line and the final error', () => {
  it('show the token counts and the attempts made, and do not promise a retry that will not come', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger(
      { level: 'debug', format: 'json' },
      { destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } },
    );
    const infra = await createInfrastructure({
      env: {
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-messages-test-0000000000',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        DATABASE_URL: 'sqlite::memory:',
        LLM_CACHE: 'off',
        LLM_MAX_ATTEMPTS: '3',
        LLM_RETRY_MIN_MS: '1',
        LLM_RETRY_MAX_MS: '2',
      },
      logger,
    });
    try {
      fake.reset();
      fake.enqueue({ type: 'answer', usage: { promptTokens: 12, completionTokens: 3 } });
      await infra.llm.complete({ messages: [{ role: 'user', content: 'hi' }] });
      fake.enqueue({ type: 'error', status: 500 }, { type: 'error', status: 500 }, { type: 'error', status: 500 });
      const error = (await infra.llm
        .complete({ messages: [{ role: 'user', content: 'hi' }] })
        .catch((failure: unknown) => failure)) as Error;
      expect(error.message).not.toMatch(/will be retried/);
      expect(error.message).toContain('gave up after 3 attempts');
    } finally {
      await infra.close();
    }
    const calls = lines.filter((line) => typeof line.msg === 'string' && (line.msg as string).startsWith('llm call'));
    expect(calls[0]).toMatchObject({ promptTokens: 12, completionTokens: 3, attempts: 1 });
    expect(calls[1]).toMatchObject({ outcome: 'provider_server_error', attempts: 3 });
  });
});

describe('configuration messages', () => {
  it('an unknown LLM_PROVIDER is one error, not also a missing OpenAI key', () => {
    const status = new ConfigSource({ env: { LLM_PROVIDER: 'foo', DATABASE_URL: 'sqlite::memory:' } }).validate();
    expect(status.errors.map((error) => error.variable)).toEqual(['LLM_PROVIDER']);
  });

  it('the doctor counts five bad variables as five failures', async () => {
    const io = recordingIo({
      DATABASE_URL: 'sqlite::memory:',
      DB_POOL_SIZE: 'a',
      DB_MAX_OVERFLOW: 'b',
      PORT: 'c',
      LLM_TIMEOUT_MS: 'd',
      LLM_DEADLINE_MS: 'e',
    });
    expect(await main(['doctor'], io)).toBe(1);
    expect(io.stdout.join('\n')).toMatch(/^FAILED: 5 failed/m);
  });

  it('a database URL without a password is shown, not hidden as a secret', async () => {
    const url = new URL(postgresUrl());
    url.password = '';
    const io = recordingIo({ DATABASE_URL: url.toString() });
    expect(await main(['migrate', 'status'], io)).toBe(0);
    expect(io.stderr[0]).toBe(`Database: ${url.toString()}`);
  });
});
