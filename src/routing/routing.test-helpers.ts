import type { ResilienceConfig } from '../config/app-config.js';
import type { LlmProviderName } from '../config/variables.js';
import type { Clock } from '../internal/clock.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { logger, testConfig } from '../resilience/resilience.test-helpers.js';
import { createRouter } from './create-router.js';
import type { Router } from './router.js';
import type { DeploymentConfig, ModelGroupConfig, RoutesConfig, RoutingStrategyName } from './routes-config.js';

/** A deployment for unit tests: an OpenAI one, unlimited, weight 1, unless overridden. */
export function deployment(group: string, name: string, overrides: Partial<DeploymentConfig> = {}): DeploymentConfig {
  return {
    name,
    group,
    provider: 'openai' as LlmProviderName,
    model: `model-${name}`,
    apiKey: undefined,
    baseUrl: undefined,
    endpoint: undefined,
    apiVersion: undefined,
    region: undefined,
    accessKeyId: undefined,
    secretAccessKey: undefined,
    rpm: undefined,
    tpm: undefined,
    maxConcurrent: undefined,
    weight: 1,
    ...overrides,
  };
}

/** Routes of the given groups: `{ name: [deployments], … }`. */
export function routesOf(
  groups: Record<string, { deployments: DeploymentConfig[]; strategy?: RoutingStrategyName; fallbacks?: string[] }>,
  windowMs = 60_000,
): RoutesConfig {
  const built: Record<string, ModelGroupConfig> = {};
  for (const [name, group] of Object.entries(groups)) {
    built[name] = { name, strategy: group.strategy ?? 'weighted-random', deployments: group.deployments, fallbacks: group.fallbacks ?? [] };
  }
  return { file: 'routes.json', windowMs, groups: built };
}

/** A router over `routes` with a given clock and random source. */
export function testRouter(
  routes: RoutesConfig,
  options: { clock: Clock; random?: () => number; resilience?: Partial<ResilienceConfig>; metrics?: GroundworkMetrics },
): Router {
  return createRouter(routes, testConfig(options.resilience), {
    logger,
    clock: options.clock,
    random: options.random ?? (() => 0.5),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
}

/** A random source that plays `values` in turn, over and over. */
export function sequence(...values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length] ?? 0;
}
