import { editDistance } from './edit-distance.js';
import { normalizeAnswer, stripDiacritics } from './normalize-answer.js';

/** How a local check matched the learner's answer. */
export type LocalMatch = 'exact' | 'accents' | 'typo' | 'none';

/** The outcome of {@link checkAnswerLocally}. */
export interface LocalCheck {
  isCorrect: boolean;
  match: LocalMatch;
  /** Edits between the answer and the closest expected form (0 for `exact` and `accents`). */
  distance: number;
  /** The expected form the answer was compared with last or matched. */
  closest: string;
}

/** Separators between alternatives in an expected answer: `привет, здравствуйте`, `hi / hello`. */
const ALTERNATIVES = /[,;/|]/u;

/**
 * The edits tolerated as a typo for an expected answer of `length` code points: none up to 3
 * (short words change meaning with one letter: `кот`/`кит`), one up to 7, two from 8.
 */
export function typoAllowance(length: number): number {
  if (length <= 3) return 0;
  if (length <= 7) return 1;
  return 2;
}

/**
 * Checks an answer without the LLM: equal after normalising case, whitespace, punctuation and
 * Unicode forms; else equal once diacritics are stripped; else within {@link typoAllowance}
 * edits (swaps of neighbours count once). An expected answer listing alternatives accepts any
 * one of them, or the whole list.
 *
 * @example
 * ```ts
 * checkAnswerLocally('привет', 'Привет!');   // { isCorrect: true, match: 'exact', … }
 * checkAnswerLocally('receive', 'recieve');  // { isCorrect: true, match: 'typo', distance: 1, … }
 * ```
 */
export function checkAnswerLocally(expectedAnswer: string, userAnswer: string): LocalCheck {
  const answer = normalizeAnswer(userAnswer);
  const candidates = expectedForms(expectedAnswer);
  let best: LocalCheck = { isCorrect: false, match: 'none', distance: Number.POSITIVE_INFINITY, closest: candidates[0] ?? '' };
  if (answer === '') return { ...best, distance: Array.from(best.closest).length };
  for (const expected of candidates) {
    const verdict = compare(expected, answer);
    if (rank(verdict) < rank(best)) best = verdict;
  }
  return best;
}

function compare(expected: string, answer: string): LocalCheck {
  if (answer === expected) return { isCorrect: true, match: 'exact', distance: 0, closest: expected };
  const plainExpected = stripDiacritics(expected);
  const plainAnswer = stripDiacritics(answer);
  if (plainAnswer === plainExpected) return { isCorrect: true, match: 'accents', distance: 0, closest: expected };
  const distance = editDistance(plainExpected, plainAnswer);
  const isTypo = distance <= typoAllowance(Array.from(plainExpected).length);
  return { isCorrect: isTypo, match: isTypo ? 'typo' : 'none', distance, closest: expected };
}

/** Lower is better: exact, then accents, then typos by distance, then misses by distance. */
function rank(check: LocalCheck): number {
  const order: Record<LocalMatch, number> = { exact: 0, accents: 1, typo: 2, none: 3 };
  return order[check.match] * 1_000_000 + Math.min(check.distance, 999_999);
}

function expectedForms(expectedAnswer: string): string[] {
  const whole = normalizeAnswer(expectedAnswer);
  const parts = expectedAnswer.split(ALTERNATIVES).map(normalizeAnswer);
  return [...new Set([whole, ...parts])].filter((form) => form !== '');
}
