import type { LlmProviderName } from '../../config/variables.js';
import { GroundworkError } from '../../errors/groundwork-error.js';

/** A provider without an embeddings API was asked for embeddings; names what to configure instead. */
export class EmbeddingsUnsupportedError extends GroundworkError {
  readonly provider: LlmProviderName;

  /** The model group asked for, when no deployment of it (or of its fallback groups) has an embeddings API. */
  readonly group: string | undefined;

  constructor(provider: LlmProviderName, group?: { group: string; providers: readonly LlmProviderName[] }) {
    super(
      'embeddings_unsupported',
      group === undefined
        ? `The provider "${provider}" has no embeddings API. Embed with openai, azure (set AZURE_OPENAI_EMBEDDING_DEPLOYMENT) ` +
            'or openai-compatible: pass { provider } to embed(), or set LLM_EMBEDDING_PROVIDER.'
        : `The model group "${group.group}" has no deployment with an embeddings API (its providers: ${group.providers.join(', ')}). ` +
            'Add a deployment whose provider has one (openai, azure, openai-compatible, gemini, bedrock) to the group or its fallbacks, ' +
            'or embed with a model that is not a group.',
    );
    this.provider = provider;
    this.group = group?.group;
  }
}
