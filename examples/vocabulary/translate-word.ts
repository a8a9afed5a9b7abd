import type { Infrastructure } from 'groundwork';
import type { z } from 'zod';
import { translateWordPrompt, type translationSchema } from './prompts.js';

/** A word's translations, example sentences and grammatical forms. */
export type Translation = z.output<typeof translationSchema>;

/** What {@link translateWord} needs from Groundwork. */
export type PromptRunner = Pick<Infrastructure, 'executePrompt'>;

/**
 * Translates `word` from `sourceLanguage` to `targetLanguage` with example sentences and word
 * forms. Errors from Groundwork propagate: `isLlmUnavailable(error)` tells an outage apart from
 * an answer that stayed invalid after repairs (`StructuredOutputError`).
 *
 * @example
 * ```ts
 * const { translations } = await translateWord(infra, 'hello', 'English', 'Russian');
 * // ['привет', 'здравствуйте']
 * ```
 */
export async function translateWord(
  infra: PromptRunner,
  word: string,
  sourceLanguage: string,
  targetLanguage: string,
): Promise<Translation> {
  const trimmed = word.trim();
  if (trimmed === '') throw new TypeError('translateWord needs a word; got an empty string');
  const response = await infra.executePrompt(translateWordPrompt, { word: trimmed, sourceLanguage, targetLanguage });
  return response.data;
}
