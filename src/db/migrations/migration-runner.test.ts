import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../observability/logger.js';
import { createDatabase } from '../create-database.js';
import type { Database } from '../database.js';
import type { AppMigrations } from './migration-source.js';

const opened: Array<Database<unknown>> = [];
const folders: string[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((database) => database.close()));
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

async function open(migrations: AppMigrations): Promise<Database<unknown>> {
  const config = loadConfig({ env: { DATABASE_URL: 'sqlite::memory:' }, envFile: false }).database;
  const database = await createDatabase(config, { logger: createLogger({ level: 'silent', format: 'json' }), migrations });
  opened.push(database);
  return database;
}

const table = (name: string) => ({
  up: async (db: Kysely<unknown>) => {
    await db.schema.createTable(name).addColumn('id', 'integer').execute();
  },
});

async function tables(database: Database<unknown>): Promise<string[]> {
  const rows = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name like 'note%' order by name`.execute(
    database.db,
  );
  return rows.rows.map((row) => row.name);
}

describe('migrate down', () => {
  it('refuses, naming it, when the latest applied migration has no down(); nothing is reverted', async () => {
    const database = await open({
      '001_notes': { ...table('notes'), down: async (db) => db.schema.dropTable('notes').execute() },
      '002_note_tags': table('note_tags'),
    });
    await database.migrate('up');
    const down = database.migrate('down');
    await expect(down).rejects.toMatchObject({ code: 'db_migration_irreversible' });
    await expect(down).rejects.toThrow(/"002_note_tags" has no down\(\).*kysely_migration/);
    expect(await tables(database)).toEqual(['note_tags', 'notes']);
    const states = await database.migrationStatus();
    expect(states.filter((state) => state.scope === 'app').map((state) => [state.name, state.executedAt !== undefined])).toEqual([
      ['001_notes', true],
      ['002_note_tags', true],
    ]);
  });

  it('reverts the latest migration when it has a down(), whatever earlier ones have', async () => {
    const database = await open({
      '001_notes': table('notes'),
      '002_note_tags': { ...table('note_tags'), down: async (db) => db.schema.dropTable('note_tags').execute() },
    });
    await database.migrate('up');
    await expect(database.migrate('down')).resolves.toEqual({ direction: 'down', migrations: [{ scope: 'app', name: '002_note_tags' }] });
    expect(await tables(database)).toEqual(['notes']);
  });
});

describe('a folder of migrations', () => {
  it('refuses two files of one name, naming both, and applies none of them', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'groundwork-migrations-'));
    folders.push(folder);
    const module = (name: string) =>
      `export async function up(db) { await db.schema.createTable('${name}').addColumn('id', 'integer').execute(); }\n`;
    writeFileSync(join(folder, '001_notes.js'), module('notes_from_js'));
    writeFileSync(join(folder, '001_notes.ts'), module('notes_from_ts'));
    const database = await open(folder);
    const up = database.migrate('up', 'app');
    await expect(up).rejects.toThrow(/001_notes\.js and 001_notes\.ts .* share the name "001_notes"/);
    expect(await tables(database)).toEqual([]);
  });
});
