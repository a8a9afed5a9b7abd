import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Question } from './generate-questions.js';
import type { LearningSessionsTable } from './tables.js';
import type { SessionRunner, User } from './users.js';

/** A stored learning session with its questions, in order. */
export interface LearningSession {
  session: Selectable<LearningSessionsTable>;
  user: User;
  questions: Question[];
}

/**
 * Stores a learning session and its questions for `user` in one transaction: either the session
 * and every question are written, or nothing is.
 */
export function saveLearningSession(
  infra: SessionRunner,
  user: User,
  topic: string,
  questions: readonly Question[],
): Promise<LearningSession> {
  return infra.withSession(async (tx) => {
    const session = { id: randomUUID(), user_id: user.id, topic, created_at: new Date().toISOString() };
    await tx.insertInto('learning_sessions').values(session).execute();
    for (const [position, question] of questions.entries()) {
      await tx
        .insertInto('questions')
        .values({
          id: randomUUID(),
          session_id: session.id,
          position,
          question: question.question,
          options: JSON.stringify(question.options),
          correct_index: question.correctIndex,
          explanation: question.explanation,
        })
        .execute();
    }
    return { session, user, questions: [...questions] };
  });
}

/** A stored session with its questions in order, or undefined. */
export function loadLearningSession(infra: SessionRunner, sessionId: string): Promise<LearningSession | undefined> {
  return infra.withSession(
    async (tx) => {
      const session = await tx.selectFrom('learning_sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
      if (session === undefined) return undefined;
      const user = await tx.selectFrom('users').selectAll().where('id', '=', session.user_id).executeTakeFirstOrThrow();
      const rows = await tx.selectFrom('questions').selectAll().where('session_id', '=', sessionId).orderBy('position').execute();
      const questions = rows.map((row) => ({
        question: row.question,
        options: JSON.parse(row.options) as string[],
        correctIndex: row.correct_index,
        explanation: row.explanation,
      }));
      return { session, user, questions };
    },
    { readOnly: true },
  );
}
