import { createInfrastructure, type Infrastructure, type InfrastructureOptions } from 'groundwork';
import { type FakeProviderServer, startFakeProviderServer } from 'groundwork/testing';

/** Resilience settings small enough that outages resolve in milliseconds. */
export const FAST_RESILIENCE = {
  LLM_MAX_ATTEMPTS: '1',
  LLM_RETRY_MIN_MS: '1',
  LLM_RETRY_MAX_MS: '5',
  LLM_CIRCUIT_FAILURE_THRESHOLD: '2',
  LLM_CIRCUIT_RESET_MS: '60000',
  LLM_TIMEOUT_MS: '200',
  LLM_DEADLINE_MS: '500',
} as const;

/** A Groundwork instance pointed at a fake provider server, and both to close. */
export interface ExampleHarness<DB> {
  infra: Infrastructure<DB>;
  fake: FakeProviderServer;
  close(): Promise<void>;
}

/**
 * Starts a fake OpenAI server and a Groundwork instance that talks to it over HTTP, with an
 * in-memory SQLite database (unless `env` names another), no response cache and no `.env` file.
 */
export async function startExampleHarness<DB = Record<never, never>>(
  options: { env?: Record<string, string>; migrations?: InfrastructureOptions['migrations'] } = {},
): Promise<ExampleHarness<DB>> {
  const fake = await startFakeProviderServer();
  const infra = await createInfrastructure<DB>({
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'test-key',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_CACHE: 'off',
      LLM_LEDGER: 'false',
      ...FAST_RESILIENCE,
      ...options.env,
    },
    envFile: false,
    ...(options.migrations === undefined ? {} : { migrations: options.migrations }),
  });
  return {
    infra,
    fake,
    async close() {
      await infra.close();
      await fake.close();
    },
  };
}
