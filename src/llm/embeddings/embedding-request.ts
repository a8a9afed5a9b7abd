/** One input to embed: a text, or the tokens of one (OpenAI's token-array input). */
export type EmbeddingInput = string | readonly number[];

/** One request to a provider's embeddings endpoint, within its per-request limits. */
export interface EmbeddingRequest {
  /** The model (for Azure: the embedding deployment). */
  model: string;
  /** At least one input; the answer holds one vector for each, in the same order. */
  inputs: readonly EmbeddingInput[];
  /** Ask for shorter vectors (models that support it, such as `text-embedding-3-*`). */
  dimensions?: number;
  /** OpenAI's end-user identifier, passed through. */
  user?: string;
}
