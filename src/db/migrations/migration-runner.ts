import { type Kysely, type MigrationResultSet, Migrator, NO_MIGRATIONS } from 'kysely';
import { GroundworkError } from '../../errors/groundwork-error.js';
import type { Logger } from '../../observability/logger.js';
import { MigrationError } from '../migration-error.js';
import { GROUNDWORK_MIGRATIONS } from './groundwork-migrations.js';
import { type AppMigrations, migrationProvider } from './migration-source.js';

/** Whose migration: Groundwork's own tables, or the application's. */
export type MigrationScope = 'groundwork' | 'app';

/** One migration and whether it has run. */
export interface MigrationState {
  readonly scope: MigrationScope;
  readonly name: string;
  /** When it was applied; undefined while pending. */
  readonly executedAt: Date | undefined;
}

/** What one `migrate()` call did. */
export interface MigrationReport {
  readonly direction: 'up' | 'down';
  /** The migrations applied (up) or reverted (down), in order. */
  readonly migrations: ReadonlyArray<{ readonly scope: MigrationScope; readonly name: string }>;
}

interface MigrationSet {
  readonly scope: MigrationScope;
  readonly migrator: Migrator;
}

function irreversible(scope: MigrationScope, name: string): GroundworkError {
  const table = scope === 'app' ? 'kysely_migration' : 'groundwork_migration';
  return new GroundworkError(
    'db_migration_irreversible',
    `The latest applied ${scope} migration "${name}" has no down(), so it cannot be reverted and nothing was reverted. Give it a down(), or undo its changes by hand and delete its row from ${table}.`,
  );
}

/**
 * Runs Groundwork's migrations (table `groundwork_migration`) and then the application's
 * (table `kysely_migration`, Kysely's default, so an application already on Kysely keeps its
 * history). Each batch runs under the dialect's migration lock — an advisory lock on
 * PostgreSQL, `BEGIN IMMEDIATE` on SQLite, the single connection on PGlite — so when two
 * processes migrate at once, one runs and the other waits and then finds nothing to do.
 */
export class MigrationRunner {
  readonly #sets: readonly MigrationSet[];
  readonly #logger: Logger;

  constructor(db: Kysely<unknown>, appMigrations: AppMigrations | undefined, logger: Logger) {
    this.#logger = logger;
    const groundwork: MigrationSet = {
      scope: 'groundwork',
      migrator: new Migrator({
        db,
        provider: migrationProvider(GROUNDWORK_MIGRATIONS),
        migrationTableName: 'groundwork_migration',
        migrationLockTableName: 'groundwork_migration_lock',
      }),
    };
    this.#sets =
      appMigrations === undefined
        ? [groundwork]
        : [groundwork, { scope: 'app', migrator: new Migrator({ db, provider: migrationProvider(appMigrations) }) }];
  }

  /**
   * `up`: applies every pending migration, Groundwork's first. `down`: reverts the latest one (the
   * application's, if any ran), and refuses, reverting nothing, when it has no `down()`. With a
   * `scope`, only that scope's migrations are considered.
   */
  async migrate(direction: 'up' | 'down', scope?: MigrationScope): Promise<MigrationReport> {
    const done: Array<{ scope: MigrationScope; name: string }> = [];
    const sets = scope === undefined ? this.#sets : this.#sets.filter((set) => set.scope === scope);
    if (direction === 'up') {
      for (const set of sets) done.push(...this.#check(set.scope, await set.migrator.migrateToLatest()));
    } else {
      for (const set of [...sets].reverse()) {
        const latest = (await set.migrator.getMigrations()).findLast((migration) => migration.executedAt !== undefined);
        if (latest === undefined) continue;
        // Kysely skips a migration without down() in silence: it would stay applied, and block every earlier one.
        if (latest.migration.down === undefined) throw irreversible(set.scope, latest.name);
        done.push(...this.#check(set.scope, await set.migrator.migrateDown()));
        break;
      }
    }
    for (const migration of done) {
      this.#logger.info(
        { scope: migration.scope, migration: migration.name, direction },
        `database: migration ${migration.name} ${direction}`,
      );
    }
    return { direction, migrations: done };
  }

  /** Reverts every migration of a scope (tests and teardown). */
  async reset(scope: MigrationScope): Promise<MigrationReport> {
    const set = this.#sets.find((candidate) => candidate.scope === scope);
    if (set === undefined) return { direction: 'down', migrations: [] };
    return { direction: 'down', migrations: this.#check(scope, await set.migrator.migrateTo(NO_MIGRATIONS)) };
  }

  /** Every known migration and whether it has run. */
  async status(): Promise<MigrationState[]> {
    const states: MigrationState[] = [];
    for (const set of this.#sets) {
      try {
        for (const migration of await set.migrator.getMigrations()) {
          states.push({ scope: set.scope, name: migration.name, executedAt: migration.executedAt });
        }
      } catch (error) {
        throw new MigrationError(set.scope, undefined, error);
      }
    }
    return states;
  }

  #check(scope: MigrationScope, resultSet: MigrationResultSet): Array<{ scope: MigrationScope; name: string }> {
    const results = resultSet.results ?? [];
    if (resultSet.error !== undefined) {
      const failed = results.find((result) => result.status === 'Error');
      throw new MigrationError(scope, failed?.migrationName, resultSet.error);
    }
    return results.filter((result) => result.status === 'Success').map((result) => ({ scope, name: result.migrationName }));
  }
}
