import type { Kysely } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import { toNano } from './budget-store.js';

/** Settled spend by the usage ledger, for the spend counters of budgets. */
export interface LedgerSpend {
  /** Whether `counter` is a spend counter the ledger can rebuild (not a concurrency counter). */
  covers(counter: string): boolean;
  /** What the ledger holds for `counter`, in nano-USD (rounded up). */
  spentNano(counter: string): Promise<number>;
}

const SPEND_COUNTER = /^(key|team):([^:]+):(?:(day):(\d{4}-\d{2}-\d{2})|(month):(\d{4}-\d{2})|(total))$/;

/** The ledger rows a spend counter sums: whose, and from when to when (UTC); undefined for other counters. */
export function ledgerScope(counter: string): { column: 'key_id' | 'team_id'; id: string; from?: Date; to?: Date } | undefined {
  const match = SPEND_COUNTER.exec(counter);
  if (match === null) return undefined;
  const column = match[1] === 'key' ? 'key_id' : 'team_id';
  const id = match[2] as string;
  if (match[3] === 'day') {
    const from = new Date(`${match[4]}T00:00:00.000Z`);
    return { column, id, from, to: new Date(from.getTime() + 86_400_000) };
  }
  if (match[5] === 'month') {
    const from = new Date(`${match[6]}-01T00:00:00.000Z`);
    return { column, id, from, to: new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1)) };
  }
  return { column, id };
}

/**
 * The `llm_usage` ledger as a source of settled spend: the cost of every call of the key (or
 * team) recorded within the counter's UTC day or month, or ever for a total budget. A call is
 * recorded when it ends, so one admitted just before a period's end counts in the next here.
 */
export function ledgerSpend(db: Kysely<GroundworkTables>): LedgerSpend {
  return {
    covers: (counter) => SPEND_COUNTER.test(counter),
    async spentNano(counter) {
      const scope = ledgerScope(counter);
      if (scope === undefined) throw new Error(`"${counter}" is not a spend counter`);
      let query = db
        .selectFrom('llm_usage')
        .select((select) => select.fn.sum<string | number | null>('cost_usd').as('spent'))
        .where(scope.column, '=', scope.id);
      if (scope.from !== undefined) query = query.where('created_at', '>=', scope.from);
      if (scope.to !== undefined) query = query.where('created_at', '<', scope.to);
      const row = await query.executeTakeFirst();
      return toNano(Number(row?.spent ?? 0));
    },
  };
}
