import type { LlmProviderName } from '../../config/variables.js';
import type { CallTarget } from '../call-pipeline.js';

/**
 * The identity of the model that makes a vector: its provider and model name. Vectors of two
 * models are not comparable, whatever their lengths, so the cache keys vectors by it and a call's
 * vectors all come from one.
 */
export function embeddingModelKey(target: Pick<CallTarget, 'provider' | 'model'>): string {
  return `${target.provider}\u0000${target.model}`;
}

/** A call's targets by the model that would answer, in the order the targets list them. */
export function targetsByModel(targets: readonly CallTarget[]): Map<string, CallTarget[]> {
  const byModel = new Map<string, CallTarget[]>();
  for (const target of targets) {
    const key = embeddingModelKey(target);
    const same = byModel.get(key);
    if (same === undefined) byModel.set(key, [target]);
    else same.push(target);
  }
  return byModel;
}

/** Whether a provider has an embeddings API (every one but Anthropic's), told without building its adapter. */
export function providerEmbeds(provider: LlmProviderName): boolean {
  return provider !== 'anthropic';
}

/**
 * Whether a provider's embeddings API takes OpenAI's `user` (the OpenAI family's does; Gemini's
 * and Bedrock's have no counterpart).
 */
export function providerTakesUser(provider: LlmProviderName): boolean {
  return provider !== 'gemini' && provider !== 'bedrock';
}

/** Whether a provider's embeddings API takes token arrays (OpenAI's pre-tokenised input); Gemini's and Bedrock's take text only. */
export function providerTakesTokens(provider: LlmProviderName): boolean {
  return provider !== 'gemini' && provider !== 'bedrock';
}
