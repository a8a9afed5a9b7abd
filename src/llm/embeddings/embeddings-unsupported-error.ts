import type { LlmProviderName } from '../../config/variables.js';
import { GroundworkError } from '../../errors/groundwork-error.js';

/** A provider without an embeddings API was asked for embeddings; names what to configure instead. */
export class EmbeddingsUnsupportedError extends GroundworkError {
  readonly provider: LlmProviderName;

  constructor(provider: LlmProviderName) {
    super(
      'embeddings_unsupported',
      `The provider "${provider}" has no embeddings API. Embed with openai, azure (set AZURE_OPENAI_EMBEDDING_DEPLOYMENT) ` +
        'or openai-compatible: pass { provider } to embed(), or set LLM_EMBEDDING_PROVIDER.',
    );
    this.provider = provider;
  }
}
