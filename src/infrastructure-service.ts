import type { AppConfig } from './config/app-config.js';
import type { EnvironmentStatus } from './config/load-config.js';
import { createInfrastructure, type Infrastructure, type InfrastructureOptions } from './infrastructure.js';
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
