import type { Kysely, Migration } from 'kysely';

/**
 * The learning example's schema, as application migrations for `createInfrastructure({ migrations })`.
 * Ids are application-generated UUID strings and timestamps ISO strings, so the same migration
 * runs on SQLite, PGlite and PostgreSQL.
 */
export const learningMigrations: Record<string, Migration> = {
  '2025_01_01_001_users': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'varchar(36)', (column) => column.primaryKey())
        .addColumn('username', 'varchar(100)', (column) => column.notNull().unique())
        .addColumn('telegram_id', 'bigint', (column) => column.unique())
        .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('users').execute();
    },
  },
  '2025_01_01_002_learning_sessions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('learning_sessions')
        .addColumn('id', 'varchar(36)', (column) => column.primaryKey())
        .addColumn('user_id', 'varchar(36)', (column) => column.notNull().references('users.id').onDelete('cascade'))
        .addColumn('topic', 'text', (column) => column.notNull())
        .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
        .execute();
      await db.schema.createIndex('learning_sessions_user_id').on('learning_sessions').column('user_id').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('learning_sessions').execute();
    },
  },
  '2025_01_01_003_questions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('questions')
        .addColumn('id', 'varchar(36)', (column) => column.primaryKey())
        .addColumn('session_id', 'varchar(36)', (column) => column.notNull().references('learning_sessions.id').onDelete('cascade'))
        .addColumn('position', 'integer', (column) => column.notNull())
        .addColumn('question', 'text', (column) => column.notNull())
        .addColumn('options', 'text', (column) => column.notNull())
        .addColumn('correct_index', 'integer', (column) => column.notNull())
        .addColumn('explanation', 'text', (column) => column.notNull())
        .addUniqueConstraint('questions_session_position', ['session_id', 'position'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('questions').execute();
    },
  },
};
