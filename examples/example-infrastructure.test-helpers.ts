import { createInfrastructure, type Infrastructure, type InfrastructureOptions } from 'groundwork';
import { type FakeProviderServer, startFakeProviderServer } from 'groundwork/testing';

/**
 * Resilience settings small enough that outages resolve in milliseconds: one attempt, a breaker
 * that opens after two failures. The timeouts stay generous, because a first call on a busy test
 * machine can be slow; tests of hangs use {@link SHORT_TIMEOUTS}.
 */
export const FAST_RESILIENCE = {
  LLM_MAX_ATTEMPTS: '1',
  LLM_RETRY_MIN_MS: '1',
  LLM_RETRY_MAX_MS: '5',
  LLM_CIRCUIT_FAILURE_THRESHOLD: '2',
  LLM_CIRCUIT_RESET_MS: '60000',
  LLM_TIMEOUT_MS: '5000',
  LLM_DEADLINE_MS: '10000',
} as const;

/** A per-attempt timeout and a deadline short enough to test a provider that never answers. */
export const SHORT_TIMEOUTS = { LLM_TIMEOUT_MS: '200', LLM_DEADLINE_MS: '500' } as const;

/** A Groundwork instance pointed at a fake provider server, and both to close. */
export interface ExampleHarness<DB> {
  infra: Infrastructure<DB>;
  fake: FakeProviderServer;
  close(): Promise<void>;
}

/**
 * Starts a fake OpenAI server and a Groundwork instance that talks to it over HTTP, with an
 * in-memory SQLite database (unless `env` names another), no response cache and no `.env` file.
 * A variable given as `''` in `env` is left unset.
 */
export async function startExampleHarness<DB = Record<never, never>>(
  options: { env?: Record<string, string>; migrations?: InfrastructureOptions['migrations'] } = {},
): Promise<ExampleHarness<DB>> {
  const fake = await startFakeProviderServer();
  const env: Record<string, string> = {
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
  };
  const infra = await createInfrastructure<DB>({
    env: Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')),
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
