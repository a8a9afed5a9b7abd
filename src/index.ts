/**
 * Groundwork: the infrastructure an LLM-backed TypeScript application stands on —
 * configuration, database sessions, resilient LLM calls, caching, logs, metrics and health.
 *
 * @example
 * ```ts
 * import { createInfrastructure, definePrompt } from 'groundwork';
 * import { z } from 'zod';
 *
 * const infra = await createInfrastructure();
 * await infra.initDb();
 * const greet = definePrompt({ name: 'greet', version: 1, template: 'Say hello to {{name}}.', schema: z.object({ greeting: z.string() }) });
 * const { data, usage } = await infra.executePrompt(greet, { name: 'Ada' });
 * await infra.close();
 * ```
 * @packageDocumentation
 */

/** The query builder's own names, so applications need no direct import of it for migrations and raw SQL. */
export type { Kysely, Migration, Transaction } from 'kysely';
export type { CacheOption } from './cache/resolve-cache-mode.js';
export type { JobsModule } from './cli/commands/jobs.js';
export type { AppConfig } from './config/app-config.js';
export { ConfigSource, type ConfigSourceOptions, type EnvironmentStatus, loadConfig, validateEnvironment } from './config/load-config.js';
export { Secret } from './config/secret.js';
export type { LlmProviderName } from './config/variables.js';
export { createInfrastructure } from './create-infrastructure.js';
export { ConnectionLostError } from './db/connection-lost-error.js';
export type { Database, DatabaseSession, SessionOptions } from './db/database.js';
export type { GroundworkTables, LlmUsageTable } from './db/groundwork-tables.js';
export type { MigrationReport, MigrationState } from './db/migrations/migration-runner.js';
export type { AppMigrations } from './db/migrations/migration-source.js';
export type { PoolStats } from './db/pool-stats.js';
export { PoolTimeoutError } from './db/pool-timeout-error.js';
export type { PreparedQuery } from './db/prepared-query.js';
export { PreparedQueryError } from './db/prepared-query-error.js';
export { sql } from './db/sql.js';
export { TransactionAbortedError } from './db/transaction-aborted-error.js';
export * from './errors/index.js';
export { Infrastructure, type InfrastructureOptions, type TenantCallOptions } from './infrastructure.js';
export { InfrastructureService, type InfrastructureServiceApi } from './infrastructure-service.js';
export type { Clock } from './internal/clock.js';
export { BatchNotFoundError, BatchProviderError, BatchUnsupportedError } from './jobs/batch/batch-errors.js';
export type { BatchProviderName } from './jobs/batch/batch-provider.js';
export type { BatchItem, BatchSnapshot, BatchState, EnqueueBatchOptions } from './jobs/batch/batch-types.js';
export {
  JobCancelledError,
  JobFailedError,
  JobHandlerMissingError,
  JobInputError,
  JobNotFoundError,
  JobTimeoutError,
} from './jobs/job-errors.js';
export type {
  EnqueueOptions,
  JobContext,
  JobHandler,
  JobRetryOptions,
  JobSnapshot,
  JobState,
  ListJobsOptions,
  PromptJobResult,
  QueueStatus,
  WorkOptions,
} from './jobs/job-types.js';
export type { Jobs, JobWorkerHandle } from './jobs/jobs.js';
export type { AttemptRecord } from './llm/call-pipeline.js';
export {
  EmbeddingDimensionsMismatchError,
  type EmbeddingInput,
  EmbeddingsUnsupportedError,
  type EmbeddingUsage,
  type EmbedOptions,
  type EmbedResult,
  FixedEmbeddingLengthError,
  type VectorFormat,
} from './llm/embeddings/index.js';
export { isLlmUnavailable } from './llm/is-llm-unavailable.js';
export type {
  LlmCallOptions,
  LlmClient,
  LlmCompleteRequest,
  LlmResponse,
  LlmResponseMetadata,
  LlmStreamEvent,
  LlmStreamStart,
  LlmUsage,
  ToolResultEvent,
} from './llm/llm-client-types.js';
export {
  LlmClientClosedError,
  LlmRefusalError,
  LlmRequestError,
  PromptVariableError,
  StructuredOutputError,
} from './llm/llm-errors.js';
export { definePrompt, type Prompt, type PromptContext } from './llm/prompt.js';
export { listPrompts } from './llm/prompt-registry.js';
export type { PromptValue, TemplateVariables } from './llm/prompt-template.js';
export type { ProviderClient } from './llm/provider-client.js';
export type { AzureTokenProvider } from './llm/providers/azure/azure-provider.js';
// From their own files, not the responses barrel: it reaches the provider adapters and their SDKs,
// which `createInfrastructure` loads, not the package's import.
export type { RespondOptions } from './llm/responses/respond-options.js';
export type { ResponseInputItemsQuery } from './llm/responses/response-input-items-query.js';
export { ResponseNotFoundError } from './llm/responses/response-not-found-error.js';
export { ResponsesCacheUnsupportedError } from './llm/responses/responses-cache-unsupported-error.js';
export { ResponsesGroupStatefulError, type StatefulResponsesField } from './llm/responses/responses-group-stateful-error.js';
export { ResponsesGroupUnsupportedError } from './llm/responses/responses-group-unsupported-error.js';
export type { ResponseObject, ResponseStreamEvent, ResponsesBody, ResponsesResult } from './llm/responses/responses-types.js';
export { ResponsesUnsupportedError } from './llm/responses/responses-unsupported-error.js';
export type {
  ListResponseInputItemsOptions,
  RetrieveResponseOptions,
  StoredResponseOptions,
} from './llm/responses/retrieve-response-options.js';
export type { RetrievalFailure } from './llm/responses/retrieve-stored-response.js';
export type { DeletedResponse, ResponseItemList } from './llm/responses/stored-response-operation.js';
export { defineTool, type Tool, type ToolContext, type ToolSet } from './llm/tools/tool.js';
export type {
  AnswerImagePart,
  ChatChoice,
  ChatCompletion,
  ChatMessage,
  ChatRequest,
  ContentPart,
  FinishReason,
  FunctionTool,
  LlmProvider,
  LogprobsDelta,
  ReasoningBlock,
  ReasoningDelta,
  RefusalDelta,
  TextDelta,
  TokenUsage,
  ToolCall,
  ToolCallDelta,
  ToolChoice,
} from './llm/types.js';
export { UnsupportedFieldsError } from './llm/unsupported-fields-error.js';
export type { UsageAttribution } from './llm/usage-record.js';
export type { DependencyHealth, HealthCheck, HealthOptions, HealthReport, HealthStatus } from './observability/health.js';
export type { Logger } from './observability/logger.js';
export { GroundworkMetrics } from './observability/metrics.js';
export {
  CircuitOpenError,
  DeadlineExceededError,
  QueueFullError,
  QueueTimeoutError,
  RateLimitExceededError,
  RetryAfterTooLongError,
} from './resilience/errors.js';
export { type LoadRoutesOptions, loadRoutes } from './routing/load-routes.js';
export { NoDeploymentAvailableError } from './routing/no-deployment-error.js';
export {
  type DeploymentConfig,
  type ModelGroupConfig,
  ROUTING_STRATEGIES,
  type RoutesConfig,
  type RoutingStrategyName,
} from './routing/routes-config.js';
export type { TenantServices } from './tenants/create-tenant-services.js';
export type { Team } from './tenants/team.js';
export { TenantConflictError, TenantInputError, TenantNotFoundError } from './tenants/tenant-errors.js';
export {
  BudgetExceededError,
  KeyRefusedError,
  ModelNotAllowedError,
  ModelNotPricedError,
  TenantLimitError,
} from './tenants/tenant-refusals.js';
export type { TenantSettings } from './tenants/tenant-settings.js';
export type { KeyStatus, VirtualKey } from './tenants/virtual-key.js';
