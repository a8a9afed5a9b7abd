import type { AppConfig } from '../config/app-config.js';
import type { LlmProviderName } from '../config/variables.js';
import { type Clock, systemClock } from '../internal/clock.js';
import type { HealthCheck } from '../observability/health.js';
import { scrubSecrets } from '../observability/redact.js';
import type { LlmClient } from './llm-client-types.js';

/** Reads one circuit's state (the resilience pipeline provides it). */
export type BreakerStateReader = (provider: string, model: string) => Promise<{ state: string; retryAt: number | undefined }>;

/**
 * One optional check per configured provider (the primary and each fallback), named
 * `llm:<provider>`: `degraded` while the circuit of any of its configured models (the primary's,
 * the fallbacks') is open or half-open; with `deep`, a cheap request (the models endpoint) proves
 * the credentials and the network. An unconfigured LLM is reported as such, with what to set.
 */
export function llmHealthChecks(
  config: AppConfig,
  client: LlmClient,
  breakerState: BreakerStateReader | undefined,
  clock: Clock = systemClock,
): HealthCheck[] {
  if (!config.llm.configured) return [unconfiguredLlmCheck()];
  const targets = new Map<LlmProviderName, string[]>([[config.llm.provider, [config.llm.model]]]);
  for (const fallback of config.resilience.fallbacks) {
    const models = targets.get(fallback.provider);
    if (models === undefined) targets.set(fallback.provider, [fallback.model]);
    else if (!models.includes(fallback.model)) models.push(fallback.model);
  }
  return [...targets].map(([provider, models]) => {
    const model = models[0] as string;
    return {
      name: `llm:${provider}`,
      required: false,
      async check(signal, options) {
        const circuits = breakerState === undefined ? [] : await Promise.all(models.map((each) => breakerState(provider, each)));
        // The first model whose circuit is not closed, if any: a fallback's open circuit degrades the provider too.
        const index = circuits.findIndex((circuit) => circuit.state !== 'closed');
        const circuit = index === -1 ? undefined : circuits[index];
        const info: Record<string, unknown> = { model, breaker: circuit?.state ?? 'closed' };
        if (models.length > 1) info['breakers'] = Object.fromEntries(models.map((each, at) => [each, circuits[at]?.state ?? 'closed']));
        if (circuit !== undefined) {
          const retryIn =
            circuit.retryAt === undefined
              ? ''
              : `; next test request in ${Math.max(0, Math.ceil((circuit.retryAt - clock.now()) / 1000))} s`;
          return {
            status: 'degraded',
            info,
            detail: `${models[index]}: circuit ${circuit.state.replace('_', '-')} after repeated provider failures${retryIn}`,
          };
        }
        if (options.deep !== true) return { status: 'ok', info, detail: model };
        try {
          const { latencyMs } = await client.ping(provider, signal);
          return { status: 'ok', info, latencyMs, detail: `${model} answers` };
        } catch (error) {
          return {
            status: 'down',
            info: { ...info, fix: 'check the API key, base URL and network' },
            detail: `${model}: ${scrubSecrets((error as Error).message)}`,
          };
        }
      },
    };
  });
}

/** The one `llm` check of a configuration whose primary provider lacks its settings: says so, and what to set. */
export function unconfiguredLlmCheck(): HealthCheck {
  return {
    name: 'llm',
    required: false,
    check: async () => ({
      status: 'ok',
      detail: 'not configured',
      info: { configured: false, fix: 'set OPENAI_API_KEY (or LLM_PROVIDER with its key) to enable LLM calls' },
    }),
  };
}
