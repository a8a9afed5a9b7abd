import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ExampleHarness, startExampleHarness } from '../example-infrastructure.test-helpers.js';
import { loadLearningSession, saveLearningSession } from './learning-sessions.js';
import { learningMigrations } from './migrations.js';
import type { LearningTables } from './tables.js';
import { createUser, findOrCreateUser } from './users.js';

const questions = [
  {
    question: 'What gas do plants take in?',
    options: ['Oxygen', 'Carbon dioxide', 'Helium'],
    correctIndex: 1,
    explanation: 'They fix CO2.',
  },
  { question: 'Where does it happen?', options: ['Chloroplasts', 'Nucleus'], correctIndex: 0, explanation: 'In chloroplasts.' },
];

describe('learning storage (SQLite in memory)', () => {
  let harness: ExampleHarness<LearningTables>;

  beforeEach(async () => {
    harness = await startExampleHarness<LearningTables>({ migrations: learningMigrations });
    await harness.infra.initDb();
  });

  afterEach(async () => {
    await harness.close();
  });

  const count = async (table: 'users' | 'learning_sessions' | 'questions'): Promise<number> => {
    const row = await harness.infra.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };

  it('creates a user as the seed does', async () => {
    const alice = await createUser(harness.infra, { username: 'alice', telegramId: 42 });
    const stored = await harness.infra.db.selectFrom('users').selectAll().where('id', '=', alice.id).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ username: 'alice', telegram_id: 42 });
  });

  it('rolls back a user whose insert fails, and keeps the first', async () => {
    await createUser(harness.infra, { username: 'alice' });
    await expect(createUser(harness.infra, { username: 'alice' })).rejects.toThrow(/unique/i);
    expect(await count('users')).toBe(1);
  });

  it('finds an existing user instead of creating a second', async () => {
    const first = await findOrCreateUser(harness.infra, 'bob');
    const second = await findOrCreateUser(harness.infra, 'bob');
    expect(second.id).toBe(first.id);
    expect(await count('users')).toBe(1);
  });

  it('stores a session with its questions in order and reads it back', async () => {
    const user = await createUser(harness.infra, { username: 'alice' });
    const saved = await saveLearningSession(harness.infra, user, 'photosynthesis', questions);
    const loaded = await loadLearningSession(harness.infra, saved.session.id);
    expect(loaded).toEqual({ session: saved.session, user, questions });
    expect(await loadLearningSession(harness.infra, 'no-such-session')).toBeUndefined();
  });

  it('writes nothing when a question cannot be stored mid-way', async () => {
    const user = await createUser(harness.infra, { username: 'alice' });
    await harness.infra.db.schema.dropTable('questions').execute();
    await expect(saveLearningSession(harness.infra, user, 'photosynthesis', questions)).rejects.toThrow(/questions/);
    expect(await count('learning_sessions')).toBe(0);
  });

  it('undoes the user and the session when the enclosing unit of work fails', async () => {
    const failure = new Error('grading service down');
    await expect(
      harness.infra.withSession(async () => {
        const user = await findOrCreateUser(harness.infra, 'carol');
        await saveLearningSession(harness.infra, user, 'photosynthesis', questions);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect([await count('users'), await count('learning_sessions'), await count('questions')]).toEqual([0, 0, 0]);
  });
});
