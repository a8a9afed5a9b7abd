import type { Infrastructure } from 'groundwork';
import type { z } from 'zod';
import { generateQuestionsPromptFor, type questionSchema } from './prompts.js';

/** A validated multiple-choice question. */
export type Question = z.output<typeof questionSchema>;

/** What {@link generateQuestions} needs from Groundwork. */
export type PromptRunner = Pick<Infrastructure, 'executePrompt'>;

/** Options of {@link generateQuestions}. */
export interface GenerateOptions {
  /** @default 'beginner' */
  level?: string;
}

/**
 * Asks the LLM for `count` multiple-choice questions on `topic`. Every question has 2–6
 * distinct options and a `correctIndex` in range, and there are at least `count` of them: a
 * batch that breaks a rule or comes back short is sent back for repair, and if it stays broken
 * the call fails with Groundwork's `StructuredOutputError` naming the problem — no question is
 * silently dropped. Extra questions beyond `count` are cut off.
 */
export async function generateQuestions(
  infra: PromptRunner,
  topic: string,
  count: number,
  options: GenerateOptions = {},
): Promise<Question[]> {
  if (topic.trim() === '') throw new TypeError('generateQuestions needs a topic; got an empty string');
  if (!Number.isInteger(count) || count < 1 || count > 20) throw new RangeError(`count must be an integer from 1 to 20; got ${count}`);
  const context = options.level === undefined ? { topic: topic.trim(), count } : { topic: topic.trim(), count, level: options.level };
  const response = await infra.executePrompt(generateQuestionsPromptFor(count), context);
  return response.data.questions.slice(0, count);
}
