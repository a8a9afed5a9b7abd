import { type GenerateOptions, generateQuestions, type PromptRunner } from './generate-questions.js';
import { type LearningSession, saveLearningSession } from './learning-sessions.js';
import { findOrCreateUser, type SessionRunner, type USERNAME_MAX_LENGTH, usernameProblem } from './users.js';

/** What {@link startLearningSession} asks for. */
export interface StartSessionRequest extends GenerateOptions {
  username: string;
  topic: string;
  count: number;
}

/**
 * Generates questions on `topic` and stores them as a new learning session of `username`
 * (created if new). The LLM call runs before the transaction, so no connection is held while the
 * model thinks; the user, the session and its questions are then written in one transaction, and
 * a failure anywhere in it leaves none of them behind. A username the `users` table cannot hold
 * (blank, or longer than {@link USERNAME_MAX_LENGTH}) is refused before the model is asked.
 */
export async function startLearningSession(infra: PromptRunner & SessionRunner, request: StartSessionRequest): Promise<LearningSession> {
  // Checked before the model is asked: a username the table cannot hold would fail only at the insert, after the call was paid for.
  const problem = usernameProblem(request.username);
  if (problem !== undefined) throw new RangeError(`username ${problem}`);
  const options: GenerateOptions = request.level === undefined ? {} : { level: request.level };
  const questions = await generateQuestions(infra, request.topic, request.count, options);
  return infra.withSession(async () => {
    const user = await findOrCreateUser(infra, request.username);
    return saveLearningSession(infra, user, request.topic.trim(), questions);
  });
}
