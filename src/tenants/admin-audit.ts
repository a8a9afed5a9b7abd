import type { Kysely } from 'kysely';
import type { GroundworkTables } from '../db/groundwork-tables.js';

/** One change made through the admin API, the CLI or `infra.tenants`. */
export interface AuditEntry {
  createdAt: Date;
  /** Who made it: `admin-api`, `cli`, `library`, or what the caller passed. */
  actor: string;
  /** `key.create`, `key.update`, `key.revoke`, `key.rotate`, `team.create`… */
  action: string;
  targetType: 'key' | 'team';
  targetId: string;
  /** What changed: field values, never a plain key or a digest. */
  details: Record<string, unknown> | null;
}

/** Writes one audit row, inside the caller's transaction so the change and its record commit together. */
export async function writeAudit(db: Kysely<GroundworkTables>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('groundwork_admin_audit')
    .values({
      created_at: entry.createdAt,
      actor: entry.actor,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      details: entry.details,
    })
    .execute();
}

/** The newest audit rows first, optionally for one target. */
export async function readAudit(db: Kysely<GroundworkTables>, options: { targetId?: string; limit?: number } = {}): Promise<AuditEntry[]> {
  let query = db
    .selectFrom('groundwork_admin_audit')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(options.limit ?? 100);
  if (options.targetId !== undefined) query = query.where('target_id', '=', options.targetId);
  const rows = await query.execute();
  return rows.map((row) => ({
    createdAt: row.created_at,
    actor: row.actor,
    action: row.action,
    targetType: row.target_type === 'team' ? 'team' : 'key',
    targetId: row.target_id,
    details: row.details,
  }));
}
