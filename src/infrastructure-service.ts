import type { Transaction } from 'kysely';
import type { AppConfig } from './config/app-config.js';
import type { EnvironmentStatus } from './config/load-config.js';
import type { LlmProviderName } from './config/variables.js';
import { createInfrastructure } from './create-infrastructure.js';
import type { DatabaseSession, SessionOptions } from './db/database.js';
import type { GroundworkTables } from './db/groundwork-tables.js';
import type { Infrastructure, InfrastructureOptions } from './infrastructure.js';
import type { LlmCallOptions, LlmResponse } from './llm/llm-client-types.js';
import type { Prompt, PromptContext } from './llm/prompt.js';
import type { ProviderClient } from './llm/provider-client.js';
import type { HealthReport } from './observability/health.js';

let instance: Promise<Infrastructure> | undefined;
let defaultOptions: InfrastructureOptions = {};

/**
 * The seed's static module API over one lazily created default {@link Infrastructure}.
 * Prefer `createInfrastructure()` and passing the instance where you can; this serves code
 * that wants one process-wide entry point.
 */
export class InfrastructureService {
  private constructor() {}

  /** Sets the options the default instance is created with. Call before first use. */
  static configure(options: InfrastructureOptions): void {
    if (instance !== undefined)
      throw new Error('InfrastructureService is already initialised; call configure() before first use or reset() first');
    defaultOptions = options;
  }

  /** The default instance, created on first use. */
  static instance(): Promise<Infrastructure> {
    instance ??= createInfrastructure(defaultOptions).catch((error: unknown) => {
      instance = undefined;
      throw error;
    });
    return instance;
  }

  /** The application configuration. */
  static async getConfig(): Promise<AppConfig> {
    return (await InfrastructureService.instance()).config;
  }

  /** The seed's `get_database_session()`: the current transaction (inside `withSession`) or the pool, and its connection id. */
  static async getDatabaseSession(): Promise<DatabaseSession<GroundworkTables>> {
    return (await InfrastructureService.instance()).getDatabaseSession();
  }

  /** Runs `fn` in a transaction: commit on success, rollback on error. */
  static async withSession<T>(fn: (tx: Transaction<GroundworkTables>) => Promise<T>, options?: SessionOptions): Promise<T> {
    return (await InfrastructureService.instance()).withSession(fn, options);
  }

  /** The seed's `get_llm_client(provider)`: the configured client for a provider (default: the primary). */
  static async getLlmClient(provider?: LlmProviderName): Promise<ProviderClient> {
    return (await InfrastructureService.instance()).getLlmClient(provider);
  }

  /** The seed's `execute_prompt(prompt, context)`. */
  static async executePrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: LlmCallOptions,
  ): Promise<LlmResponse<Output>> {
    return (await InfrastructureService.instance()).executePrompt(prompt, context, options);
  }

  /** Every configuration problem at once. */
  static async validateEnvironment(): Promise<EnvironmentStatus> {
    return (await InfrastructureService.instance()).validateEnvironment();
  }

  /** Each dependency's status and latency. */
  static async health(): Promise<HealthReport> {
    return (await InfrastructureService.instance()).health();
  }

  /** Closes the default instance; the next call creates a new one. */
  static async reset(): Promise<void> {
    const current = instance;
    instance = undefined;
    defaultOptions = {};
    if (current !== undefined) await (await current).close();
  }
}
