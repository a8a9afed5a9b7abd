import { SqliteAdapter } from 'kysely';

/**
 * Kysely's SQLite adapter, with transactional DDL switched on: SQLite supports it, and running
 * each migration batch in one `BEGIN IMMEDIATE` transaction is what makes two processes that
 * migrate the same file at once take turns — the second finds nothing left to do.
 */
export class GroundworkSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
