import type { AppConfig } from './config/app-config.js';
import { ConfigSource, type ConfigSourceOptions, type EnvironmentStatus } from './config/load-config.js';
import type { Clock } from './internal/clock.js';
import { systemClock } from './internal/clock.js';
import { type HealthCheck, type HealthOptions, type HealthReport, runHealthChecks } from './observability/health.js';
import { createLogger, type Logger } from './observability/logger.js';
import { scrubSecrets } from './observability/redact.js';

/** Everything {@link createInfrastructure} accepts; all optional. Everything is injectable for tests. */
export interface InfrastructureOptions extends ConfigSourceOptions {
  /** A ready configuration source (tests); otherwise one is built from the other options. */
  configSource?: ConfigSource;
  /** A logger to use instead of the one built from `LOG_LEVEL` and `LOG_FORMAT`. */
  logger?: Logger;
  /** The clock every policy uses. @default the system clock */
  clock?: Clock;
}

/** Something the facade closes on `close()`, last opened first. */
export interface Closeable {
  readonly name: string;
  close(): Promise<void>;
}

/**
 * One application's infrastructure: configuration, logging, health, and — as each capability
 * is wired — database sessions and LLM calls. Create it with {@link createInfrastructure}.
 */
export class Infrastructure {
  /** The validated, frozen configuration. Secrets print as `[redacted]`. */
  readonly config: AppConfig;
  /** The root logger; capabilities log through `logger.child({ component })`. */
  readonly logger: Logger;
  /** The clock every policy uses. */
  readonly clock: Clock;
  readonly #configSource: ConfigSource;
  readonly #checks: HealthCheck[] = [];
  readonly #closeables: Closeable[] = [];
  #closing: Promise<void> | undefined;

  /** @internal Use {@link createInfrastructure}. */
  constructor(configSource: ConfigSource, options: InfrastructureOptions = {}) {
    this.#configSource = configSource;
    this.config = configSource.load();
    this.logger = options.logger ?? createLogger(this.config.logging);
    this.clock = options.clock ?? systemClock;
  }

  /** Every configuration error and warning at once. Never throws; never shows a secret. */
  async validateEnvironment(): Promise<EnvironmentStatus> {
    return this.#configSource.validate();
  }

  /**
   * Re-reads secrets (`*_FILE` files and the environment) so keys rotate without a restart;
   * clients use the new values on their next call. Returns the names that changed.
   */
  reloadSecrets(): string[] {
    const changed = this.#configSource.reloadSecrets();
    if (changed.length > 0) this.logger.info({ secrets: changed }, 'secrets reloaded');
    return changed;
  }

  /** Each dependency's status and latency, and the overall `ok | degraded | down`. */
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

  /** Whether {@link Infrastructure.close} has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Drains in-flight work and closes every pool and connection, last opened first. Idempotent:
   * later calls return the same promise. Failures are logged and the rest still close.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  async #closeAll(): Promise<void> {
    for (const closeable of [...this.#closeables].reverse()) {
      try {
        await closeable.close();
      } catch (error) {
        this.logger.error(
          { err: error, component: closeable.name },
          `closing ${closeable.name} failed: ${scrubSecrets((error as Error).message)}`,
        );
      }
    }
    this.logger.flush?.();
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new Error('This Groundwork instance is closed; create a new one with createInfrastructure()');
  }
}

/**
 * Reads and validates configuration (environment over `.env`), then opens what it describes.
 * Throws `ConfigError` naming every invalid variable at once.
 */
export async function createInfrastructure(options: InfrastructureOptions = {}): Promise<Infrastructure> {
  const source = options.configSource ?? new ConfigSource(options);
  return new Infrastructure(source, options);
}
