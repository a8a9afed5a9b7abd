import { type Kysely, type Migration, SqliteAdapter } from 'kysely';

function isSqlite(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/**
 * Groundwork's own schema, applied before the application's migrations and tracked in its own
 * table (`groundwork_migration`), so the two never collide. Column types are spelled the
 * PostgreSQL way; on SQLite the declared types drive Groundwork's value mapping.
 */
export const GROUNDWORK_MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_llm_usage': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('llm_usage')
        .addColumn('id', isSqlite(db) ? 'integer' : 'bigserial', (column) => column.primaryKey())
        .addColumn('created_at', 'timestamptz', (column) => column.notNull())
        .addColumn('provider', 'text', (column) => column.notNull())
        .addColumn('model', 'text', (column) => column.notNull())
        .addColumn('prompt_name', 'text')
        .addColumn('prompt_version', 'text')
        .addColumn('prompt_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('completion_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('total_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('cached_prompt_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('reasoning_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('cost_usd', 'double precision', (column) => column.notNull().defaultTo(0))
        .addColumn('latency_ms', 'double precision', (column) => column.notNull().defaultTo(0))
        .addColumn('outcome', 'text', (column) => column.notNull())
        .addColumn('cache_hit', 'boolean', (column) => column.notNull().defaultTo(false))
        .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(1))
        .addColumn('request_id', 'text')
        .execute();
      await db.schema.createIndex('llm_usage_created_at_idx').on('llm_usage').column('created_at').execute();
      await db.schema.createIndex('llm_usage_provider_model_idx').on('llm_usage').columns(['provider', 'model', 'created_at']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('llm_usage').execute();
    },
  },
  '0002_llm_usage_operation': {
    // Chat and embeddings share the ledger; rows written before this column existed were chat.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('llm_usage')
        .addColumn('operation', 'text', (column) => column.notNull().defaultTo('chat'))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('llm_usage').dropColumn('operation').execute();
    },
  },
};
