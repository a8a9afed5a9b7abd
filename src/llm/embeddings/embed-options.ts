import type { CacheOption } from '../../cache/resolve-cache-mode.js';
import type { LlmProviderName } from '../../config/variables.js';
import type { UsageAttribution } from '../usage-record.js';

/** How vectors are handed back: `Float32Array`s (compact, the default) or plain `number[]`s. */
export type VectorFormat = 'float32' | 'number';

/** Options of one `embed` call. */
export interface EmbedOptions<F extends VectorFormat = 'float32'> {
  /** Provider to use; naming one turns the embedding fallbacks off. @default LLM_PROVIDER */
  provider?: LlmProviderName;
  /** Model (Azure: deployment); naming another than the configured one turns the fallbacks off. @default LLM_EMBEDDING_MODEL */
  model?: string;
  /**
   * Shorter vectors, for models that support it; a known model of one fixed length (`text-embedding-ada-002`,
   * `nomic-embed-text`…) asked another length, or a known model that shortens asked more than its own length
   * (`text-embedding-3-small`: 1536), throws `FixedEmbeddingLengthError`. @default LLM_EMBEDDING_DIMENSIONS, else the model's own
   */
  dimensions?: number;
  /** @default 'float32' */
  format?: F;
  /** `false`: neither read nor store the per-text cache; `'refresh'`: store without reading. @default true (embeddings are deterministic) */
  cache?: CacheOption;
  /**
   * Whose cached vectors the call reads and writes: calls of one namespace share them, others never
   * see them (a tenant's, say). @default the instance's own (`LLM_CACHE_NAMESPACE`)
   */
  namespace?: string;
  /**
   * Passed to the provider as OpenAI's `user`. Gemini and Bedrock have no counterpart: a call that
   * reaches them with it throws `UnsupportedFieldsError` before sending, or, under
   * `LLM_DROP_UNSUPPORTED_PARAMS=true`, sends without it, logged and counted.
   */
  user?: string;
  signal?: AbortSignal;
  /** The virtual key (and team) the call is billed to: its ledger row names them. */
  attribution?: UsageAttribution;
}
