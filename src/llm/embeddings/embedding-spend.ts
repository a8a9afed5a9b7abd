/**
 * What an embeddings call had already spent when it failed: the batches its providers answered
 * before a later one failed (their vectors are cached, and the call's ledger row carries the same
 * cost). Zero when nothing was answered.
 */
export interface EmbeddingSpend {
  /** The answered batches' cost, as the ledger row records it. */
  costUsd: number;
  /** Tokens the answered batches sent to providers. */
  totalTokens: number;
}

const spent = new WeakMap<object, EmbeddingSpend>();

/** Records on `error` what the call that throws it had spent; an error that is not an object carries nothing. */
export function attachEmbeddingSpend(error: unknown, spend: EmbeddingSpend): void {
  if ((typeof error === 'object' && error !== null) || typeof error === 'function') spent.set(error, { ...spend });
}

/** What the embeddings call that threw `error` had spent before it failed; undefined when it says nothing. */
export function embeddingSpendOf(error: unknown): EmbeddingSpend | undefined {
  if ((typeof error === 'object' && error !== null) || typeof error === 'function') return spent.get(error);
  return undefined;
}
