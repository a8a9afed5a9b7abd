import type { LlmProviderName } from '../../config/variables.js';
import type { AttemptRecord } from '../call-pipeline.js';
import type { VectorFormat } from './embed-options.js';
import type { EmbeddingUsage } from './embedding-response.js';

/** The vector type a {@link VectorFormat} hands back. */
export type VectorOf<F extends VectorFormat> = F extends 'number' ? number[] : Float32Array;

/** What one `embed` call produced. */
export interface EmbedResult<F extends VectorFormat = 'float32'> {
  /** One vector per input, in input order. */
  vectors: VectorOf<F>[];
  /** The length of every vector. */
  dimensions: number;
  provider: LlmProviderName;
  model: string;
  /** Tokens sent to providers by this call (cache hits cost none). */
  usage: EmbeddingUsage;
  /** USD for `usage`, from the price table; 0 for a model without a price. */
  costUsd: number;
  metadata: {
    /** Inputs answered from the cache. */
    cachedInputs: number;
    /** Provider requests (batches) answered. */
    batches: number;
    attempts: AttemptRecord[];
    latencyMs: number;
  };
}
