import type { EmbeddingRequest } from './embedding-request.js';
import type { EmbeddingResponse } from './embedding-response.js';

/**
 * The provider port's embeddings method: one request within the provider's per-request limits,
 * one answer, failures classified as `ProviderError`s, never retried by the adapter. Aborting
 * `signal` cancels the HTTP request. Providers without embeddings (Anthropic) lack it.
 */
export type EmbedMethod = (request: EmbeddingRequest, signal: AbortSignal) => Promise<EmbeddingResponse>;
