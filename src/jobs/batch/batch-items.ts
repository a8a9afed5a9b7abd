import type { LlmProviderName } from '../../config/variables.js';
import type { PriceBook } from '../../llm/pricing.js';
import { parseStructured } from '../../llm/structured-output.js';
import type { UsageRecord } from '../../llm/usage-record.js';
import { scrubSecrets } from '../../observability/redact.js';
import type { AnyPrompt } from '../job-types.js';
import type { BatchProvider, ProviderBatchItem, ProviderBatchOutcome } from './batch-provider.js';
import { indexOfCustomId } from './batch-requests.js';
import type { BatchItem, BatchSpec } from './batch-types.js';

/** The items of an ended batch, in order, and one ledger row per item. */
export interface BatchOutcome {
  items: BatchItem[];
  usage: UsageRecord[];
}

/**
 * Turns the provider's results into one item per context: the answer parsed (and, with a schema,
 * validated) as `executePrompt` does, or the provider's error; an item the provider reported
 * nothing for gets an error named after how the batch ended. Every item gets one ledger row at
 * batch prices (operation `batch`), zero tokens when it has no answer.
 */
export function batchOutcome(options: {
  spec: BatchSpec;
  prompt: AnyPrompt;
  provider: BatchProvider;
  results: readonly ProviderBatchItem[];
  outcome: ProviderBatchOutcome;
  /** Why the batch failed as a whole, when it did. */
  batchError?: string;
  prices: PriceBook;
  now: Date;
  latencyMs: number;
}): BatchOutcome {
  const { spec, prompt, provider, prices } = options;
  const byIndex = new Map<number, ProviderBatchItem>();
  for (const result of options.results) {
    const index = indexOfCustomId(result.customId);
    if (index !== undefined && index < spec.ids.length && !byIndex.has(index)) byIndex.set(index, result);
  }
  const items: BatchItem[] = [];
  const usage: UsageRecord[] = [];
  const row = (
    model: string,
    outcome: string,
    tokens: { promptTokens: number; completionTokens: number; cachedPromptTokens?: number; reasoningTokens?: number },
    costUsd: number,
    requestId: string | null,
  ): UsageRecord => ({
    createdAt: options.now,
    operation: 'batch',
    provider: spec.provider as LlmProviderName,
    model,
    promptName: spec.prompt.name,
    promptVersion: spec.prompt.version,
    promptTokens: tokens.promptTokens,
    completionTokens: tokens.completionTokens,
    totalTokens: tokens.promptTokens + tokens.completionTokens,
    cachedPromptTokens: tokens.cachedPromptTokens ?? 0,
    reasoningTokens: tokens.reasoningTokens ?? 0,
    costUsd,
    latencyMs: options.latencyMs,
    outcome,
    cacheHit: false,
    attempts: 1,
    requestId,
    keyId: spec.attribution?.keyId ?? null,
    teamId: spec.attribution?.teamId ?? null,
  });
  spec.ids.forEach((id, index) => {
    const result = byIndex.get(index);
    if (result === undefined) {
      const [code, message] = missingResult(options.outcome, options.batchError);
      items.push({ index, id, ok: false, error: { code, message } });
      usage.push(row(spec.model, code, { promptTokens: 0, completionTokens: 0 }, 0, null));
      return;
    }
    if (!result.ok) {
      items.push({ index, id, ok: false, error: { code: result.code, message: scrubSecrets(result.error) } });
      usage.push(row(spec.model, result.code, { promptTokens: 0, completionTokens: 0 }, 0, null));
      return;
    }
    let completion: ReturnType<BatchProvider['completion']>;
    try {
      completion = provider.completion(result.body, spec.model, spec.answerTool);
    } catch (error) {
      const message = `the provider's answer could not be read: ${(error as Error).message}`;
      items.push({ index, id, ok: false, error: { code: 'malformed_response', message } });
      usage.push(row(spec.model, 'malformed_response', { promptTokens: 0, completionTokens: 0 }, 0, result.requestId ?? null));
      return;
    }
    const tokens = completion.usage;
    const costUsd = prices.batchCost(completion.model, tokens);
    const itemUsage = {
      promptTokens: tokens.promptTokens,
      completionTokens: tokens.completionTokens,
      totalTokens: tokens.totalTokens,
      costUsd,
    };
    const base = { index, id, content: completion.content, finishReason: completion.finishReason, usage: itemUsage };
    let outcome = 'success';
    if (prompt.schema !== undefined) {
      const parsed = parseStructured(completion.content, prompt.schema);
      if (parsed.ok) items.push({ ...base, ok: true, data: parsed.data });
      else {
        outcome = 'invalid_output';
        items.push({ ...base, ok: false, error: { code: 'invalid_output', message: `the answer ${parsed.problem}` } });
      }
    } else {
      items.push({ ...base, ok: true });
    }
    usage.push(row(completion.model, outcome, tokens, costUsd, result.requestId ?? completion.requestId ?? null));
  });
  return { items, usage };
}

/** The error of an item the provider reported nothing for, named after how the batch ended. */
function missingResult(outcome: ProviderBatchOutcome, batchError: string | undefined): [string, string] {
  if (outcome === 'expired') return ['batch_expired', 'the batch expired before this item ran'];
  if (outcome === 'cancelled') return ['batch_cancelled', 'the batch was cancelled before this item ran'];
  if (outcome === 'failed') return ['batch_failed', `the batch failed as a whole: ${batchError ?? 'no reason given'}`];
  return ['batch_missing_result', 'the provider reported no result for this item although the batch completed'];
}
