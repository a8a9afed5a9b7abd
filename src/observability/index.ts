export {
  type DependencyHealth,
  type HealthCheck,
  type HealthOptions,
  type HealthReport,
  type HealthStatus,
  runHealthChecks,
} from './health.js';
export { KnownModels, OTHER_MODEL } from './known-models.js';
export { type CreateLoggerOptions, createLogger, type Logger, silentLogger } from './logger.js';
export { GroundworkMetrics, LLM_DURATION_BUCKETS, TOKEN_BUCKETS } from './metrics.js';
export { isSecretKey, redactValue, scrubSecrets } from './redact.js';
export {
  GEN_AI,
  genAiProviderName,
  groundworkTracer,
  type LlmSpanOptions,
  recordLlmCompletion,
  TRACER_NAME,
  type TransactionSpanOptions,
  traceLlmCall,
  traceLlmStream,
  traceTransaction,
} from './tracing.js';
