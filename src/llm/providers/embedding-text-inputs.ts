import { GroundworkError } from '../../errors/groundwork-error.js';
import { approximateTokens } from '../../resilience/approximate-tokens.js';
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

/**
 * A token count for inputs whose provider reports none: a text's tokens estimated as the rate limits
 * estimate them (at least one a text), a token array's by its length.
 */
export function approximateEmbeddingTokens(inputs: readonly EmbeddingInput[]): number {
  return inputs.reduce<number>(
    (sum, input) => sum + (typeof input === 'string' ? Math.max(1, Math.ceil(approximateTokens(input))) : input.length),
    0,
  );
}
