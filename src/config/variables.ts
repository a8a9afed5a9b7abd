import {
  booleanField,
  enumField,
  type Field,
  integerField,
  listField,
  optionalHttpUrlField,
  optionalIntegerField,
  optionalSecretField,
  optionalStringField,
  originListField,
  patternField,
} from './fields.js';

/** Fewest characters `GROUNDWORK_ADMIN_KEY` may have: with ten wrong guesses a minute allowed, a short key would still fall. */
export const ADMIN_KEY_MIN_LENGTH = 16;

/** Which section of `AppConfig` a variable feeds; also the README table's grouping. */
export type ConfigSection = 'app' | 'database' | 'llm' | 'resilience' | 'cache' | 'redis' | 'server' | 'tenants' | 'jobs' | 'logging';

/** One documented environment variable. */
export interface VariableDefinition {
  section: ConfigSection;
  /** The parser for the raw string. */
  field: Field<unknown>;
  /** The default as shown to users (the parser applies it). */
  default: string;
  description: string;
  /** An example of a valid value, shown in error messages. */
  example: string;
  /** Never printed; may also come from `<NAME>_FILE`. */
  secret?: boolean;
}

/** The LLM providers Groundwork speaks to. */
export const LLM_PROVIDERS = ['openai', 'azure', 'anthropic', 'openai-compatible', 'gemini', 'bedrock'] as const;
/** An LLM provider name. */
export type LlmProviderName = (typeof LLM_PROVIDERS)[number];

/** Log levels accepted in `LOG_LEVEL` (the Python spellings too). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'warning', 'error', 'critical', 'fatal', 'silent'] as const;

/** Who shares `groundwork serve`'s cache among virtual keys (`SERVER_CACHE_SCOPE`). */
export const SERVER_CACHE_SCOPES = ['team', 'key', 'shared'] as const;
/** A `SERVER_CACHE_SCOPE` value. */
export type ServerCacheScope = (typeof SERVER_CACHE_SCOPES)[number];

const define = <T extends Record<string, VariableDefinition>>(definitions: T): T => definitions;

/**
 * Every environment variable Groundwork reads, with its parser, default and documentation.
 * The README's configuration table is generated from this list (`groundwork config --markdown`).
 */
export const VARIABLES = define({
  NODE_ENV: {
    section: 'app',
    field: enumField(['development', 'production', 'test'], 'development'),
    default: 'development',
    description: 'Deployment environment; `production` turns on stricter warnings.',
    example: 'production',
  },
  DEBUG: {
    section: 'app',
    field: booleanField(false),
    default: 'false',
    description: 'Debug mode: debug-level logs unless `LOG_LEVEL` says otherwise.',
    example: 'false',
  },

  DATABASE_URL: {
    section: 'database',
    field: optionalStringField(),
    default: 'sqlite:./data/app.db',
    description:
      'Database: `sqlite:PATH`, `sqlite::memory:`, `pglite:PATH`, `pglite:memory`, or `postgres://…` (`sslmode=require|verify-full` honoured).',
    example: 'postgres://app@db.internal:5432/app?sslmode=verify-full',
    secret: true,
  },
  DB_POOL_SIZE: {
    section: 'database',
    field: integerField(5, 1, 1000),
    default: '5',
    description: 'Connections kept open (PostgreSQL).',
    example: '10',
  },
  DB_MAX_OVERFLOW: {
    section: 'database',
    field: integerField(10, 0, 1000),
    default: '10',
    description: 'Extra connections opened under load, closed again when idle.',
    example: '20',
  },
  DB_ACQUIRE_TIMEOUT_MS: {
    section: 'database',
    field: integerField(10_000, 1, 600_000),
    default: '10000',
    description: 'Longest wait for a free connection, in ms.',
    example: '5000',
  },
  DB_IDLE_TIMEOUT_MS: {
    section: 'database',
    field: integerField(10_000, 100, 3_600_000),
    default: '10000',
    description: 'Idle time after which an overflow connection is closed, in ms.',
    example: '30000',
  },
  DB_STATEMENT_TIMEOUT_MS: {
    section: 'database',
    field: optionalIntegerField(1, 3_600_000),
    default: '(none)',
    description: 'Per-statement timeout, in ms (PostgreSQL, PGlite).',
    example: '30000',
  },
  DB_PREPARED_STATEMENTS: {
    section: 'database',
    field: booleanField(true),
    default: 'true',
    description:
      'PostgreSQL: send prepared queries (`prepare`) as named statements, parsed once per connection; `false` sends them unnamed, parsed at each call (for a pooler that cannot keep named statements).',
    example: 'false',
  },
  DB_NAMED_BUILDER_STATEMENTS: {
    section: 'database',
    field: booleanField(false),
    default: 'false',
    description:
      "PostgreSQL, with `DB_PREPARED_STATEMENTS`: send the query builder's statements with parameters as named statements too, from the second run of their SQL. Faster (parsed once per connection), but after a schema change that alters a `select *`-shaped statement's columns, that statement fails once inside a transaction; behind PgBouncer in transaction mode it needs PgBouncer 1.21 or later.",
    example: 'true',
  },
  DB_SSL_CA: {
    section: 'database',
    field: optionalStringField(),
    default: '(none)',
    description: 'Path to a PEM file with the CA that signed the database server’s certificate.',
    example: '/etc/ssl/db-ca.pem',
  },
  DB_CLOSE_TIMEOUT_MS: {
    section: 'database',
    field: integerField(10_000, 0, 600_000),
    default: '10000',
    description: 'On close, how long to wait for running transactions, in ms.',
    example: '5000',
  },
  DATABASE_REPLICA_URLS: {
    section: 'database',
    field: listField(),
    default: '(none)',
    description:
      'Read replicas of a PostgreSQL `DATABASE_URL`, comma-separated `postgres://…` URLs: read-only sessions and `dbRead` go to a healthy one, round robin. Each gets its own pool of `DB_POOL_SIZE` (+ `DB_MAX_OVERFLOW`) connections.',
    example: 'postgres://app@replica-1.internal:5432/app,postgres://app@replica-2.internal:5432/app',
    secret: true,
  },
  DB_REPLICA_MAX_LAG_MS: {
    section: 'database',
    field: integerField(10_000, 1, 86_400_000),
    default: '10000',
    description: 'A replica further behind the primary than this, in ms, is skipped until it catches up.',
    example: '5000',
  },
  DB_REPLICA_CHECK_INTERVAL_MS: {
    section: 'database',
    field: integerField(2000, 50, 600_000),
    default: '2000',
    description: 'How often each replica’s lag and reachability are measured, in ms.',
    example: '1000',
  },
  DB_MIGRATE_ON_START: {
    section: 'database',
    field: booleanField(true),
    default: 'true',
    description:
      "`groundwork serve` applies pending migrations at start; the other commands that use the database apply Groundwork's own (never the application's). With `false` they refuse while Groundwork's are pending.",
    example: 'false',
  },
  DB_MIGRATIONS_DIR: {
    section: 'database',
    field: optionalStringField(),
    default: '(none)',
    description: 'Folder of the application’s own migrations (`.js`/`.ts` modules exporting `up` and `down`).',
    example: './migrations',
  },

  LLM_PROVIDER: {
    section: 'llm',
    field: enumField(LLM_PROVIDERS, 'openai'),
    default: 'openai',
    description: 'Primary LLM provider: `openai`, `azure`, `anthropic`, `openai-compatible`, `gemini` or `bedrock`.',
    example: 'anthropic',
  },
  OPENAI_API_KEY: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description: 'OpenAI API key (optional for `openai-compatible`).',
    example: 'sk-…',
    secret: true,
  },
  OPENAI_MODEL: {
    section: 'llm',
    field: optionalStringField(),
    default: 'gpt-4o-mini',
    description: 'Model for `openai` and `openai-compatible`.',
    example: 'gpt-4o',
  },
  OPENAI_BASE_URL: {
    section: 'llm',
    field: optionalHttpUrlField(),
    default: 'https://api.openai.com/v1',
    description: 'API base URL; required for `openai-compatible` (Ollama, vLLM, LM Studio, llama.cpp).',
    example: 'http://localhost:11434/v1',
  },
  OPENAI_ORG_ID: { section: 'llm', field: optionalStringField(), default: '(none)', description: 'OpenAI organisation.', example: 'org-…' },
  OPENAI_PROJECT_ID: { section: 'llm', field: optionalStringField(), default: '(none)', description: 'OpenAI project.', example: 'proj_…' },
  AZURE_OPENAI_API_KEY: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description: 'Azure OpenAI key (or pass a token provider in code).',
    example: '0123abcd…',
    secret: true,
  },
  AZURE_OPENAI_ENDPOINT: {
    section: 'llm',
    field: optionalHttpUrlField(),
    default: '(none)',
    description: 'Azure OpenAI resource endpoint.',
    example: 'https://my-resource.openai.azure.com',
  },
  AZURE_OPENAI_DEPLOYMENT: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description: 'Azure deployment name (used as the model).',
    example: 'gpt-4o-prod',
  },
  OPENAI_API_VERSION: {
    section: 'llm',
    field: optionalStringField(),
    default: '2024-10-21',
    description: 'Azure OpenAI API version.',
    example: '2024-10-21',
  },
  ANTHROPIC_API_KEY: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description: 'Anthropic API key.',
    example: 'sk-ant-…',
    secret: true,
  },
  ANTHROPIC_MODEL: {
    section: 'llm',
    field: optionalStringField(),
    default: 'claude-3-5-haiku-latest',
    description: 'Anthropic model.',
    example: 'claude-sonnet-4-5',
  },
  ANTHROPIC_BASE_URL: {
    section: 'llm',
    field: optionalHttpUrlField(),
    default: 'https://api.anthropic.com',
    description: 'Anthropic API base URL.',
    example: 'http://127.0.0.1:4010',
  },
  GEMINI_API_KEY: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description: 'Gemini API key (`GOOGLE_API_KEY` is read when it is unset); not used with Vertex AI.',
    example: 'AIza…',
    secret: true,
  },
  GOOGLE_API_KEY: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description: 'Gemini API key under the name Google’s SDKs also read.',
    example: 'AIza…',
    secret: true,
  },
  GEMINI_MODEL: {
    section: 'llm',
    field: optionalStringField(),
    default: 'gemini-2.5-flash',
    description: 'Gemini model.',
    example: 'gemini-2.5-pro',
  },
  GEMINI_BASE_URL: {
    section: 'llm',
    field: optionalHttpUrlField(),
    default: '(Google’s endpoint)',
    description: 'Gemini API (or Vertex AI) base URL, for a proxy or the fake provider.',
    example: 'http://127.0.0.1:4010',
  },
  GOOGLE_GENAI_USE_VERTEXAI: {
    section: 'llm',
    field: booleanField(false),
    default: 'false',
    description: 'Reach Gemini through Vertex AI (`GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_LOCATION`, application default credentials).',
    example: 'true',
  },
  GOOGLE_CLOUD_PROJECT: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description: 'Google Cloud project for Vertex AI; required when `GOOGLE_GENAI_USE_VERTEXAI=true`.',
    example: 'my-project',
  },
  GOOGLE_CLOUD_LOCATION: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description: 'Vertex AI location; required when `GOOGLE_GENAI_USE_VERTEXAI=true`.',
    example: 'us-central1',
  },
  BEDROCK_MODEL: {
    section: 'llm',
    field: optionalStringField(),
    default: 'amazon.nova-lite-v1:0',
    description: 'Bedrock model id or inference profile.',
    example: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
  },
  AWS_REGION: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description: 'AWS region of Bedrock; required when `LLM_PROVIDER=bedrock`.',
    example: 'us-east-1',
  },
  BEDROCK_BASE_URL: {
    section: 'llm',
    field: optionalHttpUrlField(),
    default: '(the region’s endpoint)',
    description: 'Bedrock runtime endpoint, for a VPC endpoint, a proxy or the fake provider.',
    example: 'http://127.0.0.1:4010',
  },
  AWS_ACCESS_KEY_ID: {
    section: 'llm',
    field: optionalStringField(),
    default: '(credential chain)',
    description:
      'Static AWS credentials for Bedrock, with `AWS_SECRET_ACCESS_KEY`; unset, the standard chain (environment, profile, SSO, instance role) is used.',
    example: 'AKIA…',
    secret: true,
  },
  AWS_SECRET_ACCESS_KEY: {
    section: 'llm',
    field: optionalStringField(),
    default: '(credential chain)',
    description: 'Secret of `AWS_ACCESS_KEY_ID`.',
    example: 'wJalr…',
    secret: true,
  },
  AWS_SESSION_TOKEN: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description: 'Session token of temporary AWS credentials.',
    example: 'IQoJb3…',
    secret: true,
  },
  LLM_EMBEDDING_PROVIDER: {
    section: 'llm',
    field: optionalStringField(),
    default: '(LLM_PROVIDER)',
    description: 'Provider for embeddings (`openai`, `azure`, `openai-compatible`, `gemini` or `bedrock`; Anthropic has none).',
    example: 'openai',
  },
  LLM_EMBEDDING_MODEL: {
    section: 'llm',
    field: optionalStringField(),
    default: 'text-embedding-3-small',
    description:
      'Embedding model (Azure uses `AZURE_OPENAI_EMBEDDING_DEPLOYMENT`); the default for `gemini` is `gemini-embedding-001`, for `bedrock` `amazon.titan-embed-text-v2:0`.',
    example: 'nomic-embed-text',
  },
  AZURE_OPENAI_EMBEDDING_DEPLOYMENT: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description: 'Azure deployment answering embeddings; required to embed with `azure` unless each call names its deployment (`model`).',
    example: 'embedding-small',
  },
  LLM_EMBEDDING_DIMENSIONS: {
    section: 'llm',
    field: optionalIntegerField(1, 65_536),
    default: '(the model’s own)',
    description:
      'Vector length to ask for (models that shorten, such as `text-embedding-3-*`), and to expect from models Groundwork does not know; embedding fallbacks must match it.',
    example: '512',
  },
  LLM_EMBEDDING_FALLBACKS: {
    section: 'llm',
    field: listField(),
    default: '(none)',
    description:
      'Embedding fallback chain, `provider:model,…`; each must return vectors as long as the primary’s, or the configuration is refused.',
    example: 'azure:embedding-small',
  },
  LLM_EMBEDDING_BATCH_CONCURRENCY: {
    section: 'llm',
    field: integerField(4, 1, 64),
    default: '4',
    description: 'Requests one large `embed` call sends at once (each within 2048 inputs and 300 000 tokens).',
    example: '8',
  },
  LLM_MAX_OUTPUT_TOKENS: {
    section: 'llm',
    field: optionalIntegerField(1, 1_000_000),
    default: '(none)',
    description:
      'A `max_tokens` for calls that set none. Unset, none is sent and the model may answer at full length (Anthropic, which requires one, gets the model’s own maximum).',
    example: '2048',
  },
  LLM_OUTPUT_TOKENS_ESTIMATE: {
    section: 'llm',
    field: integerField(1024, 1, 1_000_000),
    default: '1024',
    description:
      'Output tokens reserved against `LLM_TOKENS_PER_MINUTE` for a call that sets no maximum; the reservation is reconciled to the real usage after the call.',
    example: '4096',
  },
  LLM_DROP_UNSUPPORTED_PARAMS: {
    section: 'llm',
    field: booleanField(false),
    default: 'false',
    description:
      "Drop request fields a provider cannot honour, and the `images` or `audio` of an earlier answer echoed on an assistant message (logged as a warning and counted in `groundwork_llm_dropped_params_total`), instead of refusing the call with a 400 that names them; the caller's message content and restricting `tool_choice` or `parallel_tool_calls: false` are never dropped.",
    example: 'true',
  },
  LLM_STRUCTURED_OUTPUT_REPAIRS: {
    section: 'llm',
    field: integerField(1, 0, 5),
    default: '1',
    description: 'Repair requests after invalid JSON or a schema mismatch.',
    example: '0',
  },
  LLM_PRICES: {
    section: 'llm',
    field: optionalStringField(),
    default: '(built-in table)',
    description:
      'JSON price overrides per model, USD per million tokens: `{"model":{"input":0.15,"output":0.6,"cachedInput":0.075}}`; `"batch"` is the share paid through the Batch API (default 0.5).',
    example: '{"my-model":{"input":1,"output":2}}',
  },
  LLM_STREAM_FIRST_CHUNK_TIMEOUT_MS: {
    section: 'llm',
    field: integerField(30_000, 1, 600_000),
    default: '30000',
    description: 'Streaming: longest wait for the first chunk, in ms.',
    example: '10000',
  },
  LLM_STREAM_IDLE_TIMEOUT_MS: {
    section: 'llm',
    field: integerField(30_000, 1, 600_000),
    default: '30000',
    description: 'Streaming: longest silence between chunks, in ms.',
    example: '15000',
  },
  LLM_LOG_CONTENT: {
    section: 'llm',
    field: booleanField(false),
    default: 'false',
    description: 'Include prompt and answer text in logs, spans and the usage ledger (for the call detail of the dashboard).',
    example: 'true',
  },
  LLM_LEDGER: {
    section: 'llm',
    field: booleanField(true),
    default: 'true',
    description: 'Record every call in the `llm_usage` table.',
    example: 'false',
  },
  LLM_LEDGER_BATCH_SIZE: {
    section: 'llm',
    field: integerField(100, 1, 10_000),
    default: '100',
    description: 'Ledger rows written per batch.',
    example: '500',
  },
  LLM_LEDGER_FLUSH_MS: {
    section: 'llm',
    field: integerField(1000, 10, 600_000),
    default: '1000',
    description: 'Longest a ledger row waits before it is written, in ms.',
    example: '5000',
  },

  LLM_MAX_ATTEMPTS: {
    section: 'resilience',
    field: integerField(3, 1, 20),
    default: '3',
    description: 'Attempts per provider and model, the first included.',
    example: '5',
  },
  LLM_RETRY_MIN_MS: {
    section: 'resilience',
    field: integerField(2000, 0, 600_000),
    default: '2000',
    description: 'Shortest backoff between attempts, also after a shorter `Retry-After`, in ms.',
    example: '500',
  },
  LLM_RETRY_MAX_MS: {
    section: 'resilience',
    field: integerField(10_000, 0, 600_000),
    default: '10000',
    description: 'Longest backoff between attempts, in ms.',
    example: '20000',
  },
  LLM_RETRY_AFTER_MAX_MS: {
    section: 'resilience',
    field: integerField(60_000, 0, 3_600_000),
    default: '60000',
    description: 'Longest `Retry-After` obeyed; a longer one fails the call at once, in ms.',
    example: '30000',
  },
  LLM_TIMEOUT_MS: {
    section: 'resilience',
    field: integerField(600_000, 1, 3_600_000),
    default: '600000',
    description:
      'Per-attempt timeout of a whole (unstreamed) answer, in ms. Long enough for a reasoning model that thinks for minutes; streams are watched by the first-chunk and idle timeouts instead.',
    example: '30000',
  },
  LLM_DEADLINE_MS: {
    section: 'resilience',
    field: integerField(900_000, 1, 3_600_000),
    default: '900000',
    description: 'Whole-call deadline, every attempt and fallback included, in ms.',
    example: '60000',
  },
  LLM_REQUESTS_PER_MINUTE: {
    section: 'resilience',
    field: integerField(2500, 1, 10_000_000),
    default: '2500',
    description: 'Request budget per provider and model per minute (shared through Redis when `REDIS_URL` is set).',
    example: '500',
  },
  LLM_TOKENS_PER_MINUTE: {
    section: 'resilience',
    field: optionalIntegerField(1, 1_000_000_000),
    default: '(off)',
    description: 'Token budget per provider and model per minute.',
    example: '200000',
  },
  LLM_RATE_LIMIT_MAX_WAIT_MS: {
    section: 'resilience',
    field: integerField(30_000, 0, 3_600_000),
    default: '30000',
    description: 'Longest wait for a rate-limit permit, in ms.',
    example: '5000',
  },
  LLM_RATE_LIMIT_ON_STORE_FAILURE: {
    section: 'resilience',
    field: enumField(['local', 'refuse'], 'local'),
    default: 'local',
    description: 'When Redis is unreachable: `local` buckets (limit ÷ `LLM_EXPECTED_REPLICAS`) or `refuse` calls.',
    example: 'refuse',
  },
  LLM_EXPECTED_REPLICAS: {
    section: 'resilience',
    field: integerField(1, 1, 10_000),
    default: '1',
    description: 'Processes sharing the quota; divides the limit for local fallback buckets.',
    example: '4',
  },
  LLM_MAX_CONCURRENT: {
    section: 'resilience',
    field: integerField(10, 1, 10_000),
    default: '10',
    description: 'Calls in flight per provider.',
    example: '32',
  },
  LLM_QUEUE_MAX: {
    section: 'resilience',
    field: integerField(1000, 0, 1_000_000),
    default: '1000',
    description: 'Calls waiting for a concurrency slot before new ones are refused.',
    example: '100',
  },
  LLM_QUEUE_TIMEOUT_MS: {
    section: 'resilience',
    field: integerField(60_000, 0, 3_600_000),
    default: '60000',
    description: 'Longest wait for a concurrency slot, in ms.',
    example: '10000',
  },
  LLM_CIRCUIT_FAILURE_THRESHOLD: {
    section: 'resilience',
    field: integerField(5, 1, 1000),
    default: '5',
    description: 'Consecutive provider failures that open the circuit.',
    example: '3',
  },
  LLM_CIRCUIT_RESET_MS: {
    section: 'resilience',
    field: integerField(60_000, 1, 3_600_000),
    default: '60000',
    description: 'Time an open circuit waits before one test request, in ms.',
    example: '30000',
  },
  GROUNDWORK_ROUTES: {
    section: 'llm',
    field: optionalStringField(),
    default: '(none)',
    description:
      'A routes file (`.yaml`, `.yml` or `.json`) of model groups: logical model names backed by several deployments, each with its own credentials, limits and weight (see Routing). Unset: the one deployment described by these variables.',
    example: './routes.yaml',
  },
  LLM_FALLBACKS: {
    section: 'resilience',
    field: listField(),
    default: '(none)',
    description: 'Fallback chain tried in order after a retryable failure or an open circuit: `provider:model,…`.',
    example: 'anthropic:claude-3-5-haiku-latest,openai:gpt-4o-mini',
  },

  LLM_CACHE: {
    section: 'cache',
    field: enumField(['off', 'memory', 'redis'], 'memory'),
    default: 'memory',
    description: 'Response cache store.',
    example: 'redis',
  },
  LLM_CACHE_TTL_SECONDS: {
    section: 'cache',
    field: integerField(3600, 1, 31_536_000),
    default: '3600',
    description: 'Lifetime of a cached answer, in seconds.',
    example: '86400',
  },
  LLM_CACHE_MAX_ENTRIES: {
    section: 'cache',
    field: integerField(1000, 1, 10_000_000),
    default: '1000',
    description: 'Memory store: most entries kept.',
    example: '10000',
  },
  LLM_CACHE_MAX_BYTES: {
    section: 'cache',
    field: integerField(50 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER),
    default: '52428800',
    description: 'Memory store: most bytes kept.',
    example: '104857600',
  },
  LLM_CACHE_NAMESPACE: {
    section: 'cache',
    field: optionalStringField(),
    default: 'default',
    description: 'Cache namespace (per tenant or application).',
    example: 'quiz-app',
  },

  REDIS_URL: {
    section: 'redis',
    field: optionalStringField(),
    default: '(none)',
    description: 'Redis for shared rate limits, breaker state and cache: `redis://[:password@]host:port[/db]` or `rediss://`.',
    example: 'redis://127.0.0.1:6379',
    secret: true,
  },
  REDIS_KEY_PREFIX: {
    section: 'redis',
    field: optionalStringField(),
    default: 'groundwork:',
    description: 'Prefix of every Redis key Groundwork writes.',
    example: 'myapp:gw:',
  },

  PORT: {
    section: 'server',
    field: integerField(8080, 0, 65_535),
    default: '8080',
    description: '`groundwork serve` listens here.',
    example: '3000',
  },
  HOST: {
    section: 'server',
    field: optionalStringField(),
    default: '0.0.0.0 with API keys, 127.0.0.1 without',
    description: 'Interface `groundwork serve` binds to.',
    example: '0.0.0.0',
  },
  GROUNDWORK_API_KEYS: {
    section: 'server',
    field: listField(),
    default: '(none: loopback only)',
    description: 'Comma-separated bearer keys accepted by `groundwork serve`.',
    example: 'gw-key-1,gw-key-2',
    secret: true,
  },
  SERVER_BODY_LIMIT_BYTES: {
    section: 'server',
    field: integerField(1024 * 1024, 1024, 100 * 1024 * 1024),
    default: '1048576',
    description:
      'Largest request body accepted, as sent and, for a body sent with `Content-Encoding` gzip, deflate or br, once decoded (another encoding is refused with 415).',
    example: '262144',
  },
  SERVER_SHUTDOWN_TIMEOUT_MS: {
    section: 'server',
    field: integerField(10_000, 0, 600_000),
    default: '10000',
    description: 'On SIGTERM/SIGINT, how long in-flight requests may finish, in ms.',
    example: '30000',
  },
  SERVER_HEADERS_TIMEOUT_MS: {
    section: 'server',
    field: integerField(10_000, 1000, 600_000),
    default: '10000',
    description: 'A request whose headers have not all arrived within this time is answered 408 and closed (slow clients), in ms.',
    example: '5000',
  },
  SERVER_REQUEST_TIMEOUT_MS: {
    section: 'server',
    field: integerField(30_000, 1000, 600_000),
    default: '30000',
    description: 'A request whose headers and body have not arrived within this time is answered 408 and closed, in ms.',
    example: '60000',
  },
  SERVER_KEEP_ALIVE_TIMEOUT_MS: {
    section: 'server',
    field: integerField(5000, 1000, 600_000),
    default: '5000',
    description:
      'An idle kept-alive connection is closed after this time, in ms. Behind a load balancer, set it above the balancer’s idle timeout (AWS ALB: 60 s), or the balancer may send a request on a connection just closed and answer 502.',
    example: '65000',
  },
  SERVER_MAX_CONNECTIONS: {
    section: 'server',
    field: integerField(1000, 1, 1_000_000),
    default: '1000',
    description:
      'Open connections at most; beyond it new connections are closed at once, and a warning says how many (at most one line in 10 s).',
    example: '5000',
  },
  SERVER_ACCESS_LOG: {
    section: 'server',
    field: booleanField(true),
    default: 'true',
    description: 'Log one line per HTTP request (never prompt text).',
    example: 'false',
  },
  SERVER_LOG_FLUSH_MS: {
    section: 'server',
    field: integerField(1000, 0, 60_000),
    default: '1000',
    description:
      'Longest `groundwork serve` holds log lines (JSON on stdout) in memory before writing them, in ms, so that a busy server writes many lines at once (also when 4 KiB gather). Warnings and errors are written at once; everything held is written before each message `serve` prints on stderr, when a stop signal (SIGTERM, SIGINT) arrives and again before a second one ends the drain, before SIGHUP ends the process (by that signal, as without a handler; not on Windows), at an uncaught exception, and on exit. Lost, at most this long of lines: what the process holds when it is killed outright (SIGKILL, the out-of-memory killer), ends in a V8 fatal error (its heap exhausted), or is ended by a signal it does not handle (SIGQUIT, kept for ending a wedged process with a core dump, SIGUSR2, SIGALRM and the like). 0 writes each line at once.',
    example: '0',
  },
  SERVER_CORS_ORIGINS: {
    section: 'server',
    field: originListField(),
    default: '(none: no CORS headers)',
    description:
      "Comma-separated browser origins allowed to call `groundwork serve` (CORS, preflight included), each as a browser sends it (`https://app.example.com`: no path or trailing slash, no default port; other entries are refused); `*` allows any origin. Applies to `/v1/…` only, never to the dashboard or the admin API. Without `GROUNDWORK_API_KEYS` these are the only pages besides the service's own whose calls to `/v1/…` are served.",
    example: 'https://app.example.com,http://localhost:5173',
  },
  SERVER_CACHE: {
    section: 'server',
    field: booleanField(false),
    default: 'false',
    description:
      'Let `groundwork serve` use the response cache (temperature-0 answers) for requests that do not choose with `X-Groundwork-Cache`; off by default, as OpenAI clients do not expect caching.',
    example: 'true',
  },
  SERVER_CACHE_SCOPE: {
    section: 'server',
    field: enumField(SERVER_CACHE_SCOPES, 'team'),
    default: 'team',
    description:
      "Who shares `groundwork serve`'s cached answers and embeddings among virtual keys: `team` (a key's team, or the key alone when it has none), `key` (each key alone) or `shared` (every caller). Calls with `GROUNDWORK_API_KEYS` keys share the instance's cache (`LLM_CACHE_NAMESPACE`). Shared entries answer one key with what another paid for, and `X-Groundwork-Cache: hit` tells it that someone sent the same request.",
    example: 'key',
  },

  GROUNDWORK_VIRTUAL_KEYS: {
    section: 'tenants',
    field: booleanField(false),
    default: 'false',
    description:
      'Let `groundwork serve` accept virtual keys from the database (`groundwork keys create`) beside `GROUNDWORK_API_KEYS`, with their models, limits and budgets; every API call then needs a key.',
    example: 'true',
  },
  GROUNDWORK_ADMIN_KEY: {
    section: 'tenants',
    field: optionalSecretField(ADMIN_KEY_MIN_LENGTH),
    default: '(none: no admin API)',
    description:
      'Bearer key of the admin API (`/admin/…`) of `groundwork serve`, and the login of its dashboard (`/ui`); distinct from every caller key; ' +
      `at least ${ADMIN_KEY_MIN_LENGTH} characters. Ten wrong keys in a minute from one client address lock every admin key from that address out for the rest of it (429). ` +
      'Without it the dashboard is served on a loopback bind only.',
    example: 'gw-admin-…',
    secret: true,
  },
  TENANT_MAX_OUTPUT_TOKENS_ESTIMATE: {
    section: 'tenants',
    field: integerField(4096, 1, 1_000_000),
    default: '4096',
    description:
      'Output tokens reserved against a budget for a call that sets no `max_tokens`; the call is sent with this maximum, so the reservation bounds its cost.',
    example: '1024',
  },
  TENANT_MIN_OUTPUT_TOKENS: {
    section: 'tenants',
    field: integerField(256, 1, 1_000_000),
    default: '256',
    description:
      'Least output allowance a call without its own `max_tokens` is shrunk to when the budget affords less than the estimate; below it the call is refused.',
    example: '64',
  },
  TENANT_RESERVATION_LEASE_MS: {
    section: 'tenants',
    field: integerField(600_000, 1000, 86_400_000),
    default: '600000',
    description: 'How long a budget reservation holds when its process dies before settling it; keep it above the longest call.',
    example: '300000',
  },
  TENANT_BUDGET_MAX_WAIT_MS: {
    section: 'tenants',
    field: integerField(30_000, 0, 600_000),
    default: '30000',
    description: 'Longest a call waits for budget held by calls in flight to be settled before it is refused with 429 and `Retry-After`.',
    example: '5000',
  },
  TENANT_KEY_CACHE_TTL_MS: {
    section: 'tenants',
    field: integerField(1000, 0, 60_000),
    default: '1000',
    description: 'How long a replica trusts a virtual key it looked up; a revocation or change reaches every replica within it.',
    example: '500',
  },

  JOBS_SCHEMA: {
    section: 'jobs',
    field: patternField('pgboss', /^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL name: letters, digits and _'),
    default: 'pgboss',
    description:
      'PostgreSQL schema of the job queue (pg-boss creates and migrates it); embedded databases use the `groundwork_jobs` table instead.',
    example: 'jobs',
  },
  JOBS_POLL_INTERVAL_MS: {
    section: 'jobs',
    field: integerField(1000, 50, 60_000),
    default: '1000',
    description: 'How often an idle worker looks for jobs, in ms (a busy worker claims the next job as soon as a slot frees).',
    example: '250',
  },
  JOBS_TIMEOUT_MS: {
    section: 'jobs',
    field: integerField(900_000, 1000, 86_400_000),
    default: '900000',
    description:
      "A job's default timeout and lease, in ms: its run is aborted then, and a job whose worker died is released to another worker once it has passed.",
    example: '60000',
  },
  JOBS_RETRY_LIMIT: {
    section: 'jobs',
    field: integerField(2, 0, 1000),
    default: '2',
    description:
      'Default retries of a failed job after its first run; a job that fails them all is dead-lettered (`failed`) with its last error.',
    example: '5',
  },
  JOBS_STUCK_AFTER_MS: {
    section: 'jobs',
    field: integerField(600_000, 1000, 86_400_000),
    default: '600000',
    description:
      'Health reports the queue as degraded when a job due to run has waited longer than this (stuck), or a job no worker could run (an unknown prompt version or kind) has waited this long for one that can, in ms.',
    example: '60000',
  },

  LOG_LEVEL: {
    section: 'logging',
    field: enumField(LOG_LEVELS, 'info'),
    default: 'INFO',
    description: 'Log level: TRACE, DEBUG, INFO, WARN(ING), ERROR, CRITICAL/FATAL, SILENT.',
    example: 'DEBUG',
  },
  LOG_FORMAT: {
    section: 'logging',
    field: enumField(['auto', 'json', 'pretty'], 'auto'),
    default: 'auto',
    description: '`json`, `pretty`, or `auto` (pretty on a terminal, JSON otherwise).',
    example: 'json',
  },
});

/** The name of an environment variable Groundwork reads. */
export type VariableName = keyof typeof VARIABLES;

/** Names of the variables that hold secrets (each may also come from `<NAME>_FILE`). */
export const SECRET_VARIABLES: readonly VariableName[] = (Object.keys(VARIABLES) as VariableName[]).filter(
  (name) => (VARIABLES[name] as VariableDefinition).secret === true,
);

/** The prefix of feature-flag variables: `FEATURE_FLAG_NEW_UI=true` → `featureFlags.newUi`. */
export const FEATURE_FLAG_PREFIX = 'FEATURE_FLAG_';
