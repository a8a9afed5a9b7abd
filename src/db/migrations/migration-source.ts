import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Migration, MigrationProvider } from 'kysely';
import { GroundworkError } from '../../errors/groundwork-error.js';

/**
 * The application's migrations: a folder of modules (each exporting `up` and optionally `down`,
 * applied in file-name order), a list keyed by name, or any Kysely `MigrationProvider`. A
 * migration without `down` cannot be reverted: `migrate('down')` refuses while it is the latest
 * applied one. Two files of one name (`001_notes.ts` beside its compiled `001_notes.js`) are refused.
 */
export type AppMigrations = string | Readonly<Record<string, Migration>> | MigrationProvider;

const MODULE = /\.(m?js|m?ts|cjs)$/;
const DECLARATION = /\.d\.(m|c)?ts$/;

function isMigration(value: unknown): value is Migration {
  return typeof value === 'object' && value !== null && typeof (value as { up?: unknown }).up === 'function';
}

/** Reads migrations from a folder: one module per migration, named by its file name without extension. */
export class FolderMigrationProvider implements MigrationProvider {
  readonly #folder: string;

  constructor(folder: string) {
    this.#folder = resolve(folder);
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    const files = (await readdir(this.#folder)).filter((file) => MODULE.test(file) && !DECLARATION.test(file)).sort();
    const fileOf = new Map<string, string>();
    for (const file of files) {
      const name = file.replace(MODULE, '');
      const other = fileOf.get(name);
      if (other !== undefined) {
        throw new GroundworkError(
          'migration_duplicate',
          `Migrations ${other} and ${file} in ${this.#folder} share the name "${name}": keep one of them (compiled output beside its sources, perhaps).`,
        );
      }
      fileOf.set(name, file);
    }
    for (const file of files) {
      const module = await loadMigration(resolve(this.#folder, file), file, this.#folder);
      const migration = isMigration(module.default) ? module.default : module;
      if (!isMigration(migration)) throw new Error(`Migration ${file} in ${this.#folder} exports no up() function`);
      migrations[file.replace(MODULE, '')] = migration;
    }
    return migrations;
  }
}

/** The provider for a folder, a list or a provider. */
export function migrationProvider(source: AppMigrations): MigrationProvider {
  if (typeof source === 'string') return new FolderMigrationProvider(source);
  if (typeof (source as MigrationProvider).getMigrations === 'function') return source as MigrationProvider;
  const list = source as Readonly<Record<string, Migration>>;
  return { getMigrations: async () => ({ ...list }) };
}

/** Imports one migration module; a module that cannot be loaded is named in one clear error. */
async function loadMigration(path: string, file: string, folder: string): Promise<{ default?: unknown }> {
  try {
    return (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    const typescript = /\.[cm]?ts$/.test(file) && (error as { code?: string }).code === 'ERR_UNKNOWN_FILE_EXTENSION';
    const hint = typescript ? ' Plain node cannot load TypeScript: run with tsx, or compile the migrations to .js.' : '';
    throw new GroundworkError('migration_unloadable', `Cannot load migration ${file} from ${folder}: ${(error as Error).message}.${hint}`, {
      cause: error,
    });
  }
}
