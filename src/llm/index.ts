/**
 * LLM access (`groundwork/llm`): prompts, the client, providers, pricing and the usage ledger.
 * @module
 */
export type { AttemptInfo, AttemptRecord, AttemptResult, CallOutcome, CallPipeline, CallPlan, CallTarget } from './call-pipeline.js';
export { directPipeline } from './call-pipeline.js';
export { createLlmClient } from './create-llm-client.js';
export * from './embeddings/index.js';
export { estimateRequestTokens } from './estimate-tokens.js';
export type { LlmClientDeps } from './llm-client.js';
export type {
  LlmCallOptions,
  LlmClient,
  LlmCompleteRequest,
  LlmResponse,
  LlmResponseMetadata,
  LlmStreamEvent,
  LlmUsage,
  ToolResultEvent,
} from './llm-client-types.js';
export { LlmClientClosedError, LlmRefusalError, LlmRequestError, PromptVariableError, StructuredOutputError } from './llm-errors.js';
export { type CompletionBase, completionOf } from './model/completion-of.js';
export { messageText } from './model/message-text.js';
export { DEFAULT_PRICES } from './price-table.js';
export { costOf, PriceBook } from './pricing.js';
export { definePrompt, type Prompt, type PromptContext, type PromptDefinition } from './prompt.js';
export { defaultPromptRegistry, listPrompts, PromptRegistry, type RegisteredPrompt } from './prompt-registry.js';
export type { PromptValue, TemplateVariables } from './prompt-template.js';
export { type AnthropicProviderOptions, createAnthropicProvider } from './providers/anthropic/anthropic-provider.js';
export { type AzureProviderOptions, type AzureTokenProvider, createAzureProvider } from './providers/azure/azure-provider.js';
export { type CreateProviderOptions, createProvider, LlmNotConfiguredError, missingProviderSettings } from './providers/create-provider.js';
export { createOpenAiProvider, type OpenAiProviderOptions } from './providers/openai/openai-provider.js';
export {
  createOpenAiCompatibleProvider,
  type OpenAiCompatibleProviderOptions,
} from './providers/openai-compatible/openai-compatible-provider.js';
export * from './responses/index.js';
export { defineTool, type Tool, type ToolContext, type ToolSet } from './tools/tool.js';
export type { GrantedTurn, TurnGate } from './turn-gate.js';
export type * from './types.js';
export { UnsupportedFieldsError } from './unsupported-fields-error.js';
export { UsageLedger, type UsageLedgerOptions } from './usage-ledger.js';
export type { UsageAttribution, UsageRecord, UsageSink } from './usage-record.js';
