import { GroundworkError } from '../../errors/groundwork-error.js';
import type { Infrastructure } from '../../infrastructure.js';

/**
 * Readies Groundwork's own tables for a command other than `migrate` and `serve`. With
 * `DB_MIGRATE_ON_START=true` (the default) it applies Groundwork's pending migrations; with `false`
 * it applies none and refuses, naming `groundwork migrate`, while any is pending. The application's
 * migrations (`DB_MIGRATIONS_DIR`) are never applied here: only `groundwork migrate` and
 * `groundwork serve` apply them.
 */
export async function prepareDatabase(infrastructure: Infrastructure): Promise<void> {
  if (infrastructure.config.database.migrateOnStart) {
    await infrastructure.database.migrate('up', 'groundwork');
    return;
  }
  const pending = (await infrastructure.migrationStatus()).filter(
    (migration) => migration.scope === 'groundwork' && migration.executedAt === undefined,
  );
  if (pending.length > 0) {
    throw new GroundworkError(
      'migrations_pending',
      `${pending.length} of Groundwork's migrations ${pending.length === 1 ? 'is' : 'are'} pending and DB_MIGRATE_ON_START=false: run \`groundwork migrate\` first.`,
    );
  }
}
