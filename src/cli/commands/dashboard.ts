import { createInfrastructure } from '../../create-infrastructure.js';
import { groundworkTables } from '../../db/groundwork-tables.js';
import { rebuildRollup } from '../../db/usage-rollup.js';
import { silentLogger } from '../../observability/logger.js';
import { parseSince } from '../../tenants/usage-report.js';
import type { CommandIo } from '../output.js';
import { prepareDatabase } from './prepare-database.js';

/**
 * `groundwork dashboard rollup [--since AGE] [--json]`: recomputes the dashboard's hourly roll-ups
 * from the usage ledger, for every hour or for the hours since AGE (after rows were written into
 * `llm_usage` around the ledger: a backfill, a restore).
 */
export async function dashboardRollupCommand(args: { since: string | undefined; json: boolean }, io: CommandIo): Promise<number> {
  const fromMs = args.since === undefined ? undefined : Date.now() - parseSince(args.since);
  const infrastructure = await createInfrastructure({ env: io.env, isTty: io.isTty, logger: silentLogger() });
  try {
    await prepareDatabase(infrastructure);
    const started = performance.now();
    const rows = await rebuildRollup(groundworkTables(infrastructure.db), { fromMs });
    const from = fromMs === undefined ? null : new Date(Math.floor(fromMs / 3_600_000) * 3_600_000).toISOString();
    const tookMs = Math.round(performance.now() - started);
    if (args.json) io.out(JSON.stringify({ from, rollupRows: rows, tookMs }));
    else io.out(`Rolled up the usage ledger ${from === null ? 'in full' : `from ${from}`}: ${rows} hourly rows in ${tookMs} ms.`);
    return 0;
  } finally {
    await infrastructure.close();
  }
}
