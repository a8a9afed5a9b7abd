/** One measurement of a replica, as {@link measureLag} reads it. */
export interface LagReading {
  /** How far the replica's data may be behind the primary's, in ms (an upper bound; infinite when unknown). */
  readonly lagMs: number;
  /** `pg_is_in_recovery()`: false means the server is not a standby (promoted, or a primary listed by mistake). */
  readonly inRecovery: boolean;
  /**
   * `pg_stat_wal_receiver.status` (`streaming` when connected to the primary); `running` when the
   * role may not read the status (no `pg_read_all_stats`) but a receiver runs; undefined when none runs.
   */
  readonly receiver: string | undefined;
  /** The WAL position received so far, and when (this process's clock) it was asked for: the next reading compares against it. */
  readonly mark: LagMark | undefined;
}

/** A replica's received WAL position at a moment, kept between readings. */
export interface LagMark {
  readonly receiveLsn: string;
  readonly at: number;
}

/** A connection (or pool) that runs one parameterised statement: a `pg` client or pool. */
export interface LagQueryClient {
  query(sql: string, parameters: unknown[]): Promise<{ rows: unknown[] }>;
}

const LAG_QUERY = `select pg_is_in_recovery() as in_recovery,
       pg_last_wal_receive_lsn()::text as receive_lsn,
       pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() as caught_up,
       pg_last_wal_replay_lsn() >= $1::pg_lsn as replayed_mark,
       (select coalesce(status, case when pid is not null then 'running' end) from pg_stat_wal_receiver limit 1) as receiver,
       extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000 as replay_age_ms`;

interface LagRow {
  in_recovery: boolean;
  receive_lsn: string | null;
  caught_up: boolean | null;
  replayed_mark: boolean | null;
  receiver: string | null;
  replay_age_ms: string | number | null;
}

/**
 * Measures how stale a replica's data may be, as an upper bound:
 *
 * - streaming from the primary and everything received replayed
 *   (`pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()`): 0;
 * - streaming and everything received by the previous reading replayed: at most the time since
 *   that reading (or the age of its last replayed commit, if smaller);
 * - otherwise the age of its last replayed commit, `now() - pg_last_xact_replay_timestamp()`
 *   (infinite when it has replayed none).
 *
 * The replay timestamp alone overstates lag: on a primary that writes no commits for a while (or
 * writes only WAL that is not a commit), the last replayed commit is old although nothing visible
 * is missing. The replay position passing the previous reading's receive position bounds that case.
 */
export async function measureLag(client: LagQueryClient, previous: LagMark | undefined, now: () => number): Promise<LagReading> {
  const at = now();
  const { rows } = await client.query(LAG_QUERY, [previous?.receiveLsn ?? null]);
  const row = rows[0] as LagRow | undefined;
  if (row === undefined) throw new Error('the lag query returned no row');
  const receiver = row.receiver ?? undefined;
  const mark = row.receive_lsn === null ? undefined : { receiveLsn: row.receive_lsn, at };
  if (!row.in_recovery) return { lagMs: 0, inRecovery: false, receiver, mark };
  const age = row.replay_age_ms === null ? Number.POSITIVE_INFINITY : Math.max(0, Number(row.replay_age_ms));
  // Without pg_read_all_stats a role sees only that a receiver runs (its pid), not its status.
  const streaming = receiver === 'streaming' || receiver === 'running';
  if (streaming && row.caught_up === true) return { lagMs: 0, inRecovery: true, receiver, mark };
  if (streaming && row.replayed_mark === true && previous !== undefined) {
    return { lagMs: Math.min(age, Math.max(0, now() - previous.at)), inRecovery: true, receiver, mark };
  }
  return { lagMs: age, inRecovery: true, receiver, mark };
}
