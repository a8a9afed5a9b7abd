import { GroundworkError, isLlmUnavailable } from 'groundwork';
import { type FakeProviderServer, startFakeProviderServer } from 'groundwork/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bufferedIo } from '../example-cli.test-helpers.js';
import { type ExampleHarness, FAST_RESILIENCE, startExampleHarness } from '../example-infrastructure.test-helpers.js';
import { generateQuestions } from './generate-questions.js';
import { PHOTOSYNTHESIS, WITH_INDEX_OUT_OF_RANGE, WITH_REPEATED_OPTIONS } from './learning-answers.test-helpers.js';
import { runLearningCli } from './learning-cli.js';
import { loadLearningSession } from './learning-sessions.js';
import { learningMigrations } from './migrations.js';
import { startLearningSession } from './start-learning-session.js';
import type { LearningTables } from './tables.js';

describe('learning sessions over a fake OpenAI server', () => {
  let harness: ExampleHarness<LearningTables>;

  beforeEach(async () => {
    harness = await startExampleHarness<LearningTables>({ migrations: learningMigrations, env: { LLM_STRUCTURED_OUTPUT_REPAIRS: '1' } });
    await harness.infra.initDb();
  });

  afterEach(async () => {
    await harness.close();
  });

  const counts = async (): Promise<number[]> => {
    const tables = ['users', 'learning_sessions', 'questions'] as const;
    const rows = await Promise.all(
      tables.map((table) =>
        harness.infra.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
      ),
    );
    return rows.map((row) => Number(row.n));
  };

  it('generates questions, stores them with a new user, and reads them back', async () => {
    harness.fake.enqueue({ type: 'answer', json: PHOTOSYNTHESIS });
    const stored = await startLearningSession(harness.infra, { username: 'alice', topic: 'photosynthesis', count: 3 });
    expect(stored.questions).toEqual(PHOTOSYNTHESIS.questions);
    expect(stored.user.username).toBe('alice');
    expect(await loadLearningSession(harness.infra, stored.session.id)).toEqual(stored);
    expect(await counts()).toEqual([1, 1, 3]);
    expect(JSON.stringify(harness.fake.requests[0]?.body)).toMatch(
      /Write 3 multiple-choice questions about \\"photosynthesis\\" for a beginner learner/,
    );
  });

  it('reuses the user for a second session', async () => {
    harness.fake.enqueue({ type: 'answer', json: PHOTOSYNTHESIS }, { type: 'answer', json: PHOTOSYNTHESIS });
    const first = await startLearningSession(harness.infra, { username: 'alice', topic: 'photosynthesis', count: 3 });
    const second = await startLearningSession(harness.infra, { username: 'alice', topic: 'photosynthesis', count: 2, level: 'advanced' });
    expect(second.user.id).toBe(first.user.id);
    expect(second.questions).toHaveLength(2);
    expect(await counts()).toEqual([1, 2, 5]);
  });

  it('sends a question with repeated options back for repair', async () => {
    harness.fake.enqueue({ type: 'answer', json: WITH_REPEATED_OPTIONS }, { type: 'answer', json: PHOTOSYNTHESIS });
    const questions = await generateQuestions(harness.infra, 'photosynthesis', 3);
    expect(questions).toEqual(PHOTOSYNTHESIS.questions);
    expect(JSON.stringify(harness.fake.requests[1]?.body)).toContain('options repeat: \\"chloroplasts\\"');
  });

  it('sends a batch with fewer questions than asked for back for repair, and fails if it stays short', async () => {
    const short = { questions: PHOTOSYNTHESIS.questions.slice(0, 2) };
    harness.fake.enqueue({ type: 'answer', json: short }, { type: 'answer', json: PHOTOSYNTHESIS });
    expect(await generateQuestions(harness.infra, 'photosynthesis', 3)).toEqual(PHOTOSYNTHESIS.questions);
    expect(JSON.stringify(harness.fake.requests[1]?.body)).toContain('2 questions; 3 were asked for');
    harness.fake.enqueue({ type: 'answer', json: short }, { type: 'answer', json: short });
    const error = await startLearningSession(harness.infra, { username: 'alice', topic: 'photosynthesis', count: 3 }).catch(
      (caught: unknown) => caught,
    );
    expect(GroundworkError.isInstance(error) && error.code).toBe('structured_output_invalid');
    expect((error as Error).message).toContain('2 questions; 3 were asked for');
    expect(await counts()).toEqual([0, 0, 0]);
  });

  it('refuses a username too long for the users table before asking the model', async () => {
    const username = 'a'.repeat(101);
    await expect(startLearningSession(harness.infra, { username, topic: 'photosynthesis', count: 3 })).rejects.toThrow(
      'username must be 1 to 100 characters; got 101',
    );
    expect(harness.fake.requests).toHaveLength(0);
    expect(await counts()).toEqual([0, 0, 0]);
  });

  it('fails with a clear error, and stores nothing, when a question stays invalid', async () => {
    harness.fake.enqueue({ type: 'answer', json: WITH_INDEX_OUT_OF_RANGE }, { type: 'answer', json: WITH_INDEX_OUT_OF_RANGE });
    const error = await startLearningSession(harness.infra, { username: 'alice', topic: 'photosynthesis', count: 1 }).catch(
      (caught: unknown) => caught,
    );
    expect(GroundworkError.isInstance(error) && error.code).toBe('structured_output_invalid');
    expect((error as Error).message).toContain('correctIndex 4 names no option (0 to 3)');
    expect(await counts()).toEqual([0, 0, 0]);
  });

  it('stores nothing when the LLM is unavailable', async () => {
    harness.fake.enqueue({ type: 'error', status: 503 });
    const error = await startLearningSession(harness.infra, { username: 'alice', topic: 'photosynthesis', count: 3 }).catch(
      (caught: unknown) => caught,
    );
    expect(isLlmUnavailable(error)).toBe(true);
    expect(await counts()).toEqual([0, 0, 0]);
  });

  it('leaves no user or session behind when storing the questions fails mid-way', async () => {
    harness.fake.enqueue({ type: 'answer', json: PHOTOSYNTHESIS });
    await harness.infra.db.schema.dropTable('questions').execute();
    await expect(startLearningSession(harness.infra, { username: 'alice', topic: 'photosynthesis', count: 3 })).rejects.toThrow(
      /questions/,
    );
    const users = await harness.infra.db.selectFrom('users').selectAll().execute();
    const sessions = await harness.infra.db.selectFrom('learning_sessions').selectAll().execute();
    expect([users, sessions]).toEqual([[], []]);
  });
});

describe('the learning CLI', () => {
  let fake: FakeProviderServer;

  beforeEach(async () => {
    fake = await startFakeProviderServer();
  });

  afterEach(async () => {
    await fake.close();
  });

  const env = (extra: Record<string, string> = {}) => ({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: 'sqlite::memory:',
    LLM_CACHE: 'off',
    ...FAST_RESILIENCE,
    ...extra,
  });

  it('generates, stores and prints a session', async () => {
    fake.enqueue({ type: 'answer', json: PHOTOSYNTHESIS });
    const io = bufferedIo();
    const infrastructure = {
      env: env({ OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: fake.openaiBaseUrl }),
      envFile: false as const,
    };
    const code = await runLearningCli({ args: ['generate', 'photosynthesis', '--count', '3', '--user', 'alice'], io, infrastructure });
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    expect(io.stdout()).toMatch(/^Learning session [0-9a-f-]{36} for alice on "photosynthesis": 3 questions, stored in sqlite/);
    expect(io.stdout()).toContain('1. Which gas do plants take in for photosynthesis?\n   a) Oxygen\n   b) Carbon dioxide  ✓');
    expect(io.stdout()).toContain('   Why: Chloroplasts hold chlorophyll, which captures light.');
  });

  it('says exactly what to set without an LLM', async () => {
    const io = bufferedIo();
    const code = await runLearningCli({
      args: ['generate', 'photosynthesis', '--user', 'alice'],
      io,
      infrastructure: { env: env(), envFile: false },
    });
    expect(code).toBe(2);
    expect(io.stderr()).toMatch(/No LLM is configured.*\n\s+OPENAI_API_KEY=/);
  });

  it('names a bad argument', async () => {
    const io = bufferedIo();
    expect(await runLearningCli({ args: ['generate', 'photosynthesis', '--count', 'many', '--user', 'alice'], io })).toBe(2);
    expect(io.stderr()).toMatch(/^--count must be a whole number from 1 to 20; got "many"\./);
  });

  it('refuses a --user too long to store, before asking the model', async () => {
    const io = bufferedIo();
    expect(await runLearningCli({ args: ['generate', 'photosynthesis', '--user', 'b'.repeat(101)], io })).toBe(2);
    expect(io.stderr()).toMatch(/^--user must be 1 to 100 characters; got 101\./);
  });

  it('refuses a blank --level rather than asking for questions for " " learners', async () => {
    const io = bufferedIo();
    expect(await runLearningCli({ args: ['generate', 'photosynthesis', '--user', 'alice', '--level', ' '], io })).toBe(2);
    expect(io.stderr()).toMatch(/^--level is blank; leave it out for beginner\./);
  });
});
