/**
 * Groundwork: the infrastructure an LLM-backed TypeScript application stands on —
 * configuration, database sessions, resilient LLM calls, caching, logs, metrics and health.
 *
 * @example
 * ```ts
 * import { createInfrastructure } from 'groundwork';
 * const infra = await createInfrastructure();
 * const report = await infra.health();
 * await infra.close();
 * ```
 * @packageDocumentation
 */

export type { AppConfig } from './config/app-config.js';
export { ConfigSource, type EnvironmentStatus, loadConfig, validateEnvironment } from './config/load-config.js';
export { Secret } from './config/secret.js';
export * from './errors/index.js';
export { createInfrastructure, Infrastructure, type InfrastructureOptions } from './infrastructure.js';
export { InfrastructureService } from './infrastructure-service.js';
export type { DependencyHealth, HealthReport, HealthStatus } from './observability/health.js';
export type { Logger } from './observability/logger.js';
