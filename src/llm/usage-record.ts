import type { LlmProviderName } from '../config/variables.js';

/** What kind of LLM call a ledger row, a metric or a span is about (OpenTelemetry's `gen_ai.operation.name`). */
export type LlmOperation = 'chat' | 'embeddings' | 'responses' | 'batch';

/** One row of the `llm_usage` ledger: one call, as the caller saw it. */
export interface UsageRecord {
  /** When the call started. */
  createdAt: Date;
  /**
   * The GenAI operation: `chat` (streamed or not), `embeddings`, `responses` (a forwarded Responses API
   * call), or `batch` (one item of a provider Batch API batch, at batch prices). @default 'chat'
   */
  operation?: LlmOperation;
  provider: LlmProviderName;
  model: string;
  /** The deployment of a model group that answered (see Routing); null for calls not routed through a group. */
  deployment?: string | null | undefined;
  promptName: string | null;
  promptVersion: string | null;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cachedPromptTokens: number;
  reasoningTokens: number;
  costUsd: number;
  latencyMs: number;
  /** `success`, or the error's code. */
  outcome: string;
  cacheHit: boolean;
  attempts: number;
  requestId: string | null;
  /** The virtual key the call was made with; null for static keys and in-process calls without a tenant. */
  keyId?: string | null | undefined;
  /** The team of that key. */
  teamId?: string | null | undefined;
  /** The request's messages as JSON, only with `LLM_LOG_CONTENT=true` (cut at 32 KiB); otherwise left out and never stored. */
  promptText?: string | null | undefined;
  /** The answer's text, only with `LLM_LOG_CONTENT=true` (cut at 32 KiB). */
  answerText?: string | null | undefined;
}

/** Who a call is billed to, for the ledger: the virtual key and its team. */
export interface UsageAttribution {
  keyId: string;
  teamId: string | null;
}

/** Where ledger rows go (the database, in production). Writes a batch or throws. */
export interface UsageSink {
  /** Writes every record or none of them; throws when it wrote none. */
  writeBatch(records: readonly UsageRecord[]): Promise<void>;
  /**
   * Whether an error `writeBatch` threw says the store refused some of the records' values (so the
   * same write without them may succeed), rather than that it could not write at all (unreachable,
   * timed out). The usage ledger (`UsageLedger`) then writes the batch again in halves to find the rows
   * refused, and loses only those. Without it, or when it answers `false`, a failed batch is lost whole.
   */
  isRowRefusal?(error: unknown): boolean;
}
