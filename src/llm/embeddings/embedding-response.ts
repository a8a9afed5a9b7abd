import type { LlmProviderName } from '../../config/variables.js';

/** Tokens an embeddings request consumed; embeddings have no output tokens. */
export interface EmbeddingUsage {
  promptTokens: number;
  totalTokens: number;
}

/** A provider's answer to one {@link EmbeddingRequest}. */
export interface EmbeddingResponse {
  provider: LlmProviderName;
  /** The model that answered, as the provider names it. */
  model: string;
  /** One vector per input, in input order. */
  vectors: Float32Array[];
  usage: EmbeddingUsage;
  requestId?: string | undefined;
}
