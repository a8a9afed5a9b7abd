import type { Compilable, Kysely, Transaction } from 'kysely';
import type { AppConfig } from './config/app-config.js';
import type { ConfigSource, ConfigSourceOptions, EnvironmentStatus } from './config/load-config.js';
import type { LlmProviderName } from './config/variables.js';
import type { Database, DatabaseSession, SessionOptions } from './db/database.js';
import type { GroundworkTables } from './db/groundwork-tables.js';
import type { MigrationReport, MigrationState } from './db/migrations/migration-runner.js';
import type { AppMigrations } from './db/migrations/migration-source.js';
import type { PreparedQuery } from './db/prepared-query.js';
import type { Clock } from './internal/clock.js';
import type { RedisClient } from './internal/redis.js';
import { currentJobQueue } from './jobs/job-run-scope.js';
import type { Jobs } from './jobs/jobs.js';
import type { EmbedOptions, VectorFormat } from './llm/embeddings/embed-options.js';
import type { EmbedResult } from './llm/embeddings/embed-result.js';
import type { EmbeddingInput } from './llm/embeddings/embedding-request.js';
import { embeddingSpendOf } from './llm/embeddings/embedding-spend.js';
import type { LlmCallOptions, LlmClient, LlmResponse, LlmStreamEvent } from './llm/llm-client-types.js';
import type { Prompt, PromptContext } from './llm/prompt.js';
import { type ProviderClient, providerClient } from './llm/provider-client.js';
import type { AzureTokenProvider } from './llm/providers/azure/azure-provider.js';
import type { CreateProviderOptions } from './llm/providers/provider-settings.js';
import type { LlmProvider } from './llm/types.js';
import { type HealthCheck, type HealthOptions, type HealthReport, runHealthChecks } from './observability/health.js';
import type { Logger } from './observability/logger.js';
import type { GroundworkMetrics } from './observability/metrics.js';
import { scrubSecrets } from './observability/redact.js';
import type { ResiliencePipeline } from './resilience/resilience-pipeline.js';
import type { Router } from './routing/router.js';
import type { RoutesConfig } from './routing/routes-config.js';
import type { createTenantServices, TenantServices } from './tenants/create-tenant-services.js';
import { embeddingInputTokenBound, tenantCall } from './tenants/run-as-tenant.js';

/** Everything {@link createInfrastructure} accepts; all optional. Everything is injectable for tests. */
export interface InfrastructureOptions extends Omit<ConfigSourceOptions, 'azureTokenProvider'> {
  /** A ready configuration source (tests); otherwise one is built from the other options. */
  configSource?: ConfigSource;
  /** A logger to use instead of the one built from `LOG_LEVEL` and `LOG_FORMAT`. */
  logger?: Logger;
  /** Where the built logger writes: `stdout` (services) or `stderr` (command-line tools whose stdout is their output). @default 'stdout' */
  logDestination?: 'stdout' | 'stderr';
  /** The clock every policy uses. @default the system clock */
  clock?: Clock;
  /** The metrics registry to record into. @default a new registry per instance */
  metrics?: GroundworkMetrics;
  /** The application's migrations: a folder of modules, or a list keyed by name. @default DB_MIGRATIONS_DIR */
  migrations?: AppMigrations;
  /** An Entra ID token provider for Azure OpenAI, instead of `AZURE_OPENAI_API_KEY`. */
  azureTokenProvider?: AzureTokenProvider;
  /** How Gemini on Vertex AI authenticates (a key file, an auth client). @default application default credentials */
  googleAuthOptions?: CreateProviderOptions['googleAuthOptions'];
  /** Ready provider adapters to use instead of building them from the configuration (tests, custom providers). */
  providers?: Partial<Record<LlmProviderName, LlmProvider>>;
  /** Record Node.js process metrics (CPU, memory, event loop) in the registry. @default false (on in `groundwork serve`) */
  processMetrics?: boolean;
}

/** Something the facade closes on `close()`, last opened first. */
export interface Closeable {
  readonly name: string;
  close(): Promise<void>;
}

/** What {@link createInfrastructure} opened, handed to the {@link Infrastructure} constructor. */
export interface InfrastructureParts<DB> {
  configSource: ConfigSource;
  config: AppConfig;
  logger: Logger;
  clock: Clock;
  metrics: GroundworkMetrics;
  database: Database<DB & GroundworkTables>;
  redis: RedisClient | undefined;
  llm: LlmClient;
  pipeline: ResiliencePipeline;
  /** The model groups of `GROUNDWORK_ROUTES`, when set. */
  routes?: RoutesConfig | undefined;
  /** The router over those groups, when set. */
  router?: Router | undefined;
  /**
   * What opens `jobs` and `tenants` on first use, handed in by `createInfrastructure` so that this
   * class's module (exported by the package's root) loads neither, nor the database layer they stand on.
   */
  onDemand: { Jobs: typeof Jobs; createTenantServices: typeof createTenantServices };
}

/**
 * One application's infrastructure: configuration, logging, metrics, health, database sessions
 * and LLM calls. Create it with {@link createInfrastructure}; close it with {@link Infrastructure.close}.
 *
 * `DB` describes the application's tables, for typed queries.
 */
/** Options of a call through the facade: an LLM call's, and the tenant (a virtual key's name or id) it runs as. */
export interface TenantCallOptions extends LlmCallOptions {
  /** Apply this key's models, limits and budgets (and its team's) to the call, and bill it to them. */
  tenant?: string;
}

export class Infrastructure<DB = Record<never, never>> {
  /** The validated, frozen configuration. Secrets print as `[redacted]`. */
  readonly config: AppConfig;
  /** The root logger; capabilities log through `logger.child({ component })`. */
  readonly logger: Logger;
  /** The clock every policy uses. */
  readonly clock: Clock;
  /** Every metric Groundwork records, in one prom-client registry. */
  readonly metrics: GroundworkMetrics;
  /** The database capability: sessions, migrations, pool state. */
  readonly database: Database<DB & GroundworkTables>;
  /** The shared Redis connection, when `REDIS_URL` is set. */
  readonly redis: RedisClient | undefined;
  /** The LLM client: every call goes through cache, fallbacks, retry, breaker, limits and the usage ledger. */
  readonly llm: LlmClient;
  /** The resilience stack (breaker states for health and dashboards). */
  readonly pipeline: ResiliencePipeline;
  /** The model groups of the routes file (`GROUNDWORK_ROUTES`); undefined without one. */
  readonly routes: RoutesConfig | undefined;
  /** The router over the model groups (each deployment's circuit, for dashboards); undefined without a routes file. */
  readonly router: Router | undefined;
  readonly #configSource: ConfigSource;
  readonly #checks: HealthCheck[] = [];
  readonly #closeables: Closeable[] = [];
  #closing: Promise<void> | undefined;
  /** True while `close()` waits for running jobs: their own calls are still let through. */
  #draining = false;
  #tenants: TenantServices | undefined;
  #jobs: Jobs<Infrastructure<DB>> | undefined;
  readonly #onDemand: InfrastructureParts<DB>['onDemand'];

  /** @internal Use {@link createInfrastructure}. */
  constructor(parts: InfrastructureParts<DB>) {
    this.#configSource = parts.configSource;
    this.config = parts.config;
    this.logger = parts.logger;
    this.clock = parts.clock;
    this.metrics = parts.metrics;
    this.database = parts.database;
    this.redis = parts.redis;
    this.llm = parts.llm;
    this.pipeline = parts.pipeline;
    this.routes = parts.routes;
    this.router = parts.router;
    this.#onDemand = parts.onDemand;
  }

  /**
   * Renders `prompt` with `context` and runs it on the configured provider (and its fallbacks):
   * `data` is the validated object when the prompt has a schema; `usage` includes `costUsd`.
   */
  executePrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: TenantCallOptions,
  ): Promise<LlmResponse<Output>> {
    this.#assertOpen();
    const { tenant, ...callOptions } = options ?? {};
    if (tenant === undefined) return this.llm.executePrompt(prompt, context, callOptions);
    return this.#asTenant(tenant, callOptions).then((tenantOptions) => this.llm.executePrompt(prompt, context, tenantOptions));
  }

  /**
   * The options of a call run as `tenant`: the key (and team) must be allowed the call's model
   * now, and each model turn of the call (a tool loop's, a repair's) is admitted on its own
   * against their limits and budgets, sent within the output allowance it reserved, and settled
   * to its cost; the ledger bills it to them.
   */
  async #asTenant(tenant: string, options: LlmCallOptions): Promise<LlmCallOptions> {
    const model = options.model ?? this.getLlmClient(options.provider).model;
    const call = await tenantCall(this.tenants, tenant, model);
    return { ...options, attribution: call.attribution, turnGate: call.gate };
  }

  /** Virtual keys and teams, their admission and their usage, over this instance's database (and Redis, when set). */
  get tenants(): TenantServices {
    this.#assertOpen();
    if (this.#tenants === undefined) {
      const tenants = this.#onDemand.createTenantServices({
        config: this.config,
        database: this.database,
        redis: this.redis,
        routes: this.routes,
        logger: this.logger.child({ component: 'tenants' }),
        metrics: this.metrics,
        clock: this.clock,
      });
      this.#tenants = tenants;
      // Closed after the calls that settle on it have drained, and before the stores it uses.
      this.registerStoreUser({ name: 'tenants', close: () => tenants.close() });
    }
    return this.#tenants;
  }

  /**
   * Durable jobs in this database: `enqueue` a prompt (inside `withSession`, in its transaction),
   * `get` or `wait` for its result, `work` in any process. pg-boss on PostgreSQL, a table on
   * SQLite and PGlite. Its health check and metrics are registered on first use.
   */
  get jobs(): Jobs<Infrastructure<DB>> {
    this.#assertOpen();
    if (this.#jobs === undefined) {
      const jobs = new this.#onDemand.Jobs<Infrastructure<DB>>({
        facade: this,
        config: this.config.jobs,
        database: this.database as unknown as Database<GroundworkTables>,
        clock: this.clock,
        logger: this.logger,
        metrics: this.metrics,
        executePrompt: (prompt, context, options) => this.executePrompt(prompt, context, options),
        appConfig: this.config,
        attribution: async (tenant) => {
          const key = await this.tenants.repository.showKey(tenant);
          return { keyId: key.id, teamId: key.teamId };
        },
        batchTenancy: () => this.tenants.batches,
      });
      this.#jobs = jobs;
      this.registerHealthCheck(jobs.healthCheck());
      // Closed first by `close()`, whatever was opened after it: its running jobs use the rest.
    }
    return this.#jobs;
  }

  /** Runs `prompt` streamed: text deltas, then the whole response with usage. A stream cut short throws. */
  streamPrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: TenantCallOptions,
  ): AsyncIterable<LlmStreamEvent<Output>> {
    this.#assertOpen();
    const { tenant, ...callOptions } = options ?? {};
    if (tenant === undefined) return this.llm.streamPrompt(prompt, context, callOptions);
    const asTenant = this.#asTenant(tenant, callOptions);
    // Found (or refused) on the first read; a refusal surfaces there, as any failure of a stream does.
    asTenant.catch(() => {});
    const llm = this.llm;
    return (async function* () {
      yield* llm.streamPrompt(prompt, context, await asTenant);
    })();
  }

  /**
   * Embeds one text or many (or token arrays): one vector per input, in input order, with the
   * vectors' length, usage and cost. Inputs already embedded come from the cache at no cost; the
   * rest go in batches through the same limits, retries, breaker and ledger as chat.
   */
  embed<F extends VectorFormat = 'float32'>(
    input: EmbeddingInput | readonly EmbeddingInput[],
    options?: EmbedOptions<F> & { tenant?: string },
  ): Promise<EmbedResult<F>> {
    this.#assertOpen();
    const { tenant, ...embedOptions } = options ?? {};
    if (tenant === undefined) return this.llm.embed(input, embedOptions);
    return this.#embedAsTenant(tenant, input, embedOptions);
  }

  /**
   * Embeds as `tenant`: the inputs' token bound at the input price is reserved on the key's and
   * team's budgets (over the embedding fallbacks the call may reach), taken from their limits,
   * and settled to the call's cost; cached inputs cost nothing.
   */
  async #embedAsTenant<F extends VectorFormat>(
    tenant: string,
    input: EmbeddingInput | readonly EmbeddingInput[],
    options: EmbedOptions<F>,
  ): Promise<EmbedResult<F>> {
    const settings = this.config.llm.embeddings;
    const provider = options.provider ?? settings.provider;
    const model = options.model ?? (provider === 'azure' ? settings.azureDeployment : settings.model) ?? '';
    const call = await tenantCall(this.tenants, tenant, model);
    const inputs = typeof input === 'string' || isTokenArray(input) ? [input] : (input as readonly EmbeddingInput[]);
    const pinned = options.provider !== undefined || options.model !== undefined;
    const fallbackModels = settings.fallbacks.map((fallback) => fallback.model);
    const admission = await call.admit(
      {
        model,
        messages: [],
        maxTokens: 0,
        inputTokens: embeddingInputTokenBound(pinned ? [model] : [model, ...fallbackModels], inputs),
        noFallbacks: pinned,
        fallbackModels,
      },
      options.signal,
    );
    try {
      const result = await this.llm.embed(input, { ...options, attribution: call.attribution });
      await admission.settle(result.costUsd, result.usage.totalTokens);
      return result;
    } catch (error) {
      // Batches answered before a later one failed were billed (and are in the ledger row): charged, the rest refunded.
      const spent = embeddingSpendOf(error);
      await admission.settle(spent?.costUsd ?? 0, spent?.totalTokens ?? 0);
      throw error;
    }
  }

  /** The configured client for `provider` (default: the primary), as the seed's `LLMClient`: provider, model and bound calls. */
  getLlmClient(provider?: LlmProviderName): ProviderClient {
    this.#assertOpen();
    return providerClient(this.config, this.llm, provider);
  }

  /** The typed query builder over the pool (Groundwork's tables included). */
  get db(): Kysely<DB & GroundworkTables> {
    return this.database.db;
  }

  /**
   * The typed query builder for reads that may be slightly stale: each query runs on a healthy
   * read replica (`DATABASE_REPLICA_URLS`), round robin, at most `DB_REPLICA_MAX_LAG_MS` behind
   * the primary; on the primary when no replica is healthy or none is configured. With replicas
   * configured it refuses writes, on the primary too (each statement runs there in a `READ ONLY`
   * transaction); without, it is {@link Infrastructure.db}. Read your own writes through
   * {@link Infrastructure.db} or `withSession`.
   */
  get dbRead(): Kysely<DB & GroundworkTables> {
    return this.database.dbRead;
  }

  /**
   * Runs `fn` in a transaction: commits when it resolves, rolls back and rethrows when it throws.
   * Nested calls run in savepoints. Options: isolation level, read-only, consistency.
   * `{ readOnly: true }` runs on a healthy read replica when replicas are configured (run again
   * on another, or the primary, if the replica fails under it); add `consistency: 'primary'` to
   * read your own writes.
   */
  withSession<T>(fn: (tx: Transaction<DB & GroundworkTables>) => Promise<T>, options?: SessionOptions): Promise<T> {
    this.#assertOpen();
    return this.database.withSession(fn, options);
  }

  /** The seed's `DatabaseSession`: the current transaction (inside `withSession`) or the pool, and its connection id. */
  getDatabaseSession(): DatabaseSession<DB & GroundworkTables> {
    this.#assertOpen();
    return this.database.getDatabaseSession();
  }

  /**
   * Builds and compiles a query once, for a query shape your module runs many times: `build`
   * gets the query builder and a parameters object whose properties stand for each call's values
   * (type it: `(db, params: { id: number }) => …`). Each `execute(values)` skips Kysely's build and
   * compile, and runs in the current session: the transaction inside `withSession`, the pool outside.
   */
  prepare<P extends object, R>(
    build: (db: Kysely<DB & GroundworkTables>, params: P) => Compilable<R>,
  ): PreparedQuery<DB & GroundworkTables, P, R> {
    this.#assertOpen();
    return this.database.prepare(build);
  }

  /** Applies pending migrations, Groundwork's (the `llm_usage` ledger) and then the application's. */
  initDb(): Promise<MigrationReport> {
    this.#assertOpen();
    return this.database.migrate('up');
  }

  /** Every migration and whether it has run. */
  migrationStatus(): Promise<MigrationState[]> {
    this.#assertOpen();
    return this.database.migrationStatus();
  }

  /** Every configuration error and warning at once. Never throws; never shows a secret. */
  async validateEnvironment(): Promise<EnvironmentStatus> {
    return this.#configSource.validate();
  }

  /**
   * Re-reads secrets (`*_FILE` files and the environment) so keys rotate without a restart;
   * clients, the service's key check and admin check use the new values on their next call.
   * Returns the names that changed. `DATABASE_URL`, `DATABASE_REPLICA_URLS` and `REDIS_URL` are
   * not reloaded (the pools and the Redis client keep their connection settings): a change to them
   * is not returned but logged as a warning, and takes effect at the next start.
   */
  reloadSecrets(): string[] {
    const changed = this.#configSource.reloadSecrets();
    if (changed.length > 0) this.logger.info({ secrets: changed }, 'secrets reloaded');
    const awaitingRestart = this.#configSource.secretsAwaitingRestart();
    if (awaitingRestart.length > 0)
      this.logger.warn({ secrets: awaitingRestart }, `${awaitingRestart.join(', ')} changed; not reloaded: restart to apply`);
    return changed;
  }

  /**
   * Each dependency's status and latency, and the overall `ok | degraded | down`: a required
   * dependency down makes it `down`; an optional one down, or an open breaker, `degraded`.
   * `deep: true` also sends a cheap request to each LLM provider.
   */
  async health(options: HealthOptions = {}): Promise<HealthReport> {
    this.#assertOpen();
    return runHealthChecks([{ name: 'config', required: true, check: async () => ({ status: 'ok' }) }, ...this.#checks], options);
  }

  /** @internal Registers a dependency's health check. */
  registerHealthCheck(check: HealthCheck): void {
    this.#checks.push(check);
  }

  /** @internal Registers something to close on {@link Infrastructure.close}. */
  registerCloseable(closeable: Closeable): void {
    this.#closeables.push(closeable);
  }

  /**
   * @internal Registers something that only the database and Redis outlive: it is closed after
   * everything else (the LLM clients, whose calls in flight settle on it, included), however late
   * it was opened, and before those stores.
   */
  registerStoreUser(closeable: Closeable): void {
    const stores = this.#closeables.findLastIndex((entry) => entry.name === 'database' || entry.name === 'redis');
    this.#closeables.splice(stores + 1, 0, closeable);
  }

  /** Whether {@link Infrastructure.close} has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Drains in-flight work and closes every pool and connection, last opened first. Idempotent:
   * later calls return the same promise. Failures are logged and the rest still close.
   *
   * The job workers stop first: running jobs get 10 s to finish, during which their own calls
   * through this instance (prompts, sessions, tenants, jobs) still work; every other call is
   * refused from the moment `close()` is called.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  async #closeAll(): Promise<void> {
    const jobs = this.#jobs;
    if (jobs !== undefined) {
      this.#draining = true;
      await this.#closeOne({ name: 'jobs', close: () => jobs.close() });
      this.#draining = false;
    }
    for (const closeable of [...this.#closeables].reverse()) await this.#closeOne(closeable);
    this.logger.flush?.();
  }

  async #closeOne(closeable: Closeable): Promise<void> {
    try {
      await closeable.close();
    } catch (error) {
      this.logger.error(
        { err: error, component: closeable.name },
        `closing ${closeable.name} failed: ${scrubSecrets((error as Error).message)}`,
      );
    }
  }

  #assertOpen(): void {
    if (this.#closing === undefined) return;
    if (this.#draining && this.#jobs !== undefined && currentJobQueue() === this.#jobs) return;
    throw new Error('This Groundwork instance is closed; create a new one with createInfrastructure()');
  }
}

/** Whether an embedding input is one token array rather than a list of inputs. */
function isTokenArray(input: EmbeddingInput | readonly EmbeddingInput[]): input is readonly number[] {
  return Array.isArray(input) && input.length > 0 && typeof input[0] === 'number';
}
