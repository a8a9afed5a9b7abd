export type { EmbedMethod } from './embed-method.js';
export type { EmbedOptions, VectorFormat } from './embed-options.js';
export type { EmbedResult, VectorOf } from './embed-result.js';
export { type EmbeddingBatchLimits, OPENAI_EMBEDDING_LIMITS } from './embedding-batches.js';
export { EmbeddingDimensionsMismatchError } from './embedding-dimensions-mismatch-error.js';
export type { EmbeddingInput, EmbeddingRequest } from './embedding-request.js';
export type { EmbeddingResponse, EmbeddingUsage } from './embedding-response.js';
export { EmbeddingsUnsupportedError } from './embeddings-unsupported-error.js';
export { FixedEmbeddingLengthError } from './fixed-embedding-length-error.js';
export {
  DEFAULT_EMBEDDING_MODEL,
  embeddingDimensions,
  KNOWN_EMBEDDING_MODELS,
  type KnownEmbeddingModel,
} from './known-embedding-models.js';
