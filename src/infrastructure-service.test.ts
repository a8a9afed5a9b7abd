import type { Generated, Kysely } from 'kysely';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { InfrastructureService } from './infrastructure-service.js';
import { definePrompt } from './llm/prompt.js';
import { startFakeProviderServer } from './testing/fake-provider-server.js';

interface AppTables {
  notes: { id: Generated<number>; body: string };
}

afterEach(() => InfrastructureService.reset());

describe('InfrastructureService', () => {
  it('is typed for the application’s tables, migrates with initDb, and closes', async () => {
    InfrastructureService.configure({
      env: { DATABASE_URL: 'sqlite::memory:' },
      envFile: false,
      migrations: {
        '001_notes': {
          up: async (db: Kysely<unknown>) => {
            await db.schema
              .createTable('notes')
              .addColumn('id', 'integer', (column) => column.primaryKey().autoIncrement())
              .addColumn('body', 'text', (column) => column.notNull())
              .execute();
          },
        },
      },
    });
    const service = InfrastructureService.typed<AppTables>();
    const report = await service.initDb();
    expect(report.migrations.map((migration) => migration.name)).toContain('001_notes');
    await service.withSession((tx) => tx.insertInto('notes').values({ body: 'first' }).execute());
    const notes = await service.withSession((tx) => tx.selectFrom('notes').select(['body']).execute());
    expectTypeOf(notes).toEqualTypeOf<Array<{ body: string }>>();
    expect(notes).toEqual([{ body: 'first' }]);
    expect(typeof InfrastructureService.streamPrompt).toBe('function');
    const first = await service.instance();
    await service.close();
    expect(first.closed).toBe(true);
    // The next call opens a new default instance with the same options.
    const second = await service.instance();
    expect(second).not.toBe(first);
    expect(second.closed).toBe(false);
  });

  it('runs a prompt for a tenant, as the facade does', async () => {
    InfrastructureService.configure({ env: { DATABASE_URL: 'sqlite::memory:', OPENAI_API_KEY: 'sk-test' }, envFile: false });
    await InfrastructureService.initDb();
    const prompt = definePrompt({ name: 'service-tenant', version: 1, template: 'Say {{word}}.' });
    // An unknown key is refused before any provider is called: the tenant was honoured, not dropped.
    const refused = InfrastructureService.executePrompt(prompt, { word: 'hi' }, { tenant: 'no-such-key' });
    await expect(refused).rejects.toMatchObject({ code: 'tenant_not_found' });
  });

  it('embeds and reports migrations as the facade does, a tenant honoured, not dropped', async () => {
    const fake = await startFakeProviderServer();
    try {
      InfrastructureService.configure({
        env: { DATABASE_URL: 'sqlite::memory:', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl, LLM_MAX_ATTEMPTS: '1' },
        envFile: false,
      });
      expect((await InfrastructureService.migrationStatus()).every((migration) => migration.executedAt === undefined)).toBe(true);
      await InfrastructureService.initDb();
      expect((await InfrastructureService.migrationStatus()).every((migration) => migration.executedAt !== undefined)).toBe(true);
      const embedded = await InfrastructureService.embed(['one', 'two'], { format: 'number' });
      expect(embedded.vectors).toHaveLength(2);
      expectTypeOf(embedded.vectors).toEqualTypeOf<number[][]>();
      expect(fake.requests.filter((request) => request.path.endsWith('/embeddings'))).toHaveLength(1);
      await expect(InfrastructureService.embed('three', { tenant: 'no-such-key' })).rejects.toMatchObject({ code: 'tenant_not_found' });
      expect(fake.requests.filter((request) => request.path.endsWith('/embeddings'))).toHaveLength(1);
    } finally {
      await InfrastructureService.close();
      await fake.close();
    }
  });

  it('keeps the instance opened after close() when an earlier one fails to open, and close() does not throw its error', async () => {
    InfrastructureService.configure({ env: { DATABASE_URL: 'sqlite::memory:', PORT: 'nope' }, envFile: false });
    const failing = InfrastructureService.instance();
    failing.catch(() => undefined);
    // Shut down while the first is still opening, then start again with good options.
    const closing = InfrastructureService.close();
    InfrastructureService.configure({ env: { DATABASE_URL: 'sqlite::memory:' }, envFile: false });
    const opening = InfrastructureService.instance();
    await expect(failing).rejects.toThrow(/PORT/);
    await expect(closing).resolves.toBeUndefined();
    const opened = await opening;
    // The first one's failure must not make the service forget the second, which would then never be closed.
    expect(await InfrastructureService.instance()).toBe(opened);
    await InfrastructureService.close();
    expect(opened.closed).toBe(true);
  });
});
