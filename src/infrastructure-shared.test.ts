import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { redisUrl, uniqueName } from '../test/services.js';
import { createInfrastructure } from './create-infrastructure.js';
import { definePrompt } from './llm/prompt.js';
import { captureLogger } from './observability/capture-logger.test-helpers.js';
import { type FakeProviderServer, startFakeProviderServer } from './testing/index.js';

let fake: FakeProviderServer;
const directory = mkdtempSync(join(tmpdir(), 'groundwork-shared-'));
beforeAll(async () => {
  fake = await startFakeProviderServer({ keepAuthHeaders: true });
});
afterAll(async () => {
  await fake.close();
  rmSync(directory, { recursive: true, force: true });
});

const quiz = definePrompt({
  name: 'shared-quiz',
  version: 1,
  template: 'One question about {{topic}}.',
  schema: z.object({ question: z.string() }),
  temperature: 0,
});

describe('secret rotation', () => {
  it('sends the new key on the next call after reloadSecrets(), and never logs either', async () => {
    const keyFile = join(directory, 'openai-key');
    writeFileSync(keyFile, 'sk-rotation-first-000000000000\n');
    const captured = captureLogger('debug');
    const infra = await createInfrastructure({
      env: {
        DATABASE_URL: 'sqlite::memory:',
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY_FILE: keyFile,
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        LLM_CACHE: 'off',
      },
      envFile: false,
      logger: captured.logger,
    });
    fake.reset();
    fake.setHandler(() => ({ type: 'answer', json: { question: 'Why is the sky blue?' } }));
    await infra.executePrompt(quiz, { topic: 'light' });
    writeFileSync(keyFile, 'sk-rotation-second-11111111111\n');
    expect(infra.reloadSecrets()).toEqual(['OPENAI_API_KEY']);
    await infra.executePrompt(quiz, { topic: 'light' });
    expect(fake.requests.map((request) => request.headers.authorization)).toEqual([
      'Bearer sk-rotation-first-000000000000',
      'Bearer sk-rotation-second-11111111111',
    ]);
    await infra.close();
    fake.setHandler(undefined);
    expect(captured.text()).not.toContain('sk-rotation-');
  });
});

describe('single flight through the facade', () => {
  const env = (extra: Record<string, string>) => ({
    DATABASE_URL: 'sqlite::memory:',
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-single-flight-00000000000',
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    LLM_MAX_CONCURRENT: '200',
    ...extra,
  });

  it('answers 100 concurrent identical calls with one provider request', async () => {
    const infra = await createInfrastructure({ env: env({}), envFile: false, logger: captureLogger('info').logger });
    fake.reset();
    fake.enqueue({ type: 'answer', json: { question: 'What is 2 + 2?' }, delayMs: 50 });
    const answers = await Promise.all(Array.from({ length: 100 }, () => infra.executePrompt(quiz, { topic: 'arithmetic' })));
    expect(fake.requests).toHaveLength(1);
    expect(new Set(answers.map((answer) => answer.data.question))).toEqual(new Set(['What is 2 + 2?']));
    expect(answers.filter((answer) => !answer.metadata.cached)).toHaveLength(1);
    await infra.close();
  });

  it('answers identical calls from two instances sharing Redis with one provider request', async () => {
    const shared = env({ LLM_CACHE: 'redis', REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: `${uniqueName('gw')}:` });
    const first = await createInfrastructure({ env: shared, envFile: false, logger: captureLogger('info').logger });
    const second = await createInfrastructure({ env: shared, envFile: false, logger: captureLogger('info').logger });
    fake.reset();
    fake.enqueue({ type: 'answer', json: { question: 'Name a noble gas.' }, delayMs: 100 });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, index) => (index % 2 === 0 ? first : second).executePrompt(quiz, { topic: 'chemistry' })),
    );
    expect(fake.requests).toHaveLength(1);
    expect(new Set(answers.map((answer) => answer.data.question))).toEqual(new Set(['Name a noble gas.']));
    expect((await second.health()).dependencies.find((dependency) => dependency.name === 'redis')?.status).toBe('ok');
    await Promise.all([first.close(), second.close()]);
  });
});

describe('Redis unreachable from the start', () => {
  it('still answers through local limits and the provider, reports Redis down as degraded, and closes', async () => {
    const captured = captureLogger('info');
    const started = performance.now();
    const infra = await createInfrastructure({
      env: {
        DATABASE_URL: 'sqlite::memory:',
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-no-redis-0000000000000',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        LLM_CACHE: 'redis',
        REDIS_URL: 'redis://:not-a-real-password@127.0.0.1:1',
      },
      envFile: false,
      logger: captured.logger,
    });
    expect(performance.now() - started).toBeLessThan(5000);
    fake.reset();
    fake.enqueue({ type: 'answer', json: { question: 'Still here?' } });
    const answer = await infra.executePrompt(quiz, { topic: 'outages' });
    expect(answer.data.question).toBe('Still here?');
    expect(fake.requests).toHaveLength(1);

    const health = await infra.health();
    expect(health.status).toBe('degraded');
    expect(health.dependencies.find((dependency) => dependency.name === 'redis')).toMatchObject({ status: 'down', required: false });
    const metrics = await infra.metrics.registry.metrics();
    expect(metrics).toMatch(/^groundwork_store_failures_total\{component="cache"\} [1-9]/m);
    expect(metrics).toMatch(/^groundwork_store_failures_total\{component="rate_limit"\} [1-9]/m);
    await infra.close();
    expect(captured.text()).toContain('redis: not reachable yet');
    expect(captured.text()).not.toContain('not-a-real-password');
    expect(JSON.stringify(health)).not.toContain('not-a-real-password');
  });
});
