import type { AnySession } from '../job-engine.js';
import type { BatchProviderName } from './batch-provider.js';

/**
 * Where a batch is: `submitting` (its lines not yet accepted by the provider), `in_progress` (the
 * provider has it), or ended: `completed`, `failed` (the provider refused the batch as a whole, or
 * submitting or polling failed for good), `expired` (the provider's window passed first; finished
 * items have their answers, the others an error), `cancelled` (likewise).
 */
export type BatchState = 'submitting' | 'in_progress' | 'completed' | 'failed' | 'expired' | 'cancelled';

/** The states a batch ends in. */
export const BATCH_END_STATES: readonly BatchState[] = ['completed', 'failed', 'expired', 'cancelled'];

/** One item's outcome: its answer, or its error; never both, never neither. */
export interface BatchItem<Output = unknown> {
  /** The item's position in the `contexts` given to `enqueueBatch`. */
  readonly index: number;
  /** The caller's id for it (`options.ids`), else its index as text. */
  readonly id: string;
  readonly ok: boolean;
  /** The answer's text (also kept when a structured answer failed its schema). */
  readonly content?: string;
  /** The structured answer, parsed and validated with the prompt's schema. */
  readonly data?: Output;
  readonly finishReason?: string;
  /** Tokens and cost at batch prices, when the provider answered. */
  readonly usage?: {
    readonly promptTokens: number;
    readonly completionTokens: number;
    readonly totalTokens: number;
    readonly costUsd: number;
  };
  /** Why it has no answer: the provider's error code and message, `batch_expired`, `batch_cancelled`, `invalid_output`… */
  readonly error?: { readonly code: string; readonly message: string };
}

/** A batch as `getBatch`, `waitBatch` and `listBatches` see it. */
export interface BatchSnapshot<Output = unknown> {
  /** The batch's id in Groundwork (the id of the job that submits it). */
  readonly id: string;
  readonly provider: BatchProviderName;
  readonly model: string;
  readonly prompt: { readonly name: string; readonly version: string };
  readonly state: BatchState;
  /** The provider's id for it, once submitted. */
  readonly providerBatchId: string | undefined;
  /** The provider's own status word at the last poll (`validating`, `finalizing`, `canceling`…). */
  readonly providerStatus: string | undefined;
  readonly total: number;
  /** Items answered and items failed, as of the last poll. */
  readonly counts: { readonly succeeded: number; readonly failed: number };
  readonly createdAt: Date;
  /** When Groundwork saw it end. */
  readonly endedAt: Date | undefined;
  /** Why the batch failed as a whole. */
  readonly error: string | undefined;
  /** Every item, in order, once the batch has ended (undefined before). */
  readonly items: ReadonlyArray<BatchItem<Output>> | undefined;
}

/** Options of `enqueueBatch`. */
export interface EnqueueBatchOptions {
  /** An id per context, in the same order (unique, non-empty); results carry them. @default the index */
  ids?: readonly string[];
  /** The provider whose Batch API runs it. @default the configured provider */
  provider?: BatchProviderName;
  /** @default the provider's configured model (Azure: the deployment, which must be a Global Batch one) */
  model?: string;
  /** The virtual key (name or id) the items' ledger rows are attributed to. */
  tenant?: string;
  /** How often the provider's batch is polled, in ms. @default 60000 */
  pollIntervalMs?: number;
  /** The same key enqueues one batch: later calls return the first one's id. */
  idempotencyKey?: string;
  /** The transaction to enqueue in (inside `withSession`, the current one is used). */
  tx?: AnySession;
}

/** What the submit step and each poll step carry (the job's payload). */
export interface BatchStepPayload {
  readonly batch: string;
  readonly step: number;
  /**
   * The submit's spec whole; a poll's without `ids` (up to 50,000, read from the submit's spec when
   * the batch ends), though polls queued by earlier versions carry them.
   */
  readonly spec: Omit<BatchSpec, 'ids'> & { readonly ids?: readonly string[] };
  readonly providerBatchId?: string;
  /** The submit step only: each line's custom id and wire body. */
  readonly lines?: ReadonlyArray<{ readonly customId: string; readonly body: unknown }>;
}

/** What a batch is, fixed at enqueue. */
export interface BatchSpec {
  readonly provider: BatchProviderName;
  readonly model: string;
  readonly prompt: { readonly name: string; readonly version: string };
  readonly ids: readonly string[];
  readonly pollIntervalMs: number;
  readonly attribution?: { readonly keyId: string; readonly teamId: string | null };
  /** The tenant's budget reservation, settled when the batch ends (none when no budget applies). */
  readonly budget?: { readonly id: string; readonly counters: readonly string[]; readonly reservedUsd: number };
  readonly answerTool?: string;
  /** Unix ms. */
  readonly createdAt: number;
}

/** What each step leaves as its job's result. */
export interface BatchStepResult {
  readonly batch: string;
  readonly state: BatchState;
  readonly providerBatchId?: string;
  readonly providerStatus?: string;
  readonly counts: { readonly succeeded: number; readonly failed: number };
  readonly error?: string;
  readonly items?: BatchItem[];
  /** Unix ms. */
  readonly endedAt?: number;
}
