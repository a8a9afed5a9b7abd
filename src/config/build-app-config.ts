import { defaultEmbeddingModel } from '../llm/embeddings/known-embedding-models.js';
import type { AppConfig, DatabaseDialect, LoggingConfig, ProviderModel } from './app-config.js';
import { embeddingProvider, type Parsed, parsePrices, parseProviderModel } from './schema.js';
import { Secret } from './secret.js';
import { SecretList } from './secret-list.js';
import { maskUrlCredentials, replicaLabels } from './urls.js';
import type { LlmProviderName } from './variables.js';

const LEVELS: Record<string, LoggingConfig['level']> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
  silent: 'silent',
};

/** What validation already decided, handed to {@link buildAppConfig}. */
export interface ValidatedFacts {
  provider: LlmProviderName;
  llmConfigured: boolean;
  fallbacks: ProviderModel[];
  databaseUrl: string;
  dialect: DatabaseDialect;
  featureFlags: Record<string, boolean>;
  /** Whether `LOG_LEVEL` was set (otherwise `DEBUG` lowers the level). */
  logLevelSet: boolean;
  isTty: boolean;
}

/** The secrets of one instance by variable name, kept across reloads. */
export type SecretMap = Map<string, Secret | SecretList>;

function secret(name: string, value: string | undefined, secrets: SecretMap): Secret | undefined {
  if (value === undefined) return undefined;
  const existing = secrets.get(name);
  if (existing instanceof Secret) {
    existing.replace(value);
    return existing;
  }
  const created = new Secret(name, value);
  secrets.set(name, created);
  return created;
}

function secretList(name: string, values: readonly string[], secrets: SecretMap): SecretList {
  const existing = secrets.get(name);
  if (existing instanceof SecretList) {
    existing.replace(values);
    return existing;
  }
  const created = new SecretList(name, values);
  // Empty at start: the service runs without keys (loopback only); a reload does not turn them on.
  if (values.length > 0) secrets.set(name, created);
  return created;
}

/**
 * `server` with `apiKeys` read through to the list's entries now, so that a reload of
 * `GROUNDWORK_API_KEYS` (more keys, fewer, others) reaches every holder of the frozen configuration.
 */
function withLiveApiKeys<T extends object>(server: T, keys: SecretList): T & { readonly apiKeys: readonly Secret[] } {
  return Object.defineProperty(server, 'apiKeys', { get: () => keys.items, enumerable: true }) as T & {
    readonly apiKeys: readonly Secret[];
  };
}

/**
 * Builds the frozen {@link AppConfig} from validated values. `secrets` keeps the same
 * {@link Secret} objects across reloads, so holders see rotated values.
 */
export function buildAppConfig(values: Parsed, facts: ValidatedFacts, secrets: SecretMap): AppConfig {
  const { provider, llmConfigured, fallbacks, databaseUrl, dialect, featureFlags } = facts;
  const openaiModel = values.OPENAI_MODEL ?? 'gpt-4o-mini';
  const anthropicModel = values.ANTHROPIC_MODEL ?? 'claude-3-5-haiku-latest';
  const geminiModel = values.GEMINI_MODEL ?? 'gemini-2.5-flash';
  const bedrockModel = values.BEDROCK_MODEL ?? 'amazon.nova-lite-v1:0';
  const primaryModel: Record<LlmProviderName, string> = {
    openai: openaiModel,
    'openai-compatible': openaiModel,
    azure: values.AZURE_OPENAI_DEPLOYMENT ?? openaiModel,
    anthropic: anthropicModel,
    gemini: geminiModel,
    bedrock: bedrockModel,
  };
  const embeddingsProvider = embeddingProvider(values, provider);
  const logLevel = !facts.logLevelSet && values.DEBUG ? 'debug' : (LEVELS[values.LOG_LEVEL] ?? 'info');
  const redisUrl = secret('REDIS_URL', values.REDIS_URL, secrets);

  const config: AppConfig = {
    env: values.NODE_ENV,
    debug: values.DEBUG,
    database: {
      url: secret('DATABASE_URL', databaseUrl, secrets) as Secret,
      dialect,
      displayUrl: maskUrlCredentials(databaseUrl),
      embedded: dialect !== 'postgres',
      poolSize: values.DB_POOL_SIZE,
      maxOverflow: values.DB_MAX_OVERFLOW,
      acquireTimeoutMs: values.DB_ACQUIRE_TIMEOUT_MS,
      idleTimeoutMs: values.DB_IDLE_TIMEOUT_MS,
      statementTimeoutMs: values.DB_STATEMENT_TIMEOUT_MS,
      preparedStatements: values.DB_PREPARED_STATEMENTS,
      namedBuilderStatements: values.DB_NAMED_BUILDER_STATEMENTS,
      sslCaPath: values.DB_SSL_CA,
      closeTimeoutMs: values.DB_CLOSE_TIMEOUT_MS,
      migrateOnStart: values.DB_MIGRATE_ON_START,
      migrationsDir: values.DB_MIGRATIONS_DIR,
      replicas: {
        urls:
          values.DATABASE_REPLICA_URLS.length === 0
            ? undefined
            : secret('DATABASE_REPLICA_URLS', values.DATABASE_REPLICA_URLS.join(','), secrets),
        labels: replicaLabels(values.DATABASE_REPLICA_URLS),
        maxLagMs: values.DB_REPLICA_MAX_LAG_MS,
        checkIntervalMs: values.DB_REPLICA_CHECK_INTERVAL_MS,
      },
    },
    llm: {
      provider,
      model: primaryModel[provider],
      configured: llmConfigured,
      openai: {
        apiKey: secret('OPENAI_API_KEY', values.OPENAI_API_KEY, secrets),
        model: openaiModel,
        baseUrl: values.OPENAI_BASE_URL,
        organization: values.OPENAI_ORG_ID,
        project: values.OPENAI_PROJECT_ID,
      },
      azure: {
        apiKey: secret('AZURE_OPENAI_API_KEY', values.AZURE_OPENAI_API_KEY, secrets),
        endpoint: values.AZURE_OPENAI_ENDPOINT,
        deployment: values.AZURE_OPENAI_DEPLOYMENT,
        apiVersion: values.OPENAI_API_VERSION ?? '2024-10-21',
      },
      anthropic: {
        apiKey: secret('ANTHROPIC_API_KEY', values.ANTHROPIC_API_KEY, secrets),
        model: anthropicModel,
        baseUrl: values.ANTHROPIC_BASE_URL,
      },
      gemini: {
        // Kept under the variable it came from, so that a reload of that variable reaches it.
        apiKey:
          values.GEMINI_API_KEY === undefined
            ? secret('GOOGLE_API_KEY', values.GOOGLE_API_KEY, secrets)
            : secret('GEMINI_API_KEY', values.GEMINI_API_KEY, secrets),
        model: geminiModel,
        baseUrl: values.GEMINI_BASE_URL,
        vertexAi: values.GOOGLE_GENAI_USE_VERTEXAI,
        project: values.GOOGLE_CLOUD_PROJECT,
        location: values.GOOGLE_CLOUD_LOCATION,
      },
      bedrock: {
        model: bedrockModel,
        region: values.AWS_REGION,
        baseUrl: values.BEDROCK_BASE_URL,
        accessKeyId: secret('AWS_ACCESS_KEY_ID', values.AWS_ACCESS_KEY_ID, secrets),
        secretAccessKey: secret('AWS_SECRET_ACCESS_KEY', values.AWS_SECRET_ACCESS_KEY, secrets),
        sessionToken: secret('AWS_SESSION_TOKEN', values.AWS_SESSION_TOKEN, secrets),
      },
      maxOutputTokens: values.LLM_MAX_OUTPUT_TOKENS,
      outputTokensEstimate: values.LLM_OUTPUT_TOKENS_ESTIMATE,
      dropUnsupportedParams: values.LLM_DROP_UNSUPPORTED_PARAMS,
      routesFile: values.GROUNDWORK_ROUTES,
      structuredOutputRepairs: values.LLM_STRUCTURED_OUTPUT_REPAIRS,
      prices: values.LLM_PRICES === undefined ? {} : (parsePrices(values.LLM_PRICES) ?? {}),
      streamFirstChunkTimeoutMs: values.LLM_STREAM_FIRST_CHUNK_TIMEOUT_MS,
      streamIdleTimeoutMs: values.LLM_STREAM_IDLE_TIMEOUT_MS,
      logContent: values.LLM_LOG_CONTENT,
      ledger: { enabled: values.LLM_LEDGER, batchSize: values.LLM_LEDGER_BATCH_SIZE, flushIntervalMs: values.LLM_LEDGER_FLUSH_MS },
      embeddings: {
        provider: embeddingsProvider,
        model: values.LLM_EMBEDDING_MODEL ?? defaultEmbeddingModel(embeddingsProvider),
        azureDeployment: values.AZURE_OPENAI_EMBEDDING_DEPLOYMENT,
        dimensions: values.LLM_EMBEDDING_DIMENSIONS,
        fallbacks: (values.LLM_EMBEDDING_FALLBACKS ?? []).flatMap((entry) => parseProviderModel(entry) ?? []),
        batchConcurrency: values.LLM_EMBEDDING_BATCH_CONCURRENCY,
      },
    },
    resilience: {
      maxAttempts: values.LLM_MAX_ATTEMPTS,
      retryMinMs: values.LLM_RETRY_MIN_MS,
      retryMaxMs: values.LLM_RETRY_MAX_MS,
      retryAfterMaxMs: values.LLM_RETRY_AFTER_MAX_MS,
      timeoutMs: values.LLM_TIMEOUT_MS,
      deadlineMs: values.LLM_DEADLINE_MS,
      requestsPerMinute: values.LLM_REQUESTS_PER_MINUTE,
      tokensPerMinute: values.LLM_TOKENS_PER_MINUTE,
      rateLimitMaxWaitMs: values.LLM_RATE_LIMIT_MAX_WAIT_MS,
      onStoreFailure: values.LLM_RATE_LIMIT_ON_STORE_FAILURE,
      expectedReplicas: values.LLM_EXPECTED_REPLICAS,
      maxConcurrent: values.LLM_MAX_CONCURRENT,
      queueMax: values.LLM_QUEUE_MAX,
      queueTimeoutMs: values.LLM_QUEUE_TIMEOUT_MS,
      circuitFailureThreshold: values.LLM_CIRCUIT_FAILURE_THRESHOLD,
      circuitResetMs: values.LLM_CIRCUIT_RESET_MS,
      fallbacks,
    },
    cache: {
      mode: values.LLM_CACHE,
      ttlSeconds: values.LLM_CACHE_TTL_SECONDS,
      maxEntries: values.LLM_CACHE_MAX_ENTRIES,
      maxBytes: values.LLM_CACHE_MAX_BYTES,
      namespace: values.LLM_CACHE_NAMESPACE ?? 'default',
    },
    redis: {
      url: redisUrl,
      displayUrl: values.REDIS_URL === undefined ? undefined : maskUrlCredentials(values.REDIS_URL),
      keyPrefix: values.REDIS_KEY_PREFIX ?? 'groundwork:',
    },
    server: withLiveApiKeys(
      {
        port: values.PORT,
        host: values.HOST ?? (values.GROUNDWORK_API_KEYS.length > 0 ? '0.0.0.0' : '127.0.0.1'),
        bodyLimitBytes: values.SERVER_BODY_LIMIT_BYTES,
        shutdownTimeoutMs: values.SERVER_SHUTDOWN_TIMEOUT_MS,
        headersTimeoutMs: values.SERVER_HEADERS_TIMEOUT_MS,
        requestTimeoutMs: values.SERVER_REQUEST_TIMEOUT_MS,
        maxConnections: values.SERVER_MAX_CONNECTIONS,
        keepAliveTimeoutMs: values.SERVER_KEEP_ALIVE_TIMEOUT_MS,
        accessLog: values.SERVER_ACCESS_LOG,
        logFlushMs: values.SERVER_LOG_FLUSH_MS,
        corsOrigins: values.SERVER_CORS_ORIGINS,
        cache: values.SERVER_CACHE,
        cacheScope: values.SERVER_CACHE_SCOPE,
      },
      secretList('GROUNDWORK_API_KEYS', values.GROUNDWORK_API_KEYS, secrets),
    ),
    tenants: {
      virtualKeys: values.GROUNDWORK_VIRTUAL_KEYS,
      adminKey: secret('GROUNDWORK_ADMIN_KEY', values.GROUNDWORK_ADMIN_KEY, secrets),
      maxOutputTokensEstimate: values.TENANT_MAX_OUTPUT_TOKENS_ESTIMATE,
      minOutputTokens: values.TENANT_MIN_OUTPUT_TOKENS,
      reservationLeaseMs: values.TENANT_RESERVATION_LEASE_MS,
      budgetMaxWaitMs: values.TENANT_BUDGET_MAX_WAIT_MS,
      keyCacheTtlMs: values.TENANT_KEY_CACHE_TTL_MS,
    },
    jobs: {
      schema: values.JOBS_SCHEMA,
      pollIntervalMs: values.JOBS_POLL_INTERVAL_MS,
      timeoutMs: values.JOBS_TIMEOUT_MS,
      retryLimit: values.JOBS_RETRY_LIMIT,
      stuckAfterMs: values.JOBS_STUCK_AFTER_MS,
    },
    logging: {
      level: logLevel,
      format: values.LOG_FORMAT === 'auto' ? (facts.isTty ? 'pretty' : 'json') : values.LOG_FORMAT,
    },
    featureFlags,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || value instanceof Secret || value instanceof SecretList || Object.isFrozen(value))
    return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
