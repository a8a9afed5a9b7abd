import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-prepare-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const migrations = join(directory, 'migrations');
mkdirSync(migrations);
writeFileSync(
  join(migrations, '0001_app_table.mjs'),
  "export async function up(db) { await db.schema.createTable('app_table').addColumn('id', 'integer').execute(); }\nexport async function down(db) { await db.schema.dropTable('app_table').execute(); }\n",
);

async function run(env: Record<string, string>, ...argv: string[]) {
  const io = recordingIo(env);
  const status = await main(argv, io);
  return { status, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

async function states(env: Record<string, string>): Promise<Array<{ scope: string; name: string; executedAt?: string }>> {
  const listed = await run(env, 'migrate', 'status', '--json');
  expect(listed.status).toBe(0);
  return JSON.parse(listed.out) as Array<{ scope: string; name: string; executedAt?: string }>;
}

describe('commands other than migrate and serve', () => {
  it('with DB_MIGRATE_ON_START=false apply nothing and refuse, naming groundwork migrate', async () => {
    const env = { DATABASE_URL: `sqlite:${join(directory, 'off.db')}`, DB_MIGRATIONS_DIR: migrations, DB_MIGRATE_ON_START: 'false' };
    for (const argv of [['jobs', 'status'], ['jobs', 'list'], ['keys', 'list'], ['teams', 'list'], ['usage']]) {
      const result = await run(env, ...argv);
      expect(result.status, argv.join(' ')).toBe(1);
      expect(result.err).toContain('run `groundwork migrate`');
    }
    expect((await states(env)).every((state) => state.executedAt === undefined)).toBe(true);

    expect((await run(env, 'migrate')).status).toBe(0);
    expect((await run(env, 'jobs', 'status')).status).toBe(0);
  });

  it("by default apply Groundwork's own migrations, never the application's", async () => {
    const env = { DATABASE_URL: `sqlite:${join(directory, 'on.db')}`, DB_MIGRATIONS_DIR: migrations };
    expect((await run(env, 'jobs', 'status')).status).toBe(0);
    const after = await states(env);
    expect(after.filter((state) => state.scope === 'groundwork').every((state) => state.executedAt !== undefined)).toBe(true);
    expect(after.filter((state) => state.scope === 'app')).toEqual([{ scope: 'app', name: '0001_app_table' }]);
  });
});
