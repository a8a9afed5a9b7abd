const COMBINING_MARKS = /\p{M}/gu;
const APOSTROPHES = /['’ʼ`]/gu;
const PUNCTUATION_OR_SYMBOLS = /[\p{P}\p{S}]/gu;
const WHITESPACE = /\s+/gu;

/**
 * An answer as a learner means it: Unicode-normalised (NFC, so composed and decomposed letters
 * agree), lower case, apostrophes dropped, other punctuation and symbols read as spaces, and
 * whitespace collapsed and trimmed.
 *
 * @example
 * ```ts
 * normalizeAnswer('  Hello,   World! '); // 'hello world'
 * ```
 */
export function normalizeAnswer(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(APOSTROPHES, '').replace(PUNCTUATION_OR_SYMBOLS, ' ').replace(WHITESPACE, ' ').trim();
}

/**
 * {@link normalizeAnswer} with diacritics removed as well (`café` → `cafe`, `ёж` → `еж`).
 * Letters some languages treat as distinct (`й`/`и`) compare equal too; the local check reports
 * such a match as "accents differ" so the learner still sees it.
 */
export function stripDiacritics(normalized: string): string {
  return normalized.normalize('NFD').replace(COMBINING_MARKS, '').normalize('NFC');
}
