import type { Transaction } from 'kysely';
import type { AppConfig } from './config/app-config.js';
import type { EnvironmentStatus } from './config/load-config.js';
import type { LlmProviderName } from './config/variables.js';
import { createInfrastructure } from './create-infrastructure.js';
import type { DatabaseSession, SessionOptions } from './db/database.js';
import type { GroundworkTables } from './db/groundwork-tables.js';
import type { MigrationReport, MigrationState } from './db/migrations/migration-runner.js';
import type { Infrastructure, InfrastructureOptions, TenantCallOptions } from './infrastructure.js';
import type { EmbedOptions, VectorFormat } from './llm/embeddings/embed-options.js';
import type { EmbedResult } from './llm/embeddings/embed-result.js';
import type { EmbeddingInput } from './llm/embeddings/embedding-request.js';
import type { LlmResponse, LlmStreamEvent } from './llm/llm-client-types.js';
import type { Prompt, PromptContext } from './llm/prompt.js';
import type { ProviderClient } from './llm/provider-client.js';
import type { HealthOptions, HealthReport } from './observability/health.js';

let instance: Promise<Infrastructure<unknown>> | undefined;
let defaultOptions: InfrastructureOptions = {};

/**
 * {@link InfrastructureService}'s methods, typed for the application's tables `DB`: what
 * `InfrastructureService.typed<DB>()` returns, so that `tx.insertInto('notes')` type-checks.
 */
export interface InfrastructureServiceApi<DB> {
  /** The default instance, created on first use. */
  instance(): Promise<Infrastructure<DB>>;
  /** The application configuration. */
  getConfig(): Promise<AppConfig>;
  /** The current transaction (inside `withSession`) or the pool, and its connection id. */
  getDatabaseSession(): Promise<DatabaseSession<DB & GroundworkTables>>;
  /** Runs `fn` in a transaction: commit on success, rollback on error. */
  withSession<T>(fn: (tx: Transaction<DB & GroundworkTables>) => Promise<T>, options?: SessionOptions): Promise<T>;
  /** Applies pending migrations, Groundwork's and the application's. */
  initDb(): Promise<MigrationReport>;
  /** The configured client for a provider (default: the primary). */
  getLlmClient(provider?: LlmProviderName): Promise<ProviderClient>;
  /** Renders `prompt` with `context` and runs it on the configured provider. */
  executePrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: TenantCallOptions,
  ): Promise<LlmResponse<Output>>;
  /** Runs `prompt` streamed: text deltas, then the whole response with usage. */
  streamPrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: TenantCallOptions,
  ): AsyncIterable<LlmStreamEvent<Output>>;
  /** Embeds one text or many: one vector per input, in input order, through the cache, limits and ledger. */
  embed<F extends VectorFormat = 'float32'>(
    input: EmbeddingInput | readonly EmbeddingInput[],
    options?: EmbedOptions<F> & { tenant?: string },
  ): Promise<EmbedResult<F>>;
  /** Every migration, Groundwork's and the application's, and whether it has run. */
  migrationStatus(): Promise<MigrationState[]>;
  /** Every configuration problem at once. */
  validateEnvironment(): Promise<EnvironmentStatus>;
  /** Each dependency's status and latency. */
  health(options?: HealthOptions): Promise<HealthReport>;
  /** Drains in-flight work and closes the default instance; the next call creates a new one. */
  close(): Promise<void>;
}

/**
 * The facade as static methods over one lazily created default {@link Infrastructure}, for code
 * that wants one process-wide entry point. Prefer `createInfrastructure()` and passing the
 * instance where you can.
 *
 * The static methods know only Groundwork's tables; for the application's, use the typed view:
 *
 * ```ts
 * const service = InfrastructureService.typed<AppTables>();
 * await service.withSession((tx) => tx.insertInto('notes').values({ body: 'hi' }).execute());
 * ```
 */
export class InfrastructureService {
  private constructor() {}

  /** Sets the options the default instance is created with. Call before first use. */
  static configure(options: InfrastructureOptions): void {
    if (instance !== undefined)
      throw new Error('InfrastructureService is already initialised; call configure() before first use, or close() first');
    defaultOptions = options;
  }

  /** The same methods, typed for the application's tables `DB`. */
  static typed<DB>(): InfrastructureServiceApi<DB> {
    return InfrastructureService as unknown as InfrastructureServiceApi<DB>;
  }

  /** The default instance, created on first use. */
  static instance<DB = Record<never, never>>(): Promise<Infrastructure<DB>> {
    if (instance === undefined) {
      const opening: Promise<Infrastructure<unknown>> = createInfrastructure<unknown>(defaultOptions).catch((error: unknown) => {
        // Forgotten only if still the default: after close(), a newer one may have taken its place.
        if (instance === opening) instance = undefined;
        throw error;
      });
      instance = opening;
    }
    return instance as Promise<Infrastructure<DB>>;
  }

  /** The application configuration. */
  static async getConfig(): Promise<AppConfig> {
    return (await InfrastructureService.instance()).config;
  }

  /** The current transaction (inside `withSession`) or the pool, and its connection id. */
  static async getDatabaseSession(): Promise<DatabaseSession<GroundworkTables>> {
    return (await InfrastructureService.instance()).getDatabaseSession();
  }

  /** Runs `fn` in a transaction: commit on success, rollback on error. */
  static async withSession<T>(fn: (tx: Transaction<GroundworkTables>) => Promise<T>, options?: SessionOptions): Promise<T> {
    return (await InfrastructureService.instance()).withSession(fn, options);
  }

  /** Applies pending migrations, Groundwork's (the `llm_usage` ledger) and then the application's. */
  static async initDb(): Promise<MigrationReport> {
    return (await InfrastructureService.instance()).initDb();
  }

  /** The configured client for a provider (default: the primary). */
  static async getLlmClient(provider?: LlmProviderName): Promise<ProviderClient> {
    return (await InfrastructureService.instance()).getLlmClient(provider);
  }

  /** Renders `prompt` with `context` and runs it on the configured provider (and its fallbacks). */
  static async executePrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: TenantCallOptions,
  ): Promise<LlmResponse<Output>> {
    return (await InfrastructureService.instance()).executePrompt(prompt, context, options);
  }

  /** Runs `prompt` streamed: text deltas, then the whole response with usage. A stream cut short throws. */
  static async *streamPrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: TenantCallOptions,
  ): AsyncGenerator<LlmStreamEvent<Output>, void, undefined> {
    yield* (await InfrastructureService.instance()).streamPrompt(prompt, context, options);
  }

  /**
   * Embeds one text or many (or token arrays): one vector per input, in input order. Inputs already
   * embedded come from the cache; the rest go through the same limits, retries, breaker and ledger as chat.
   */
  static async embed<F extends VectorFormat = 'float32'>(
    input: EmbeddingInput | readonly EmbeddingInput[],
    options?: EmbedOptions<F> & { tenant?: string },
  ): Promise<EmbedResult<F>> {
    return (await InfrastructureService.instance()).embed(input, options);
  }

  /** Every migration, Groundwork's and the application's, and whether it has run. */
  static async migrationStatus(): Promise<MigrationState[]> {
    return (await InfrastructureService.instance()).migrationStatus();
  }

  /** Every configuration problem at once. */
  static async validateEnvironment(): Promise<EnvironmentStatus> {
    return (await InfrastructureService.instance()).validateEnvironment();
  }

  /** Each dependency's status and latency. */
  static async health(options?: HealthOptions): Promise<HealthReport> {
    return (await InfrastructureService.instance()).health(options);
  }

  /**
   * Drains in-flight work and closes the default instance; the next call creates a new one with the same options.
   * An instance that failed to open has nothing to close: its error went to the calls that asked for it.
   */
  static async close(): Promise<void> {
    const current = instance;
    instance = undefined;
    if (current === undefined) return;
    const opened = await current.catch(() => undefined);
    await opened?.close();
  }

  /** Closes the default instance and forgets the configured options. */
  static async reset(): Promise<void> {
    await InfrastructureService.close();
    defaultOptions = {};
  }
}
