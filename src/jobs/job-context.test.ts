import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import { definePrompt } from '../llm/prompt.js';
import { silentLogger } from '../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/index.js';
import { FULL_JOBS_TARGETS, type JobsDatabase } from './jobs.test-helpers.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const quiz = definePrompt({ name: 'context-quiz', version: 1, template: 'Write a quiz about {{topic}}.' });

describe.each(FULL_JOBS_TARGETS)("a handler's context.executePrompt on $name", (target) => {
  let database: JobsDatabase;
  let infra: Infrastructure;

  beforeEach(async () => {
    database = await target.create();
    infra = await createInfrastructure({
      env: {
        DATABASE_URL: database.url,
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-test-context',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        OPENAI_MODEL: 'gpt-4o-mini',
        LLM_MAX_ATTEMPTS: '1',
        LLM_CACHE: 'off',
        JOBS_POLL_INTERVAL_MS: '50',
        JOBS_SCHEMA: 'jobs_context',
      },
      envFile: false,
      logger: silentLogger(),
    });
    await infra.initDb();
  });

  afterEach(async () => {
    await infra.close();
    await database.drop();
  });

  it('runs a prompt called without options, as the README shows, and writes its ledger row with the job', async () => {
    fake.enqueue({ type: 'answer', content: 'Q1: what is ownership?', usage: { promptTokens: 9, completionTokens: 6 } });
    infra.jobs.define('publish-course', async (payload: { id: string }, { executePrompt }) => {
      const { content } = await executePrompt(quiz, { topic: payload.id });
      return { content };
    });
    const id = await infra.jobs.enqueue('publish-course', { id: 'c1' }, { retries: { limit: 0 } });
    const worker = infra.jobs.work({ concurrency: 1 });
    const result = await infra.jobs.wait<{ content: string }>(id);
    await worker.stop();
    expect(result).toEqual({ content: 'Q1: what is ownership?' });
    expect(fake.requests.at(-1)?.body).toMatchObject({ messages: [{ role: 'user', content: 'Write a quiz about c1.' }] });
    const rows = await infra.db.selectFrom('llm_usage').select(['job_id', 'outcome', 'total_tokens']).execute();
    expect(rows).toEqual([{ job_id: id, outcome: 'success', total_tokens: 15 }]);
  });

  it("passes the handler's own options on, its signal linked to the job's", async () => {
    fake.enqueue({ type: 'hang' });
    const own = new AbortController();
    infra.jobs.define('cut-short', async (_payload: unknown, { executePrompt }) => {
      const call = executePrompt(quiz, { topic: 'rust' }, { signal: own.signal, maxTokens: 7 });
      await fake.waitForRequests(1);
      own.abort(new Error('the handler gave up on the call'));
      return call;
    });
    const id = await infra.jobs.enqueue('cut-short', null, { retries: { limit: 0 } });
    const worker = infra.jobs.work({ concurrency: 1 });
    await expect(infra.jobs.wait(id)).rejects.toThrow(/the handler gave up on the call/);
    await worker.stop();
    expect(fake.requests[0]?.body).toMatchObject({ max_completion_tokens: 7 });
  });
});
