import type { AppConfig } from '../config/app-config.js';
import type { EnvironmentStatus } from '../config/load-config.js';
import type { Database } from '../db/database.js';
import type { LlmClient, LlmStreamEvent } from '../llm/llm-client-types.js';
import { DEFAULT_PRICES } from '../llm/price-table.js';
import { PriceBook } from '../llm/pricing.js';
import { completionOfResponse, sentAttempts } from '../llm/response-completion.js';
import type { HealthOptions, HealthReport } from '../observability/health.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { scrubSecrets } from '../observability/redact.js';
import { attemptsOf } from '../resilience/resilience-pipeline.js';
import type { RoutesConfig } from '../routing/routes-config.js';
import { type ResponsesLlm, serviceResponses } from './responses/service-responses.js';
import type {
  CompleteOptions,
  ReadinessCheck,
  ServiceBackend,
  ServiceEmbedding,
  ServiceEmbeddingReach,
  ServiceEmbeddingRequest,
  ServiceModel,
  ServiceStreamEvent,
  ServiceStreamStart,
} from './service-backend.js';

/** The LLM calls the service makes: the LLM client's raw chat methods. */
export type ServiceLlm = Pick<LlmClient, 'complete' | 'stream' | 'close'> & Partial<Pick<LlmClient, 'embed'>> & ResponsesLlm;

/**
 * The facade members the service uses, typed structurally so that `Infrastructure` fits as it is
 * and as it grows.
 */
export interface ServiceInfrastructure<DB = unknown> {
  readonly config: AppConfig;
  readonly metrics: GroundworkMetrics;
  readonly database: Pick<Database<DB>, 'db' | 'validateConnection' | 'migrationStatus' | 'migrate'>;
  readonly llm: ServiceLlm;
  /** Model groups, offered as models and routed over their deployments. */
  readonly routes?: RoutesConfig | undefined;
  validateEnvironment(): Promise<EnvironmentStatus>;
  health(options?: HealthOptions): Promise<HealthReport>;
  close(): Promise<void>;
}

/** Longest a readiness check may take before it counts as failed, in ms. */
const READINESS_TIMEOUT_MS = 3000;

/**
 * Builds the {@link ServiceBackend} of `groundwork serve` from the facade: health and metrics
 * from it, readiness from its configuration, database connection and migration status, chat
 * calls through its LLM client, and `close()` closing the whole instance (which flushes the
 * usage ledger before the database pool closes).
 */
export function createServiceBackend<DB>(infrastructure: ServiceInfrastructure<DB>): ServiceBackend {
  const llm = infrastructure.llm;
  // Callers choose the model name: only the models the service knows get series, breakers and buckets of their own;
  // a name the price table prices by prefix (a dated snapshot, a Bedrock profile) shares those of its entry.
  const prices = new PriceBook(infrastructure.config.llm.prices);
  infrastructure.metrics.models.restrictTo(knownModels(infrastructure.config, infrastructure.routes), (model) => prices.entryOf(model));
  return {
    metrics: infrastructure.metrics,
    health: (options) => infrastructure.health(options),
    readiness: () => readiness(infrastructure),
    async complete(request, options) {
      const response = await llm.complete(request, {
        signal: options.signal,
        ...(options.cache === undefined ? {} : { cache: options.cache }),
        ...(options.attribution === undefined ? {} : { attribution: options.attribution }),
        ...(options.cacheScope === undefined ? {} : { namespace: scopedNamespace(infrastructure.config, options.cacheScope) }),
      });
      return {
        completion: completionOfResponse(response),
        cached: response.metadata.cached,
        attempts: sentAttempts(response.metadata.attempts),
        costUsd: response.usage.costUsd,
      };
    },
    stream(request, options) {
      const events = llm.stream(request, {
        signal: options.signal,
        ...(options.cache === undefined ? {} : { cache: options.cache }),
        ...(options.attribution === undefined ? {} : { attribution: options.attribution }),
        ...(options.cacheScope === undefined ? {} : { namespace: scopedNamespace(infrastructure.config, options.cacheScope) }),
      });
      return { [Symbol.asyncIterator]: () => serviceEvents(events[Symbol.asyncIterator]()) };
    },
    ...(llm.embed === undefined
      ? {}
      : {
          embed: (request, options) => embedThrough(infrastructure.config, llm, request, options),
          embeddingReach: (request) => embeddingReach(infrastructure.config, request),
        }),
    attemptsOf: (error) => {
      const attempts = attemptsOf(error);
      return attempts === undefined ? undefined : sentAttempts(attempts);
    },
    listModels: async () => [
      ...Object.keys(infrastructure.routes?.groups ?? {}).map((id) => ({ id, ownedBy: 'groundwork' })),
      ...configuredModels(infrastructure.config),
    ],
    ...(llm.respond === undefined ? {} : { responses: serviceResponses(infrastructure.config, llm) }),
    migrate: async () => {
      await infrastructure.database.migrate('up');
    },
    close: () => infrastructure.close(),
  };
}

/**
 * The client's stream as the service's events, mapped as each is asked for. A plain iterator
 * rather than an async generator: a generator re-yielding another adds its own queue and
 * promises to every event of every stream.
 */
function serviceEvents(
  events: AsyncIterator<LlmStreamEvent<undefined>, void, undefined>,
): AsyncIterator<ServiceStreamEvent, void, undefined> {
  let ended = false;
  return {
    async next(): Promise<IteratorResult<ServiceStreamEvent, void>> {
      while (!ended) {
        const step = await events.next();
        if (step.done === true) break;
        const event = step.value;
        // Tool results come only from a tool loop, which needs `execute` functions a caller over HTTP cannot send.
        if (event.type === 'tool-result') continue;
        if (event.type === 'done') {
          const completion = completionOfResponse(event.response);
          return { done: false, value: { type: 'done', completion, costUsd: event.response.usage.costUsd } };
        }
        if (event.type === 'start') {
          const start: ServiceStreamStart = { type: 'start', attempts: event.attempts, cached: event.cached };
          if (event.rateLimitHeaders !== undefined) start.rateLimitHeaders = event.rateLimitHeaders;
          if (event.id !== undefined) start.id = event.id;
          if (event.created !== undefined) start.created = event.created;
          return { done: false, value: start };
        }
        return { done: false, value: event };
      }
      ended = true;
      return { done: true, value: undefined };
    },
    async return(): Promise<IteratorResult<ServiceStreamEvent, void>> {
      if (!ended) {
        ended = true;
        await events.return?.();
      }
      return { done: true, value: undefined };
    },
  };
}

async function readiness<DB>(infrastructure: ServiceInfrastructure<DB>): Promise<{ ready: boolean; checks: ReadinessCheck[] }> {
  const environment = await infrastructure.validateEnvironment();
  const checks: ReadinessCheck[] = [
    environment.isValid
      ? { name: 'config', ok: true }
      : { name: 'config', ok: false, detail: `${environment.errors.length} invalid variable(s); run groundwork doctor` },
  ];
  const connection = await bounded(infrastructure.database.validateConnection()).catch((error: unknown) => ({
    ok: false,
    error: (error as Error).message,
  }));
  checks.push(
    connection.ok
      ? { name: 'database', ok: true }
      : { name: 'database', ok: false, detail: scrubSecrets(connection.error ?? 'unreachable') },
  );
  if (!connection.ok) {
    checks.push({ name: 'migrations', ok: false, detail: 'unknown while the database is unreachable' });
  } else {
    try {
      const pending = (await bounded(infrastructure.database.migrationStatus())).filter((migration) => migration.executedAt === undefined);
      checks.push(
        pending.length === 0
          ? { name: 'migrations', ok: true }
          : {
              name: 'migrations',
              ok: false,
              detail: `${pending.length} pending; run groundwork migrate up or set DB_MIGRATE_ON_START=true`,
            },
      );
    } catch (error) {
      checks.push({ name: 'migrations', ok: false, detail: scrubSecrets((error as Error).message) });
    }
  }
  return { ready: checks.every((check) => check.ok), checks };
}

/** Rejects when `promise` takes longer than the readiness timeout, so a hung database cannot hang the probe. */
async function bounded<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The instance's cache namespace (`LLM_CACHE_NAMESPACE`) narrowed to one scope of its callers. */
function scopedNamespace(config: AppConfig, scope: string): string {
  return `${config.cache.namespace}/${scope}`;
}

/** Embeds through the LLM client; naming the configured model keeps its fallbacks. */
async function embedThrough(
  config: AppConfig,
  llm: ServiceLlm,
  request: ServiceEmbeddingRequest,
  options: CompleteOptions,
): Promise<ServiceEmbedding> {
  const settings = config.llm.embeddings;
  const configured = settings.provider === 'azure' ? settings.azureDeployment : settings.model;
  const result = await llm.embed!(request.inputs, {
    signal: options.signal,
    // An embedding is deterministic: the cache is on unless the caller bypasses it.
    ...(options.cache === undefined ? {} : { cache: options.cache }),
    ...(request.model === undefined || request.model === configured ? {} : { model: request.model }),
    ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
    ...(request.user === undefined ? {} : { user: request.user }),
    ...(options.attribution === undefined ? {} : { attribution: options.attribution }),
    ...(options.cacheScope === undefined ? {} : { namespace: scopedNamespace(config, options.cacheScope) }),
  });
  return {
    vectors: result.vectors,
    model: result.model,
    usage: result.usage,
    cachedInputs: result.metadata.cachedInputs,
    attempts: sentAttempts(result.metadata.attempts),
    costUsd: result.costUsd,
  };
}

/**
 * The configured embedding model at its configured length keeps its fallbacks (`LLM_EMBEDDING_FALLBACKS`),
 * as the embedding engine sends it; any other named model, or another `dimensions`, is pinned.
 */
function embeddingReach(config: AppConfig, request: ServiceEmbeddingRequest): ServiceEmbeddingReach {
  const settings = config.llm.embeddings;
  const configured = (settings.provider === 'azure' ? settings.azureDeployment : settings.model) ?? '';
  if (request.model !== undefined && request.model !== configured) return { model: request.model, fallbackModels: [] };
  if (request.dimensions !== undefined && request.dimensions !== settings.dimensions) return { model: configured, fallbackModels: [] };
  return { model: configured, fallbackModels: settings.fallbacks.map((fallback) => fallback.model) };
}

/** The primary model and every fallback, each once; then the embedding model and its fallbacks, where there are embeddings. */
export function configuredModels(config: AppConfig): ServiceModel[] {
  const embeddings = config.llm.embeddings;
  const embeddingModel = embeddings.provider === 'azure' ? embeddings.azureDeployment : embeddings.model;
  const models = [
    { id: config.llm.model, ownedBy: config.llm.provider },
    ...config.resilience.fallbacks.map((f) => ({ id: f.model, ownedBy: f.provider })),
    ...(embeddings.provider === 'anthropic' || embeddingModel === undefined ? [] : [{ id: embeddingModel, ownedBy: embeddings.provider }]),
    ...embeddings.fallbacks.map((f) => ({ id: f.model, ownedBy: f.provider })),
  ];
  return models.filter((model, index) => models.findIndex((other) => other.id === model.id) === index);
}

/**
 * The models the service labels, and keeps breakers and rate-limit buckets for, by name: each
 * provider's configured model, the fallbacks, the embedding models, the model groups with their
 * deployments, and every model of the price table (`LLM_PRICES` included), by its exact name.
 * Any other name a caller sends is still sent on, and counted under the price-table entry that
 * prices it by prefix, else under `other`.
 */
export function knownModels(config: AppConfig, routes: RoutesConfig | undefined): Set<string> {
  const { llm } = config;
  const models = new Set<string>([
    llm.model,
    llm.openai.model,
    llm.anthropic.model,
    llm.gemini.model,
    llm.bedrock.model,
    ...(llm.azure.deployment === undefined ? [] : [llm.azure.deployment]),
    ...config.resilience.fallbacks.map((fallback) => fallback.model),
    ...configuredModels(config).map((model) => model.id),
    ...Object.keys(DEFAULT_PRICES),
    ...Object.keys(llm.prices),
  ]);
  for (const group of Object.values(routes?.groups ?? {})) {
    models.add(group.name);
    for (const deployment of group.deployments) {
      models.add(deployment.model);
      models.add(deployment.name);
    }
  }
  return models;
}
