import type { ChatCompletion, ChatRequest } from '../../llm/types.js';

/** The providers with a Batch API Groundwork speaks. */
export type BatchProviderName = 'openai' | 'azure' | 'anthropic';

/** One request of a batch: its id in the batch and its wire body. */
export interface BatchLine {
  readonly customId: string;
  readonly body: unknown;
}

/** How a batch ended at the provider. */
export type ProviderBatchOutcome = 'completed' | 'failed' | 'expired' | 'cancelled';

/** A batch as the provider reports it. */
export interface ProviderBatchStatus {
  readonly id: string;
  /** `in_progress` until the provider ends it (validating, finalizing and cancelling included). */
  readonly state: 'in_progress' | 'ended';
  /** Set once ended. */
  readonly outcome?: ProviderBatchOutcome;
  /** The provider's own status word (`validating`, `finalizing`, `canceling`…). */
  readonly providerStatus: string;
  readonly counts: { readonly total: number; readonly succeeded: number; readonly errored: number };
  /** Why a batch failed as a whole (OpenAI's `errors`). */
  readonly error?: string;
  /** Where the results are: OpenAI's output and error file ids, Anthropic's `results_url`. */
  readonly results: { readonly outputFileId?: string; readonly errorFileId?: string; readonly resultsUrl?: string };
}

/** One request's result as the provider reports it: its answer body, or its error. */
export type ProviderBatchItem =
  | { readonly customId: string; readonly ok: true; readonly body: unknown; readonly requestId?: string }
  | { readonly customId: string; readonly ok: false; readonly code: string; readonly error: string };

/**
 * A provider's Batch API: turn a request into a line, submit the lines, read the batch's status,
 * its per-request results, cancel it. One implementation per wire (OpenAI and Azure share one).
 */
export interface BatchProvider {
  readonly name: BatchProviderName;
  /** The model (Azure: the deployment) a request without one goes to. */
  readonly defaultModel: string;
  /** The wire body of `request` (what the live endpoint would be sent, without `stream`). */
  body(request: ChatRequest, model: string): unknown;
  /** The name of the tool a structured answer comes back in (Anthropic), recorded at enqueue. */
  answerTool(request: ChatRequest): string | undefined;
  /** Uploads and creates the batch; resolves with the provider's batch id. */
  submit(lines: readonly BatchLine[], metadata: Record<string, string>, signal: AbortSignal): Promise<string>;
  /**
   * The id of a batch submitted earlier with `metadata.groundwork_batch` set to `batch` and
   * created at `sinceMs` (epoch ms) or later, if the provider has one: a submit whose answer was
   * lost (the worker died, the connection broke) left it there. Undefined when there is none, or
   * when the wire keeps no such marker (Anthropic's Message Batches carry no metadata).
   */
  findSubmitted(batch: string, sinceMs: number, signal: AbortSignal): Promise<string | undefined>;
  /** Whether {@link BatchProvider.findSubmitted} can find a batch at all (false: the wire keeps no marker, so it finds none). */
  readonly findsSubmitted: boolean;
  status(id: string, signal: AbortSignal): Promise<ProviderBatchStatus>;
  /** Every result the provider has for an ended batch (output and error files, or the results JSONL). */
  results(status: ProviderBatchStatus, signal: AbortSignal): Promise<ProviderBatchItem[]>;
  cancel(id: string, signal: AbortSignal): Promise<void>;
  /** Maps a successful item's answer body to Groundwork's completion. */
  completion(body: unknown, model: string, answerTool: string | undefined): ChatCompletion;
  close(): Promise<void>;
}

/** Splits JSON Lines text into parsed values, skipping blank lines. */
export function parseJsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}
