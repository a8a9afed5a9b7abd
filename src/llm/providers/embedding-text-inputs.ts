import { GroundworkError } from '../../errors/groundwork-error.js';
import type { EmbeddingInput } from '../embeddings/embedding-request.js';

/**
 * The inputs as texts, for providers whose embeddings take text only (Gemini, Bedrock). Token
 * arrays (OpenAI's pre-tokenised input) are refused before anything is sent.
 */
export function embeddingTexts(provider: string, inputs: readonly EmbeddingInput[]): string[] {
  return inputs.map((input, index) => {
    if (typeof input === 'string') return input;
    throw new GroundworkError(
      'llm_invalid_request',
      `Invalid LLM request: input[${index}] is a token array, which the provider "${provider}" cannot embed; send text.`,
    );
  });
}

/** A token count for texts whose provider reports none: four characters a token, at least one a text. */
export function approximateEmbeddingTokens(texts: readonly string[]): number {
  return texts.reduce((sum, text) => sum + Math.max(1, Math.ceil(text.length / 4)), 0);
}
