import { createInfrastructure } from '../../create-infrastructure.js';
import { groundworkTables } from '../../db/groundwork-tables.js';
import { silentLogger } from '../../observability/logger.js';
import { parseSince, type UsageGrouping, usageReport } from '../../tenants/usage-report.js';
import type { CommandIo } from '../output.js';
import { prepareDatabase } from './prepare-database.js';

/** `groundwork usage --by key|team|model|prompt --since 7d [--json]`: spend from the ledger. */
export async function usageCommand(args: { by: UsageGrouping; since: string; json: boolean }, io: CommandIo): Promise<number> {
  const since = new Date(Date.now() - parseSince(args.since));
  const infrastructure = await createInfrastructure({ env: io.env, isTty: io.isTty, logger: silentLogger() });
  try {
    await prepareDatabase(infrastructure);
    const rows = await usageReport(groundworkTables(infrastructure.db), { by: args.by, since });
    if (args.json) {
      io.out(JSON.stringify({ by: args.by, since: since.toISOString(), rows }, null, 2));
      return 0;
    }
    io.err(`Usage by ${args.by} since ${since.toISOString()}:`);
    const header = [args.by.toUpperCase(), 'CALLS', 'PROMPT TOKENS', 'COMPLETION TOKENS', 'COST USD'];
    const lines = rows.map((row) => [
      row.name === null ? (row.group ?? '(none)') : `${row.name} (${row.group})`,
      String(row.calls),
      String(row.promptTokens),
      String(row.completionTokens),
      row.costUsd.toFixed(6),
    ]);
    const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)));
    const format = (cells: string[]) =>
      cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
    io.out(format(header));
    for (const line of lines) io.out(format(line));
    if (lines.length === 0) io.out('No calls in this period.');
    return 0;
  } finally {
    await infrastructure.close();
  }
}
