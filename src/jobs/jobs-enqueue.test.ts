import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInfrastructure } from '../create-infrastructure.js';
import type { Infrastructure } from '../infrastructure.js';
import { definePrompt } from '../llm/prompt.js';
import { silentLogger } from '../observability/logger.js';
import { JobInputError } from './job-errors.js';
import { type JobsDatabase, sqliteJobsTarget } from './jobs.test-helpers.js';

describe('enqueue refuses at once what a run could only fail on', () => {
  let database: JobsDatabase;
  let infra: Infrastructure;

  beforeEach(async () => {
    database = await sqliteJobsTarget.create();
    infra = await createInfrastructure({ env: { DATABASE_URL: database.url }, envFile: false, logger: silentLogger() });
    await infra.initDb();
  });

  afterEach(async () => {
    await infra.close();
    await database.drop();
  });

  const quiz = definePrompt({ name: 'enqueue-quiz', version: 1, template: 'A quiz on {{topic}} for {{level}}.' });

  it('refuses a prompt context missing a variable, as enqueueBatch does, and enqueues nothing', async () => {
    const error = await infra.jobs.enqueue(quiz, { topic: 'rivers' } as never, { priority: 0.5 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobInputError);
    expect((error as JobInputError).problems).toEqual([
      expect.stringMatching(/^context: .*level/),
      'priority must be a whole number from -1000000 to 1000000 (got 0.5)',
    ]);
    expect(await infra.jobs.list()).toEqual([]);
    expect(await infra.jobs.enqueue(quiz, { topic: 'rivers', level: 'beginners' })).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a tenant on a custom kind, whose handler makes its own calls', async () => {
    const error = await infra.jobs.enqueue('send-mail', {}, { tenant: 'customer-1' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobInputError);
    expect((error as JobInputError).problems).toEqual([
      'tenant applies to prompt jobs; a custom kind makes its own calls: pass the tenant in its payload, and to executePrompt in the handler',
    ]);
    expect(await infra.jobs.list()).toEqual([]);
  });
});
