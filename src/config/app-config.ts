import type { Secret } from './secret.js';
import type { LlmProviderName, ServerCacheScope } from './variables.js';

/** Where the database lives, as read from `DATABASE_URL`. */
export type DatabaseDialect = 'sqlite' | 'pglite' | 'postgres';

/** Database settings. */
export interface DatabaseConfig {
  /** The full URL; may hold a password. */
  readonly url: Secret;
  readonly dialect: DatabaseDialect;
  /** The URL with any password replaced by `***`, safe to print. */
  readonly displayUrl: string;
  /** True for SQLite and PGlite: no server, data in this process. */
  readonly embedded: boolean;
  readonly poolSize: number;
  readonly maxOverflow: number;
  readonly acquireTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly statementTimeoutMs: number | undefined;
  /** `DB_PREPARED_STATEMENTS`: PostgreSQL sends prepared queries as named statements. Absent: true. */
  readonly preparedStatements?: boolean;
  /** `DB_NAMED_BUILDER_STATEMENTS`: PostgreSQL sends the query builder's recurring statements as named statements too. Absent: false. */
  readonly namedBuilderStatements?: boolean;
  readonly sslCaPath: string | undefined;
  readonly closeTimeoutMs: number;
  readonly migrateOnStart: boolean;
  readonly migrationsDir: string | undefined;
  /** Read replicas (`DATABASE_REPLICA_URLS`); PostgreSQL only. Absent or empty: none. */
  readonly replicas?: ReplicaConfig;
}

/** Read-replica settings. */
export interface ReplicaConfig {
  /** The comma-separated replica URLs; may hold passwords. Undefined when none are configured. */
  readonly urls: Secret | undefined;
  /** One label per replica, `host:port/database` (with `#2`… when a replica is listed twice): safe to print. */
  readonly labels: readonly string[];
  /** `DB_REPLICA_MAX_LAG_MS`: a replica further behind is skipped. */
  readonly maxLagMs: number;
  /** `DB_REPLICA_CHECK_INTERVAL_MS`: how often lag is measured. */
  readonly checkIntervalMs: number;
}

/** USD per million tokens. */
export interface ModelPrice {
  readonly input: number;
  readonly output: number;
  /** Price of prompt tokens served from the provider's prompt cache; defaults to `input`. */
  readonly cachedInput?: number;
  /**
   * The share of every rate paid for calls made through the provider's Batch API
   * (`infra.jobs.enqueueBatch`). @default 0.5 (OpenAI, Azure and Anthropic bill batches at half price)
   */
  readonly batch?: number;
}

/** A provider and model pair, e.g. a fallback. */
export interface ProviderModel {
  readonly provider: LlmProviderName;
  readonly model: string;
}

/** LLM provider settings. */
export interface LlmConfig {
  /** The primary provider. */
  readonly provider: LlmProviderName;
  /** The primary provider's model (for Azure, the deployment). */
  readonly model: string;
  /** False when no provider has the credentials it needs: LLM calls then fail with a clear error. */
  readonly configured: boolean;
  readonly openai: {
    readonly apiKey: Secret | undefined;
    readonly model: string;
    readonly baseUrl: string | undefined;
    readonly organization: string | undefined;
    readonly project: string | undefined;
  };
  readonly azure: {
    readonly apiKey: Secret | undefined;
    readonly endpoint: string | undefined;
    readonly deployment: string | undefined;
    readonly apiVersion: string;
  };
  readonly anthropic: {
    readonly apiKey: Secret | undefined;
    readonly model: string;
    readonly baseUrl: string | undefined;
  };
  /** Google Gemini, through the Gemini API (a key) or Vertex AI (project, location, application default credentials). */
  readonly gemini: {
    /** `GEMINI_API_KEY`, else `GOOGLE_API_KEY`. */
    readonly apiKey: Secret | undefined;
    readonly model: string;
    readonly baseUrl: string | undefined;
    readonly vertexAi: boolean;
    readonly project: string | undefined;
    readonly location: string | undefined;
  };
  /** AWS Bedrock (Converse); credentials from the standard AWS chain unless given here. */
  readonly bedrock: {
    readonly model: string;
    readonly region: string | undefined;
    readonly baseUrl: string | undefined;
    readonly accessKeyId: Secret | undefined;
    readonly secretAccessKey: Secret | undefined;
    readonly sessionToken: Secret | undefined;
  };
  /** `max_tokens` for calls that set none; undefined: none is sent. */
  readonly maxOutputTokens: number | undefined;
  /** Output tokens reserved against the tokens-per-minute limit when a call sets no maximum. */
  readonly outputTokensEstimate: number;
  /** Drop (logged, counted) instead of refusing request fields a provider cannot honour. */
  readonly dropUnsupportedParams: boolean;
  readonly structuredOutputRepairs: number;
  /** Price overrides from `LLM_PRICES`, merged over the built-in table by the LLM client. */
  readonly prices: Readonly<Record<string, ModelPrice>>;
  readonly streamFirstChunkTimeoutMs: number;
  readonly streamIdleTimeoutMs: number;
  /** Whether prompt and answer text may appear in logs and spans. */
  readonly logContent: boolean;
  readonly ledger: { readonly enabled: boolean; readonly batchSize: number; readonly flushIntervalMs: number };
  readonly embeddings: EmbeddingsConfig;
  /** `GROUNDWORK_ROUTES`: the routes file of model groups, read by `loadRoutes`; undefined: no groups. */
  readonly routesFile: string | undefined;
}

/** Embedding settings: where `embed` goes, and how large calls are split. */
export interface EmbeddingsConfig {
  readonly provider: LlmProviderName;
  /** The model for `openai` and `openai-compatible`. */
  readonly model: string;
  /** The Azure deployment answering embeddings. */
  readonly azureDeployment: string | undefined;
  /** Vector length asked for; undefined: the model's own. */
  readonly dimensions: number | undefined;
  /** Checked at load to return vectors as long as the primary's. */
  readonly fallbacks: readonly ProviderModel[];
  /** Batches of one call sent at once. */
  readonly batchConcurrency: number;
}

/** Retry, rate limit, concurrency, breaker, timeout and fallback settings. */
export interface ResilienceConfig {
  readonly maxAttempts: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly retryAfterMaxMs: number;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly requestsPerMinute: number;
  /** Undefined: no token limit. */
  readonly tokensPerMinute: number | undefined;
  readonly rateLimitMaxWaitMs: number;
  readonly onStoreFailure: 'local' | 'refuse';
  readonly expectedReplicas: number;
  readonly maxConcurrent: number;
  readonly queueMax: number;
  readonly queueTimeoutMs: number;
  readonly circuitFailureThreshold: number;
  readonly circuitResetMs: number;
  readonly fallbacks: readonly ProviderModel[];
}

/** Response cache settings. */
export interface CacheConfig {
  readonly mode: 'off' | 'memory' | 'redis';
  readonly ttlSeconds: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly namespace: string;
}

/** Redis settings. */
export interface RedisConfig {
  /** Undefined: no Redis; limits, breaker and cache stay in the process. */
  readonly url: Secret | undefined;
  /** The URL with any password replaced by `***`, safe to print. */
  readonly displayUrl: string | undefined;
  readonly keyPrefix: string;
}

/** `groundwork serve` settings. */
export interface ServerConfig {
  readonly port: number;
  readonly host: string;
  readonly apiKeys: readonly Secret[];
  readonly bodyLimitBytes: number;
  readonly shutdownTimeoutMs: number;
  /** SERVER_HEADERS_TIMEOUT_MS. */
  readonly headersTimeoutMs: number;
  /** SERVER_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs: number;
  /** SERVER_MAX_CONNECTIONS. */
  readonly maxConnections: number;
  /** SERVER_KEEP_ALIVE_TIMEOUT_MS: an idle kept-alive connection is closed after it; 5000 when absent. */
  readonly keepAliveTimeoutMs?: number;
  readonly accessLog: boolean;
  /** SERVER_LOG_FLUSH_MS: longest `groundwork serve` holds a log line before writing it, in ms; 0 or absent: never. */
  readonly logFlushMs?: number;
  /** Browser origins allowed by CORS (`*`: any); empty: no CORS headers. */
  readonly corsOrigins: readonly string[];
  /** Whether requests that do not send `X-Groundwork-Cache` use the response cache. */
  readonly cache: boolean;
  /** SERVER_CACHE_SCOPE: who shares cached answers and embeddings among virtual keys; `team` when absent. */
  readonly cacheScope?: ServerCacheScope;
}

/** Virtual keys, teams and their budgets (see `groundwork/tenants`). */
export interface TenantsConfig {
  /** Whether `groundwork serve` accepts database keys. */
  readonly virtualKeys: boolean;
  /** The admin API's key; undefined: no admin API. */
  readonly adminKey: Secret | undefined;
  /** Output tokens reserved for a call without `max_tokens`. */
  readonly maxOutputTokensEstimate: number;
  /** Least output allowance a call is shrunk to near the end of a budget. */
  readonly minOutputTokens: number;
  /** Lease of an unsettled reservation, in ms. */
  readonly reservationLeaseMs: number;
  /** Longest wait for budget held by calls in flight, in ms. */
  readonly budgetMaxWaitMs: number;
  /** How long a looked-up key is trusted, in ms. */
  readonly keyCacheTtlMs: number;
}

/** The durable job queue (see `infra.jobs`). */
export interface JobsConfig {
  /** PostgreSQL schema of pg-boss's tables. */
  readonly schema: string;
  /** How often an idle worker polls, in ms. */
  readonly pollIntervalMs: number;
  /** Default timeout and lease of a job, in ms. */
  readonly timeoutMs: number;
  /** Default retries after a job's first run. */
  readonly retryLimit: number;
  /** Age of the oldest due job beyond which health reports the queue stuck, in ms. */
  readonly stuckAfterMs: number;
}

/** Logging settings. */
export interface LoggingConfig {
  readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  readonly format: 'json' | 'pretty';
}

/**
 * The validated, frozen configuration of one Groundwork instance. Secrets are {@link Secret}s,
 * which print as `[redacted]`.
 */
export interface AppConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly debug: boolean;
  readonly database: DatabaseConfig;
  readonly llm: LlmConfig;
  readonly resilience: ResilienceConfig;
  readonly cache: CacheConfig;
  readonly redis: RedisConfig;
  readonly server: ServerConfig;
  readonly tenants: TenantsConfig;
  readonly jobs: JobsConfig;
  readonly logging: LoggingConfig;
  /** `FEATURE_FLAG_NEW_UI=true` → `{ newUi: true }`. */
  readonly featureFlags: Readonly<Record<string, boolean>>;
}
