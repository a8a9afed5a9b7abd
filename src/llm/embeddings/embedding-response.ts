import type { LlmProviderName } from '../../config/variables.js';

/** Tokens an embeddings request consumed; embeddings have no output tokens. */
export interface EmbeddingUsage {
  promptTokens: number;
  totalTokens: number;
  /**
   * Set when a provider reported no token count for some of these tokens (the Gemini API, Cohere on
   * Bedrock, an OpenAI-compatible server that sends no `usage`), so that Groundwork counted them
   * itself: a text's tokens estimated as for rate limits, a token array's by its length. Their cost
   * is as estimated as they are.
   */
  estimated?: true;
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
