import { GroundworkError } from '../errors/groundwork-error.js';

/** A migration failed; the migrations before it stay applied, it and those after it do not. */
export class MigrationError extends GroundworkError {
  /** `groundwork` for Groundwork's own tables, `app` for the application's. */
  readonly scope: string;
  /** The migration that failed, when one did (otherwise the migrator itself failed). */
  readonly migration: string | undefined;

  constructor(scope: string, migration: string | undefined, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'db_migration_failed',
      migration === undefined
        ? `The ${scope} migrations could not run: ${reason}`
        : `The ${scope} migration "${migration}" failed and was rolled back: ${reason}`,
      { cause },
    );
    this.scope = scope;
    this.migration = migration;
  }
}
