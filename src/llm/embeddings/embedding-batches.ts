/** A provider's per-request bounds for embeddings. */
export interface EmbeddingBatchLimits {
  /** Most inputs in one request (OpenAI: 2048). */
  maxInputs: number;
  /** Most tokens in one request, all inputs together (OpenAI: 300 000). */
  maxTokens: number;
}

/** OpenAI's bounds, which Azure and most compatible servers share or exceed. */
export const OPENAI_EMBEDDING_LIMITS: EmbeddingBatchLimits = { maxInputs: 2048, maxTokens: 300_000 };

/** One request's share of a call's inputs: their indexes in the call, and their tokens. */
export interface EmbeddingBatch {
  indexes: number[];
  tokens: number;
}

/**
 * Splits inputs (by index, with their token counts) into consecutive batches within `limits`.
 * An input larger than `maxTokens` alone goes in a batch of its own, for the provider to refuse
 * with its own message (its model's context is the real bound, and smaller).
 */
export function splitIntoBatches(indexes: readonly number[], tokens: readonly number[], limits: EmbeddingBatchLimits): EmbeddingBatch[] {
  const batches: EmbeddingBatch[] = [];
  let current: EmbeddingBatch = { indexes: [], tokens: 0 };
  for (const index of indexes) {
    const count = tokens[index] ?? 0;
    if (current.indexes.length > 0 && (current.indexes.length >= limits.maxInputs || current.tokens + count > limits.maxTokens)) {
      batches.push(current);
      current = { indexes: [], tokens: 0 };
    }
    current.indexes.push(index);
    current.tokens += count;
  }
  if (current.indexes.length > 0) batches.push(current);
  return batches;
}
