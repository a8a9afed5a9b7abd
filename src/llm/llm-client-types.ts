import type { CacheOption } from '../cache/resolve-cache-mode.js';
import type { LlmProviderName } from '../config/variables.js';
import type { AttemptRecord } from './call-pipeline.js';
import type { Prompt, PromptContext } from './prompt.js';
import type { ChatRequest, FinishReason, LlmProvider, TokenUsage } from './types.js';

/** Tokens of one call and what they cost. A cache hit spent nothing: zero tokens, zero cost. */
export interface LlmUsage extends TokenUsage {
  /** USD, from the price table (0 for unpriced models and cache hits). */
  costUsd: number;
}

/** How a call went. */
export interface LlmResponseMetadata {
  /** The provider and model that answered (a fallback's, when the primary failed). */
  provider: LlmProviderName;
  model: string;
  promptName: string | undefined;
  promptVersion: string | undefined;
  requestId: string | undefined;
  /** Every attempt, retries and fallbacks included (empty for a cache hit). */
  attempts: AttemptRecord[];
  /** Wall time of the whole call, in ms. */
  latencyMs: number;
  finishReason: FinishReason;
  /** Whether the answer came from the response cache. */
  cached: boolean;
}

/** The answer to one call. `data` is the parsed, validated object when the prompt has a schema. */
export interface LlmResponse<T = undefined> {
  content: string;
  data: T;
  metadata: LlmResponseMetadata;
  usage: LlmUsage;
}

/** What `streamPrompt` and `stream` yield: text deltas, then exactly one `done` with the whole response. */
export type LlmStreamEvent<T = undefined> = { type: 'delta'; text: string } | { type: 'done'; response: LlmResponse<T> };

/** Per-call options. */
export interface LlmCallOptions {
  /** Send the call to this provider (no fallbacks), instead of the configured primary and its fallbacks. */
  provider?: LlmProviderName;
  /** The model (for Azure: the deployment) instead of the provider's default. */
  model?: string;
  /** Cancels the call; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** `'use'` (or `true`) caches even a sampled answer, `'bypass'` (or `false`) skips the cache, `'refresh'` stores a fresh answer: the values of the service's cache header. Default: cache temperature 0 only. */
  cache?: CacheOption;
  temperature?: number;
  maxTokens?: number;
  /** Repair requests after an invalid structured answer. @default LLM_STRUCTURED_OUTPUT_REPAIRS */
  repairs?: number;
  /** Cache namespace. @default LLM_CACHE_NAMESPACE */
  namespace?: string;
}

/** A raw chat request for {@link LlmClient.complete}: the model is optional. */
export type LlmCompleteRequest = Omit<ChatRequest, 'model'> & { model?: string };

/**
 * Groundwork's LLM client: every call goes through validation, the response cache, the
 * resilience pipeline, the provider, structured-output validation, and the usage ledger.
 */
export interface LlmClient {
  /** Renders `prompt` with `context` and runs it. */
  executePrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: LlmCallOptions,
  ): Promise<LlmResponse<Output>>;
  /** Runs `prompt` streamed: text deltas, then the whole response. A stream cut short throws. */
  streamPrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: LlmCallOptions,
  ): AsyncIterable<LlmStreamEvent<Output>>;
  /** Runs a raw chat request (the OpenAI-compatible endpoint uses this) on the same path. */
  complete(request: LlmCompleteRequest, options?: LlmCallOptions): Promise<LlmResponse<undefined>>;
  /** Runs a raw chat request streamed. */
  stream(request: LlmCompleteRequest, options?: LlmCallOptions): AsyncIterable<LlmStreamEvent<undefined>>;
  /** The provider adapter for `name` (default: the primary). Throws when it is not configured. */
  getProvider(name?: LlmProviderName): LlmProvider;
  /** Proves the provider answers with its credentials (its models endpoint). */
  ping(name?: LlmProviderName, signal?: AbortSignal): Promise<{ provider: LlmProviderName; latencyMs: number }>;
  /** Writes buffered usage-ledger rows now. */
  flush(): Promise<void>;
  /** Flushes the usage ledger and releases providers. Idempotent. */
  close(): Promise<void>;
}
