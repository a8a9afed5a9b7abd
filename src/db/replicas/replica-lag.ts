import { type Kysely, sql } from 'kysely';

/** One measurement of a replica, as {@link measureLag} reads it. */
export interface LagReading {
  /** How far the replica's data is behind the primary's, in ms: 0 when it has replayed all it received while streaming. */
  readonly lagMs: number;
  /** `pg_is_in_recovery()`: false means the server is not a standby (promoted, or a primary listed by mistake). */
  readonly inRecovery: boolean;
  /** `pg_stat_wal_receiver.status` (`streaming` when connected to the primary), or undefined when no receiver runs. */
  readonly receiver: string | undefined;
}

interface LagRow {
  in_recovery: boolean;
  caught_up: boolean | null;
  receiver: string | null;
  replay_age_ms: string | number | null;
}

/**
 * Measures a replica's lag. `now() - pg_last_xact_replay_timestamp()` alone overstates it when
 * the primary is idle: the last replayed commit is old although nothing is missing. So a replica
 * that streams from the primary and has replayed everything it received
 * (`pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()`) counts as 0 ms behind; otherwise the
 * age of its last replayed commit is its lag (infinite when it has replayed none yet).
 */
export async function measureLag(db: Kysely<unknown>): Promise<LagReading> {
  const { rows } = await sql<LagRow>`
    select pg_is_in_recovery() as in_recovery,
           pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() as caught_up,
           (select status from pg_stat_wal_receiver limit 1) as receiver,
           extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000 as replay_age_ms`.execute(db);
  const row = rows[0];
  if (row === undefined) throw new Error('the lag query returned no row');
  const receiver = row.receiver ?? undefined;
  if (!row.in_recovery) return { lagMs: 0, inRecovery: false, receiver };
  if (row.caught_up === true && receiver === 'streaming') return { lagMs: 0, inRecovery: true, receiver };
  const age = row.replay_age_ms === null ? Number.POSITIVE_INFINITY : Math.max(0, Number(row.replay_age_ms));
  return { lagMs: age, inRecovery: true, receiver };
}
