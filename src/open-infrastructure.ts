import { createEmbeddingCache } from './cache/create-embedding-cache.js';
import { createResponseCache } from './cache/create-response-cache.js';
import { ConfigSource } from './config/load-config.js';
import { createDatabase } from './db/create-database.js';
import type { GroundworkTables } from './db/groundwork-tables.js';
import { createUsageSink } from './db/usage-sink.js';
import { type Closeable, Infrastructure, type InfrastructureOptions } from './infrastructure.js';
import { systemClock } from './internal/clock.js';
import { createRedisClient, type RedisClient } from './internal/redis.js';
import { redisHealthCheck, waitForRedis } from './internal/redis-health.js';
import { Jobs } from './jobs/jobs.js';
import { llmHealthChecks } from './llm/llm-health-check.js';
import { createLogger } from './observability/logger.js';
import { GroundworkMetrics } from './observability/metrics.js';
import { createResiliencePipeline } from './resilience/create-resilience-pipeline.js';
import { reserveTokens } from './resilience/estimate-tokens.js';
import { createRouter } from './routing/create-router.js';
import { deploymentHealthChecks } from './routing/deployment-health-checks.js';
import { loadRoutes } from './routing/load-routes.js';
import { RoutingPipeline } from './routing/routing-pipeline.js';
import { createTenantServices } from './tenants/create-tenant-services.js';

/**
 * What `createInfrastructure` does, in the module it loads on its first call: with it the database
 * layer, the logger, the resilience stack, jobs and tenants, none of which `import('groundwork')` loads.
 */
export async function openInfrastructure<DB>(options: InfrastructureOptions): Promise<Infrastructure<DB>> {
  const { azureTokenProvider, googleAuthOptions, ...sourceOptions } = options;
  const configSource = options.configSource ?? new ConfigSource({ ...sourceOptions, azureTokenProvider: azureTokenProvider !== undefined });
  const config = configSource.load();
  // A routes file is validated before anything opens: a bad one fails like a bad environment.
  const routes =
    config.llm.routesFile === undefined ? undefined : await loadRoutes(config.llm.routesFile, { env: configSource.variables() });
  const logger = options.logger ?? createLogger(config.logging, { destination: options.logDestination ?? 'stdout' });
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics ?? new GroundworkMetrics({ processMetrics: options.processMetrics ?? false });
  // The LLM client and its provider SDKs load here, while the database opens, rather than with this
  // module: what no call needs yet stays unloaded, and the SDKs are loaded before the first call,
  // never inside its time limit.
  const llmModule = import('./llm/llm-client.js');
  llmModule.catch(() => undefined); // awaited below; a failure while the database opens must not go unhandled
  // The provider adapters too, unless no provider can be built (no settings, no routes file): then every
  // provider fails with what to set, and nothing of the adapters is needed.
  const providerFactory = import('./llm/providers/provider-settings.js').then((settings) =>
    routes !== undefined || settings.anyProviderConfigured(config, { azureTokenProvider })
      ? import('./llm/providers/create-provider.js').then((module) => module.createProvider)
      : settings.unconfiguredProvider,
  );
  providerFactory.catch(() => undefined);
  const opened: Closeable[] = [];
  try {
    const database = await createDatabase<DB & GroundworkTables>(config.database, {
      logger,
      metrics,
      clock,
      ...(options.migrations === undefined ? {} : { migrations: options.migrations }),
    });
    opened.push({ name: 'database', close: () => database.close() });
    let redis: RedisClient | undefined;
    if (config.redis.url !== undefined) {
      const client = createRedisClient(config.redis);
      redis = client;
      opened.push({ name: 'redis', close: async () => void (await client.quit().catch(() => client.disconnect())) });
      if (!(await waitForRedis(client, 2000))) {
        logger.warn(
          { redis: config.redis.displayUrl },
          'redis: not reachable yet; shared limits and cache fall back to this process until it is',
        );
      }
    }
    const pipeline = createResiliencePipeline(config.resilience, {
      logger,
      metrics,
      clock,
      ...(redis === undefined ? {} : { redis, keyPrefix: config.redis.keyPrefix }),
    });
    opened.push({ name: 'resilience', close: () => pipeline.close() });
    const router =
      routes === undefined
        ? undefined
        : createRouter(routes, config.resilience, {
            logger,
            metrics,
            clock,
            ...(redis === undefined ? {} : { redis, keyPrefix: config.redis.keyPrefix }),
          });
    if (router !== undefined) opened.push({ name: 'router', close: () => router.close() });
    const cache = createResponseCache(config.cache, {
      logger,
      metrics,
      clock,
      ...(redis === undefined ? {} : { redis, keyPrefix: config.redis.keyPrefix }),
    });
    if (cache !== undefined) opened.push({ name: 'cache', close: () => cache.close() });
    const embeddingCache = createEmbeddingCache(config.cache, {
      logger,
      metrics,
      clock,
      ...(redis === undefined ? {} : { redis, keyPrefix: config.redis.keyPrefix }),
    });
    if (embeddingCache !== undefined) opened.push({ name: 'embedding-cache', close: () => embeddingCache.close() });
    const { openLlmClient } = await llmModule;
    const createProvider = await providerFactory;
    const createLlmClient = (appConfig: typeof config, deps: Parameters<typeof openLlmClient>[1]) =>
      openLlmClient(appConfig, deps, createProvider);
    const llm = createLlmClient(config, {
      logger,
      metrics,
      clock,
      pipeline: router === undefined ? pipeline : new RoutingPipeline(pipeline, router),
      routes,
      cache,
      embeddingCache,
      usageSink: createUsageSink(database),
      providers: options.providers,
      azureTokenProvider: options.azureTokenProvider,
      googleAuthOptions,
      // Only a token limit uses the estimate. It is approximate: a tokenizer would block the event
      // loop (~1 s to load, ~1.3 µs a token), and the reservation is reconciled with real usage anyway.
      ...(config.resilience.tokensPerMinute === undefined
        ? {}
        : { estimateTokens: (request) => reserveTokens(request.messages, request.maxTokens ?? config.llm.outputTokensEstimate) }),
    });
    opened.push({ name: 'llm', close: () => llm.close() });
    const infrastructure = new Infrastructure<DB>({
      configSource,
      config,
      logger,
      clock,
      metrics,
      database,
      redis,
      llm,
      pipeline,
      routes,
      router,
      onDemand: { Jobs, createTenantServices },
    });
    for (const closeable of opened) infrastructure.registerCloseable(closeable);
    infrastructure.registerHealthCheck(database.healthCheck);
    if (database.replicaHealthCheck !== undefined) infrastructure.registerHealthCheck(database.replicaHealthCheck);
    if (redis !== undefined) infrastructure.registerHealthCheck(redisHealthCheck(redis, config.redis.displayUrl ?? 'redis'));
    for (const check of llmHealthChecks(config, llm, (provider, model) => pipeline.getState(provider, model), clock))
      infrastructure.registerHealthCheck(check);
    if (routes !== undefined)
      for (const check of deploymentHealthChecks(routes, config, googleAuthOptions)) infrastructure.registerHealthCheck(check);
    return infrastructure;
  } catch (error) {
    for (const closeable of opened.reverse()) await closeable.close().catch(() => undefined);
    throw error;
  }
}
