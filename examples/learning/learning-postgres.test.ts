import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl, uniqueName } from '../../test/services.js';
import { type ExampleHarness, startExampleHarness } from '../example-infrastructure.test-helpers.js';
import { PHOTOSYNTHESIS } from './learning-answers.test-helpers.js';
import { loadLearningSession } from './learning-sessions.js';
import { learningMigrations } from './migrations.js';
import { startLearningSession } from './start-learning-session.js';
import type { LearningTables } from './tables.js';
import { findOrCreateUser } from './users.js';

const database = uniqueName('gw_example_learning');

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

describe('learning sessions on PostgreSQL', () => {
  let harness: ExampleHarness<LearningTables>;

  beforeAll(async () => {
    await admin(`create database "${database}"`);
    const url = new URL(postgresUrl());
    url.pathname = `/${database}`;
    harness = await startExampleHarness<LearningTables>({ migrations: learningMigrations, env: { DATABASE_URL: url.toString() } });
    await harness.infra.initDb();
  });

  afterAll(async () => {
    await harness?.close();
    await admin(`drop database if exists "${database}" with (force)`);
  });

  it('stores a session and reads it back', async () => {
    harness.fake.enqueue({ type: 'answer', json: PHOTOSYNTHESIS });
    const stored = await startLearningSession(harness.infra, { username: 'alice', topic: 'photosynthesis', count: 3 });
    expect(await loadLearningSession(harness.infra, stored.session.id)).toEqual(stored);
  });

  it('gives two sessions started at once for a new user that one user', async () => {
    const { infra } = harness;
    let releaseFirst = (): void => undefined;
    const firstHolds = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let firstCreated = (): void => undefined;
    const created = new Promise<void>((resolve) => {
      firstCreated = resolve;
    });
    // The first learner's transaction creates carol and holds on to it, uncommitted…
    const first = infra.withSession(async () => {
      const user = await findOrCreateUser(infra, 'carol');
      firstCreated();
      await firstHolds;
      return user;
    });
    await created;
    // …while the second finds no carol yet, and its insert waits on the first's.
    const second = infra.withSession(() => findOrCreateUser(infra, 'carol'));
    second.catch(() => undefined);
    for (let waited = 0; waited < 200; waited++) {
      const blocked = await sql<{ count: string }>`select count(*) as count from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`.execute(infra.db);
      if (Number(blocked.rows[0]?.count) > 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    releaseFirst();
    const [one, other] = await Promise.all([first, second]);
    expect(other).toEqual(one);
    expect(await infra.db.selectFrom('users').select('id').where('username', '=', 'carol').execute()).toEqual([{ id: one.id }]);
  });

  it('rolls back the user, the session and the first question when the second cannot be stored', async () => {
    harness.fake.enqueue({ type: 'answer', json: PHOTOSYNTHESIS });
    // NOT VALID: rows already stored keep their explanations; new ones mentioning chlorophyll fail.
    await sql`alter table questions add constraint questions_no_chlorophyll check (explanation not like '%chlorophyll%') not valid`.execute(
      harness.infra.db,
    );
    try {
      const attempt = startLearningSession(harness.infra, { username: 'bob', topic: 'photosynthesis', count: 3 });
      await expect(attempt).rejects.toThrow(/questions_no_chlorophyll/);
      const users = await harness.infra.db.selectFrom('users').select('username').where('username', '=', 'bob').execute();
      const sessions = await harness.infra.db
        .selectFrom('learning_sessions')
        .innerJoin('users', 'users.id', 'learning_sessions.user_id')
        .select('topic')
        .where('username', '=', 'bob')
        .execute();
      expect([users, sessions]).toEqual([[], []]);
    } finally {
      await harness.infra.db.schema.alterTable('questions').dropConstraint('questions_no_chlorophyll').execute();
    }
  });
});
