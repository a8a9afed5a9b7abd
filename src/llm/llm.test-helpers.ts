import type { AppConfig } from '../config/app-config.js';
import { parseEnvironment } from '../config/parse-environment.js';
import type { LlmProviderName } from '../config/variables.js';
import { captureLogger } from '../observability/capture-logger.test-helpers.js';
import type { Logger } from '../observability/logger.js';
import type { FakeProviderServer } from '../testing/fake-provider-server.js';

/** A key that must never show up in an error or a log line. */
export const CANARY_KEY = 'sk-canary-7f3e9d2b1a0c4e5f8a6b';

/** A validated config from `env` (no `.env`, no process environment). */
export function testConfig(env: Record<string, string>): AppConfig {
  const parsed = parseEnvironment(
    { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'debug', ...env },
    { azureTokenProvider: false, isTty: false },
  );
  if (parsed.config === undefined) throw new Error(`test config invalid: ${JSON.stringify(parsed.errors)}`);
  return parsed.config;
}

/** The environment pointing `provider` at the fake server, keyed with {@link CANARY_KEY}. */
export function providerEnv(provider: LlmProviderName, fake: FakeProviderServer, key = CANARY_KEY): Record<string, string> {
  switch (provider) {
    case 'openai':
      return { LLM_PROVIDER: 'openai', OPENAI_API_KEY: key, OPENAI_BASE_URL: fake.openaiBaseUrl, OPENAI_MODEL: 'gpt-4o-mini' };
    case 'azure':
      return {
        LLM_PROVIDER: 'azure',
        AZURE_OPENAI_API_KEY: key,
        AZURE_OPENAI_ENDPOINT: fake.azureEndpoint,
        AZURE_OPENAI_DEPLOYMENT: 'prod-deploy',
      };
    case 'openai-compatible':
      return { LLM_PROVIDER: 'openai-compatible', OPENAI_API_KEY: key, OPENAI_BASE_URL: fake.openaiBaseUrl, OPENAI_MODEL: 'llama3.1' };
    case 'anthropic':
      return {
        LLM_PROVIDER: 'anthropic',
        ANTHROPIC_API_KEY: key,
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        ANTHROPIC_MODEL: 'claude-3-5-haiku-latest',
      };
    case 'gemini':
      return { LLM_PROVIDER: 'gemini', GEMINI_API_KEY: key, GEMINI_BASE_URL: fake.geminiBaseUrl, GEMINI_MODEL: 'gemini-2.5-flash' };
    case 'bedrock':
      return {
        LLM_PROVIDER: 'bedrock',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: key,
        AWS_SECRET_ACCESS_KEY: `${key}-secret`,
        BEDROCK_BASE_URL: fake.bedrockEndpoint,
        BEDROCK_MODEL: 'amazon.nova-lite-v1:0',
      };
  }
}

/** A logger whose every line is kept in `lines`, to assert on what was logged. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const { logger, lines } = captureLogger('trace');
  return { logger, lines };
}

/** Resolves with what `promise` rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
