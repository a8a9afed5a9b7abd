import { isLlmUnavailable } from 'groundwork';
import { checkAnswerLocally } from './local-check.js';
import { localComment } from './local-comment.js';
import { validateAnswerPrompt } from './prompts.js';
import type { PromptRunner } from './translate-word.js';

/** A verdict on a learner's answer, and who gave it. */
export interface AnswerVerdict {
  isCorrect: boolean;
  comment: string;
  /** `llm`: the model judged; `local`: the model was unavailable and the answer was compared locally. */
  source: 'llm' | 'local';
}

/**
 * Asks the LLM whether `userAnswer` is a right answer to `question`. When the LLM cannot answer
 * now (`isLlmUnavailable`: circuit open, deadline passed, retries exhausted, not configured), it
 * falls back to {@link checkAnswerLocally} and says so: `source: 'local'` and a comment naming the
 * local check. Other errors (an answer invalid after repairs, a rejected key) propagate.
 *
 * @example
 * ```ts
 * const verdict = await validateAnswer(infra, 'hello', 'привет', 'Привет', 'English', 'Russian');
 * // { isCorrect: true, comment: 'Правильно!', source: 'llm' }
 * ```
 */
export async function validateAnswer(
  infra: PromptRunner,
  question: string,
  expectedAnswer: string,
  userAnswer: string,
  sourceLanguage: string,
  targetLanguage: string,
): Promise<AnswerVerdict> {
  try {
    const response = await infra.executePrompt(validateAnswerPrompt, {
      question,
      expectedAnswer,
      userAnswer,
      sourceLanguage,
      targetLanguage,
    });
    return { ...response.data, source: 'llm' };
  } catch (error) {
    if (!isLlmUnavailable(error)) throw error;
    const check = checkAnswerLocally(expectedAnswer, userAnswer);
    return { isCorrect: check.isCorrect, comment: localComment(check), source: 'local' };
  }
}
