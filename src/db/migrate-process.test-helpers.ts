/*
 * Run as a separate process by sqlite-migrators.test.ts: migrates the SQLite file given as the
 * first argument and prints what it applied as JSON.
 */
import { silentLogger } from '../observability/logger.js';
import { createDatabase } from './create-database.js';
import { CONTRACT_MIGRATIONS, databaseConfig } from './database-contract.test-helpers.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: migrate-process <sqlite file>');
const database = await createDatabase(databaseConfig(`sqlite:${path}`, { acquireTimeoutMs: 20_000 }), {
  logger: silentLogger(),
  migrations: {
    ...CONTRACT_MIGRATIONS,
    // Slow enough that the two processes overlap.
    '003_slow': {
      async up(db) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await db.schema.createTable('slow_marker').addColumn('id', 'integer').execute();
      },
    },
  },
});
const report = await database.migrate('up');
await database.close();
process.stdout.write(JSON.stringify(report.migrations.map((migration) => `${migration.scope}/${migration.name}`)));
