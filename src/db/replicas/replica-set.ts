import type { Transaction } from 'kysely';
import { type Clock, type TimerHandle, unrefTimer } from '../../internal/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { GroundworkMetrics } from '../../observability/metrics.js';
import { scrubSecrets } from '../../observability/redact.js';
import type { SessionOptions } from '../database.js';
import { isConnectionLost } from '../driver-errors.js';
import type { SessionRunner } from '../session-runner.js';
import type { Replica } from './replica.js';

/** Where a read went: a replica, the primary because the caller asked, or the primary because no replica was healthy. */
export type ReadTarget = 'replica' | 'primary' | 'primary_fallback';

/** Why a server that is not in recovery is skipped. */
const NOT_STANDBY = 'not a standby (pg_is_in_recovery() is false): promoted, or not a replica of DATABASE_URL';

/** A lag measurement's bound: `max(1 s, checkIntervalMs)`. */
export function lagTimeoutMs(checkIntervalMs: number): number {
  return Math.max(1000, checkIntervalMs);
}

/** Settings of a {@link ReplicaSet}. */
export interface ReplicaSetOptions {
  readonly maxLagMs: number;
  readonly checkIntervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: GroundworkMetrics | undefined;
}

/** One replica as health reports it: no URL, no credentials. */
export interface ReplicaStatus {
  readonly replica: string;
  readonly state: Replica<unknown>['state'];
  /** Last measured lag in ms (null when unknown: unreachable, or nothing replayed yet). */
  readonly lagMs: number | null;
  readonly reason?: string;
  /** When it was last measured (ISO 8601), null before the first measurement. */
  readonly checkedAt: string | null;
  readonly pool: ReturnType<Replica<unknown>['stats']>;
}

/**
 * The read replicas of one primary: measures each one's lag every `checkIntervalMs` (an unref'd
 * timer, stopped on close), routes reads round robin over the healthy ones, and falls back to
 * the primary when none is. State changes are logged once each, not per read.
 */
export class ReplicaSet<DB> {
  readonly replicas: readonly Replica<DB>[];
  readonly #options: ReplicaSetOptions;
  #next = 0;
  #timer: TimerHandle | undefined;
  #closed = false;
  /** Whether the last routing decision found no healthy replica (logged once per change). */
  #fallingBack = false;
  #checks: Promise<void> | undefined;

  constructor(replicas: readonly Replica<DB>[], options: ReplicaSetOptions) {
    this.replicas = replicas;
    this.#options = options;
    for (const replica of replicas) options.metrics?.dbReplicaUp.labels(replica.label).set(0);
  }

  /** Measures every replica once (so the first reads are routed on facts), then every `checkIntervalMs`. */
  async start(): Promise<void> {
    await this.checkNow();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    const { clock } = this.#options;
    this.#timer = unrefTimer(
      clock.setTimeout(() => {
        this.#timer = undefined;
        void this.checkNow().finally(() => this.#schedule());
      }, this.#options.checkIntervalMs),
    );
  }

  /** Measures every replica now (a measurement already running is not started twice). */
  checkNow(): Promise<void> {
    this.#checks ??= Promise.all(this.replicas.map((replica) => this.#check(replica))).then(
      () => {
        this.#checks = undefined;
        this.#noteRouting();
      },
      () => {
        this.#checks = undefined;
      },
    );
    return this.#checks;
  }

  async #check(replica: Replica<DB>): Promise<void> {
    // A measurement still running (one that timed out included) is not started twice: a slow
    // replica gets one lag query at a time, never a pile of them.
    if (replica.probe.running || this.#closed) return;
    const { clock, maxLagMs, checkIntervalMs } = this.#options;
    let timer: TimerHandle | undefined;
    try {
      // A replica that does not answer within an interval (a black-holed host) counts as down.
      const limit = lagTimeoutMs(checkIntervalMs);
      const measuring = replica.probe.measure(replica.mark, () => clock.now());
      const reading = await Promise.race([
        measuring,
        new Promise<never>((_resolve, reject) => {
          timer = unrefTimer(
            clock.setTimeout(() => {
              // Its connection is discarded, so its query ends now rather than running on.
              measuring.catch(() => undefined);
              replica.probe.abandon();
              reject(new Error(`no answer within ${limit} ms`));
            }, limit),
          );
        }),
      ]);
      replica.checkedAt = clock.now();
      replica.mark = reading.mark;
      // A server that is not a standby replays nothing from the primary: its lag is unknown, not 0.
      const known = reading.inRecovery && Number.isFinite(reading.lagMs);
      replica.lagMs = known ? reading.lagMs : undefined;
      if (this.#options.metrics !== undefined) {
        this.#options.metrics.dbReplicaLag.labels(replica.label).set(known ? reading.lagMs / 1000 : -1);
      }
      if (!reading.inRecovery) {
        // Promoted, or the primary listed by mistake: its data may have parted from the primary's.
        this.#transition(replica, 'down', NOT_STANDBY);
      } else if (reading.lagMs > maxLagMs) {
        const behind = Number.isFinite(reading.lagMs) ? `${Math.round(reading.lagMs)} ms` : 'an unknown time (nothing replayed yet)';
        this.#transition(replica, 'lagging', `${behind} behind the primary, over DB_REPLICA_MAX_LAG_MS=${maxLagMs}`);
      } else {
        this.#transition(replica, 'healthy', undefined);
      }
    } catch (error) {
      if (this.#closed) return;
      replica.checkedAt = clock.now();
      replica.lagMs = undefined;
      replica.mark = undefined;
      this.#options.metrics?.dbReplicaLag.labels(replica.label).set(-1);
      this.#transition(replica, 'down', `unreachable: ${scrubSecrets(error instanceof Error ? error.message : String(error))}`);
    } finally {
      clock.clearTimeout(timer);
    }
  }

  #transition(replica: Replica<DB>, state: Replica<DB>['state'], reason: string | undefined): void {
    const previous = replica.state;
    const previousReason = replica.reason;
    replica.reason = reason;
    // Found not to be a standby while already down (unreachable through a failover, say): said once too.
    if (previous === state && !(reason === NOT_STANDBY && previousReason !== NOT_STANDBY)) return;
    replica.state = state;
    this.#options.metrics?.dbReplicaUp.labels(replica.label).set(state === 'healthy' ? 1 : 0);
    const { logger } = this.#options;
    if (state === 'healthy') {
      if (previous !== 'starting')
        logger.info({ replica: replica.label, from: previous }, `database: replica ${replica.label} takes reads again`);
    } else {
      logger.warn({ replica: replica.label, state, reason }, `database: replica ${replica.label} is skipped (${state}): ${reason ?? ''}`);
    }
  }

  /** Logs when reads start or stop falling back to the primary (once per change). */
  #noteRouting(): void {
    const none = !this.replicas.some((replica) => replica.state === 'healthy');
    if (none === this.#fallingBack) return;
    this.#fallingBack = none;
    if (none) {
      this.#options.logger.warn(
        { replicas: this.replicas.map((replica) => ({ replica: replica.label, state: replica.state })) },
        'database: no read replica is healthy; read-only sessions go to the primary',
      );
    } else {
      this.#options.logger.info('database: a read replica is healthy again; read-only sessions go to the replicas');
    }
  }

  /** The next healthy replica, round robin, skipping `excluded`; undefined when none. */
  pick(excluded?: ReadonlySet<Replica<DB>>): Replica<DB> | undefined {
    const count = this.replicas.length;
    for (let step = 0; step < count; step++) {
      const replica = this.replicas[(this.#next + step) % count] as Replica<DB>;
      if (replica.state === 'healthy' && excluded?.has(replica) !== true) {
        this.#next = (this.#next + step + 1) % count;
        return replica;
      }
    }
    return undefined;
  }

  /** Counts a read by where it goes; a fallback also notes (and logs once) that no replica is healthy. */
  count(target: ReadTarget, replica?: Replica<DB>): void {
    if (target === 'primary_fallback') this.#noteRouting();
    this.#options.metrics?.dbReads.labels(target, replica?.label ?? '').inc();
  }

  /** A replica failed under a read: it is skipped from now on, until a measurement finds it back. */
  failed(replica: Replica<DB>, error: unknown): void {
    this.#options.metrics?.dbReplicaRetries.labels(replica.label).inc();
    this.#transition(replica, 'down', `failed during a read: ${scrubSecrets(error instanceof Error ? error.message : String(error))}`);
    this.#noteRouting();
  }

  /**
   * Runs a read-only session on a healthy replica (`BEGIN READ ONLY`), or on the primary when
   * none is. If the replica fails under it (the connection is lost, the server stops), the whole
   * session runs again on the next replica, or on the primary: a read-only transaction changed
   * nothing, and its result had not been returned yet.
   */
  async read<T>(fn: (tx: Transaction<DB>) => Promise<T>, options: SessionOptions, primary: SessionRunner<DB>): Promise<T> {
    const session: SessionOptions = { ...options, readOnly: true };
    const tried = new Set<Replica<DB>>();
    for (;;) {
      const replica = this.pick(tried);
      if (replica === undefined) {
        this.count('primary_fallback');
        return primary.run(fn, session);
      }
      this.count('replica', replica);
      try {
        return await replica.runner.run(fn, session);
      } catch (error) {
        if (this.#closed || !isConnectionLost(error)) throw error;
        tried.add(replica);
        this.failed(replica, error);
        this.#options.logger.debug({ replica: replica.label }, 'database: running a read again after its replica failed');
      }
    }
  }

  /** Each replica's state, lag and pool, for health. */
  status(): ReplicaStatus[] {
    return this.replicas.map((replica) => ({
      replica: replica.label,
      state: replica.state,
      lagMs: replica.lagMs === undefined ? null : Math.round(replica.lagMs),
      ...(replica.reason === undefined ? {} : { reason: replica.reason }),
      checkedAt: replica.checkedAt === undefined ? null : new Date(replica.checkedAt).toISOString(),
      pool: replica.stats(),
    }));
  }

  /**
   * Stops measuring, waits for running reads up to `timeoutMs`, closes every replica pool, each
   * whatever the others do; then fails with the first failure, if any. Idempotent.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    // A measurement waiting on a silent replica ends when its probe closes, not at its time bound.
    // A probe that fails to close fails its replica's close below, with the same promise.
    await Promise.allSettled(this.replicas.map((replica) => replica.probe.close()));
    await this.#checks;
    const results = await Promise.allSettled(this.replicas.map((replica) => replica.close(timeoutMs)));
    if (results.some((result) => result.status === 'fulfilled' && !result.value))
      this.#options.logger.warn({ timeoutMs }, 'database: closing replicas with reads still running');
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
}
