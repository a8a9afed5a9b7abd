import { z } from 'zod';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { definePrompt } from '../../llm/prompt.js';
import { silentLogger } from '../../observability/logger.js';
import type { FakeHandler } from '../../testing/fake-behaviour.js';
import type { FakeProviderServer } from '../../testing/index.js';
import { FULL_JOBS_TARGETS, type JobsTarget, sqliteJobsTarget } from '../jobs.test-helpers.js';

/** The prompt the batch tests send, named for each file so that their rows stay apart. */
export function translatePrompt(name: string) {
  return definePrompt({ name, version: 1, template: 'Translate {{word}}.', schema: z.object({ word: z.string() }) });
}

/** Answers each line with the word of its request, upper-cased, so every item's answer is its own (100 + 10 tokens). */
export const echoWord: FakeHandler = (request) => {
  const word = /Translate (\w+)\./.exec(JSON.stringify(request.body))?.[1] ?? 'none';
  return { type: 'answer', json: { word: word.toUpperCase() }, usage: { promptTokens: 100, completionTokens: 10 } };
};

/** Waits until `check` holds, polling every 10 ms for at most 15 s (batches are polled on a real interval). */
export async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A database for the jobs and where the tenants' budgets live. */
export interface BudgetSetup {
  name: string;
  target: JobsTarget;
  /** Budgets in Redis rather than the database. */
  redis: boolean;
}

/** Every full jobs database with budgets in it, and SQLite with budgets in Redis. */
export const BUDGET_SETUPS: BudgetSetup[] = [
  ...FULL_JOBS_TARGETS.map((target) => ({ name: `${target.name}, budgets in the database`, target, redis: false })),
  { name: 'SQLite, budgets in Redis', target: sqliteJobsTarget, redis: true },
];

/** A key's total budget as the batches' budget store holds it: spent and reserved, in USD. */
export async function keyTotal(infra: Infrastructure, keyId: string): Promise<{ spentUsd: number; reservedUsd: number }> {
  const [state] = await infra.tenants.batches.read([`key:${keyId}:total`]);
  return { spentUsd: (state?.spentNano ?? 0) / 1e9, reservedUsd: (state?.reservedNano ?? 0) / 1e9 };
}

/**
 * An instance on the fake's OpenAI API and `databaseUrl`, cache off, its tables made: how the
 * batch tests that need nothing else open one (`env` added last).
 */
export async function openBatchInfrastructure(
  fake: FakeProviderServer,
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<Infrastructure> {
  const infra = await createInfrastructure({
    env: {
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-batch-test',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
      DATABASE_URL: databaseUrl,
      LLM_CACHE: 'off',
      ...env,
    },
    envFile: false,
    logger: silentLogger(),
  });
  await infra.initDb();
  return infra;
}
