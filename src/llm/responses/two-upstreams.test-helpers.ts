import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { silentLogger } from '../../observability/logger.js';
import type { FakeProviderServer } from '../../testing/fake-provider-server.js';
import type { ManualClock } from '../../testing/manual-clock.js';

/** The key the Azure OpenAI fake of {@link openTwoUpstreams} takes, and only it. */
export const AZURE_KEY = 'azure-fallback-key';

/**
 * An infrastructure in front of two upstreams that each keep their own responses: OpenAI on
 * `primary` as the primary provider, Azure OpenAI on `fallback` (taking only {@link AZURE_KEY}) as
 * a fallback with the Responses API; `env` overrides, `clock` drives its timers.
 */
export function openTwoUpstreams(
  primary: FakeProviderServer,
  fallback: FakeProviderServer,
  env: Record<string, string> = {},
  clock?: ManualClock,
): Promise<Infrastructure> {
  return createInfrastructure({
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: 'sqlite::memory:',
      LLM_MAX_ATTEMPTS: '1',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-key',
      OPENAI_BASE_URL: primary.openaiBaseUrl,
      LLM_FALLBACKS: 'azure:fallback-deploy',
      AZURE_OPENAI_ENDPOINT: fallback.azureEndpoint,
      AZURE_OPENAI_API_KEY: AZURE_KEY,
      AZURE_OPENAI_DEPLOYMENT: 'fallback-deploy',
      ...env,
    },
    envFile: false,
    logger: silentLogger(),
    ...(clock === undefined ? {} : { clock }),
  });
}
