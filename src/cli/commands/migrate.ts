import { createInfrastructure } from '../../create-infrastructure.js';
import { silentLogger } from '../../observability/logger.js';
import type { CommandIo } from '../output.js';

/** `groundwork migrate [up|down|status]`: applies, reverts one, or lists migrations (Groundwork's and the application's). */
export async function migrateCommand(args: { action: 'up' | 'down' | 'status'; json: boolean }, io: CommandIo): Promise<number> {
  const infrastructure = await createInfrastructure({ env: io.env, isTty: io.isTty, logger: silentLogger() });
  try {
    io.err(`Database: ${infrastructure.config.database.displayUrl}`);
    if (args.action === 'status') {
      const states = await infrastructure.migrationStatus();
      if (args.json) io.out(JSON.stringify(states, null, 2));
      else if (states.length === 0) io.out('No migrations.');
      else
        for (const state of states)
          io.out(
            `  ${state.executedAt === undefined ? 'pending ' : 'applied '} ${state.scope.padEnd(10)} ${state.name}${state.executedAt === undefined ? '' : `  (${state.executedAt.toISOString()})`}`,
          );
      return 0;
    }
    io.err(args.action === 'up' ? 'Applying pending migrations…' : 'Reverting the latest migration…');
    const report = await infrastructure.database.migrate(args.action);
    if (args.json) io.out(JSON.stringify(report, null, 2));
    else if (report.migrations.length === 0)
      io.out(args.action === 'up' ? 'Nothing to do: every migration is applied.' : 'Nothing to revert.');
    else
      for (const migration of report.migrations)
        io.out(`  ${args.action === 'up' ? 'applied ' : 'reverted'} ${migration.scope.padEnd(10)} ${migration.name}`);
    return 0;
  } finally {
    await infrastructure.close();
  }
}
