import { type Kysely, SqliteAdapter, sql } from 'kysely';
import { errorCode } from '../db/driver-errors.js';
import type { GroundworkTables } from '../db/groundwork-tables.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { counterExpiresAt } from './budget-limits.js';
import {
  type BudgetState,
  type BudgetStore,
  type ReserveRequest,
  type ReserveResult,
  SETTLED_MARKER_MS,
  type SettleOptions,
} from './budget-store.js';
import type { LedgerSpend } from './ledger-spend.js';

type Db = Kysely<GroundworkTables>;

/** A counter's row as a read of its spend answers it. */
interface SpentRow {
  counter: string;
  spent_nano: string | number;
}

/** A counter to create if missing, with when it may be deleted (ms since the epoch; undefined: never). */
interface CounterRow {
  counter: string;
  expiresAt: number | undefined;
}

/** How often, and how much of, the counters of ended periods a store deletes. */
export interface DatabaseBudgetStoreOptions {
  /**
   * At most one sweep of ended counters per this many ms (of the clock the calls pass), started by a
   * settlement. At least 1; a sweep is never started while another one of this store runs. @default 60000
   */
  sweepIntervalMs?: number;
  /**
   * At most this many ended counters deleted per sweep, and rows under them per delete: a whole
   * number from 1 to {@link MAX_SWEEP_BATCH}. @default 200
   */
  sweepBatch?: number;
  /** Where a failed sweep is reported (its error's code, never its statement or values). */
  logger?: Logger | undefined;
  /** Counts failed sweeps, as `groundwork_store_failures_total{component="tenant_budget_sweep"}`. */
  metrics?: GroundworkMetrics | undefined;
}

/** How often a transaction is run again when a sweep deleted its counters between their insert and their lock. */
const LOCK_ATTEMPTS = 3;

/**
 * The largest {@link DatabaseBudgetStoreOptions.sweepBatch}. A sweep's delete of the rows under its
 * counters binds 4N + 1 parameters for N counters (each counter and its marker counter, twice, and the
 * limit): 32 001 at 8 000, within SQLite's default SQLITE_MAX_VARIABLE_NUMBER of 32 766, which
 * better-sqlite3 keeps (10 000 would bind 40 001, and every sweep of a full batch would fail), and
 * PostgreSQL's 65 535.
 */
export const MAX_SWEEP_BATCH = 8_000;

/** At most this many delete statements per sweep: a sweep cut short leaves the rest to the next one. */
const SWEEP_DELETES = 10;

/** A counter inserted was deleted (by a sweep elsewhere) before its lock was taken: the transaction is run again. */
class CounterVanished extends Error {
  override readonly name = 'CounterVanished';
}

/**
 * Budgets in the application's database, for fleets without Redis. Each operation is one
 * transaction that first locks the counters it touches (in a fixed order, so two never
 * deadlock): `SELECT … FOR UPDATE` on PostgreSQL and PGlite, the write lock that
 * `BEGIN IMMEDIATE` takes on SQLite. Reserved spend is the sum of the live leases, so a lapsed
 * one stops counting at once, and is deleted by the next operation on its counter.
 *
 * A settlement with spend is remembered by a marker row (the reservation's id, under the counter
 * `settled:<counter>`, amount 0) so that a repeat adds nothing. Markers sit outside every real
 * counter's range of the `(counter, expires_at)` index, so the sum a reserve takes never walks
 * them however many calls were settled; a settle prunes its counters' lapsed markers.
 *
 * A counter of a day or a month carries when it may be forgotten (`expires_at`, its period's end
 * plus a margin). At most once per {@link DatabaseBudgetStoreOptions.sweepIntervalMs}, after a
 * settlement has committed, the store starts deleting a bounded batch of counters past it, with the
 * rows left under them and their markers, in a transaction of its own and in the background: no
 * settlement waits for it, one runs at a time in a process, and a sweep that fails is logged and
 * counted and never undoes the settlement. Reserves and the other settlements add no query for it.
 * {@link DatabaseBudgetStore.close} waits for a sweep under way: call it before the database closes.
 */
export class DatabaseBudgetStore implements BudgetStore {
  readonly #db: Db;
  readonly #sqlite: boolean;

  readonly #ledger: LedgerSpend | undefined;
  readonly #sweepIntervalMs: number;
  readonly #sweepBatch: number;
  /** When the next settlement sweeps ended counters (ms since the epoch): the first one does. */
  #nextSweepAt = Number.NEGATIVE_INFINITY;
  /** The sweep under way, if any. */
  #sweeping: Promise<void> | undefined;
  #closed = false;
  readonly #logger: Logger | undefined;
  readonly #metrics: GroundworkMetrics | undefined;

  /** @param ledger The usage ledger, for {@link DatabaseBudgetStore.rebuild} on demand. */
  constructor(db: Kysely<GroundworkTables>, ledger?: LedgerSpend, options: DatabaseBudgetStoreOptions = {}) {
    this.#db = db;
    this.#sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
    this.#ledger = ledger;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    if (typeof this.#sweepIntervalMs !== 'number' || !Number.isFinite(this.#sweepIntervalMs) || this.#sweepIntervalMs < 1) {
      throw new RangeError(`sweepIntervalMs must be a finite number of at least 1, got ${String(options.sweepIntervalMs)}`);
    }
    this.#sweepBatch = options.sweepBatch ?? 200;
    if (!Number.isInteger(this.#sweepBatch) || this.#sweepBatch < 1 || this.#sweepBatch > MAX_SWEEP_BATCH) {
      throw new RangeError(`sweepBatch must be a whole number from 1 to ${MAX_SWEEP_BATCH}, got ${String(options.sweepBatch)}`);
    }
    this.#logger = options.logger;
    this.#metrics = options.metrics;
  }

  /** Sets a counter's settled spend to the usage ledger's, and when it may be forgotten (on demand: a correction). */
  async rebuild(counter: string, expiresAt: number | undefined): Promise<number> {
    if (this.#ledger === undefined) throw new Error('this budget store has no ledger to rebuild from');
    const spent = await this.#ledger.spentNano(counter);
    await this.#locking(undefined, async (tx) => {
      await this.#lockAndPrune(tx, [{ counter, expiresAt }], Date.now());
      await tx
        .updateTable('groundwork_budget_counters')
        .set({ spent_nano: spent, expires_at: toDate(expiresAt) })
        .where('counter', '=', counter)
        .execute();
    });
    return spent;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the caller's transaction is over the application's schema.
  within(session: Kysely<any>): BudgetStore {
    const tx = session as Db;
    return {
      reserve: (request) => this.#reserve(request, tx),
      settle: (reservationId, counters, spentNano, now, options) => this.#settle(reservationId, counters, spentNano, now, options, tx),
      read: (counters, now) => this.#read(counters, now, tx),
    };
  }

  reserve(request: ReserveRequest): Promise<ReserveResult> {
    return this.#reserve(request, undefined);
  }

  async #reserve(request: ReserveRequest, session: Db | undefined): Promise<ReserveResult> {
    const budgets = [...request.budgets].sort((a, b) => (a.counter < b.counter ? -1 : a.counter > b.counter ? 1 : 0));
    const counters = budgets.map((budget) => budget.counter);
    if (counters.length === 0) return { granted: true, amountNano: request.amountNano };
    const minimum = Math.min(request.minimumNano ?? request.amountNano, request.amountNano);
    return this.#locking(session, async (tx) => {
      const states = await this.#lockAndRead(tx, budgets, request.now);
      let grant = request.amountNano;
      for (const [index, budget] of budgets.entries()) {
        const state = states[index] as BudgetState;
        grant = Math.min(grant, budget.limitNano - state.spentNano - state.reservedNano);
        if (grant < minimum) return { granted: false, counter: budget.counter, limitNano: budget.limitNano, ...pick(state) };
      }
      const expiresAt = new Date(request.leaseUntil);
      await tx
        .insertInto('groundwork_budget_reservations')
        .values(counters.map((counter) => ({ id: request.reservationId, counter, amount_nano: grant, expires_at: expiresAt })))
        .execute();
      return { granted: true, amountNano: grant };
    });
  }

  settle(reservationId: string, counters: readonly string[], spentNano: number, now: number, options?: SettleOptions): Promise<void> {
    return this.#settle(reservationId, counters, spentNano, now, options, undefined);
  }

  async #settle(
    reservationId: string,
    counters: readonly string[],
    spentNano: number,
    now: number,
    options: SettleOptions | undefined,
    session: Db | undefined,
  ): Promise<void> {
    if (counters.length === 0) return;
    const sorted = [...new Set(counters)].sort();
    const spent = Math.max(0, Math.ceil(spentNano));
    const markers = sorted.map(markerCounter);
    await this.#locking(session, async (tx) => {
      // Lapsed leases (and markers) are deleted here, so with `once` a lapsed reservation counts as not held.
      await this.#lockAndPrune(
        tx,
        sorted.map((counter) => ({ counter, expiresAt: counterExpiresAt(counter) })),
        now,
        markers,
      );
      const repeated =
        spent > 0 &&
        (await tx
          .selectFrom('groundwork_budget_reservations')
          .select('counter')
          .where((where) =>
            where.or([
              where.and([where('id', '=', reservationId), where('counter', 'in', markers)]),
              // A marker left before markers had counters of their own: a lease row of nothing under `settled:<id>`.
              where.and([where('id', '=', `settled:${reservationId}`), where('counter', 'in', sorted)]),
            ]),
          )
          .executeTakeFirst()) !== undefined;
      const released = await tx
        .deleteFrom('groundwork_budget_reservations')
        .where('id', '=', reservationId)
        .where('counter', 'in', sorted)
        .returning(['counter', 'expires_at'])
        .execute();
      if (spent === 0 || repeated) return;
      const charged = options?.once === true ? released.map((row) => row.counter) : sorted;
      if (charged.length > 0) {
        await tx
          .updateTable('groundwork_budget_counters')
          .set({ spent_nano: sql`spent_nano + ${spent}` })
          .where('counter', 'in', charged)
          .execute();
      }
      const leaseEnd = Math.max(0, ...released.map((row) => new Date(row.expires_at).getTime()));
      const expiresAt = new Date(Math.max(now + SETTLED_MARKER_MS, leaseEnd));
      await tx
        .insertInto('groundwork_budget_reservations')
        .values(markers.map((counter) => ({ id: reservationId, counter, amount_nano: 0, expires_at: expiresAt })))
        .execute();
    });
    // A sweep runs on a connection of its own: never started from inside the caller's transaction.
    if (session === undefined && now >= this.#nextSweepAt && this.#sweeping === undefined && !this.#closed) {
      this.#nextSweepAt = now + this.#sweepIntervalMs;
      // In the background: the settlement's caller never waits for it, and it never rejects.
      this.#sweeping = this.#sweepSafely(now, sorted).finally(() => {
        this.#sweeping = undefined;
      });
    }
  }

  /** Resolves once the sweep under way, if any, has ended (it never rejects: a failed sweep is logged and counted). */
  async swept(): Promise<void> {
    await this.#sweeping;
  }

  /** Starts no more sweeps, and resolves once a sweep under way has ended: call it before the database closes. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.swept();
  }

  /**
   * Runs `work` in a transaction, again (up to {@link LOCK_ATTEMPTS} times in all) when a counter it
   * inserted was deleted before its lock: the retry starts with no lock held, so locks are always
   * taken in one order. With `session` (the caller's transaction), `work` runs on it once: a
   * counter deleted before its lock fails the operation, since only the caller can run its
   * transaction again.
   */
  async #locking<T>(session: Db | undefined, work: (tx: Db) => Promise<T>): Promise<T> {
    if (session !== undefined) {
      try {
        return await work(session);
      } catch (error) {
        if (!(error instanceof CounterVanished)) throw error;
        throw new Error('a budget counter was deleted before it could be locked: run the transaction again');
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#db.transaction().execute(work);
      } catch (error) {
        if (!(error instanceof CounterVanished)) throw error;
        if (attempt >= LOCK_ATTEMPTS) {
          throw new Error(`budget counters were deleted each time before they could be locked (${LOCK_ATTEMPTS} attempts)`);
        }
      }
    }
  }

  read(counters: readonly string[], now: number): Promise<BudgetState[]> {
    return this.#read(counters, now, this.#db);
  }

  async #read(counters: readonly string[], now: number, db: Db): Promise<BudgetState[]> {
    if (counters.length === 0) return [];
    const states = await this.#sums(db, counters, now);
    return counters.map((counter) => states.get(counter) ?? { counter, spentNano: 0, reservedNano: 0 });
  }

  /** Creates missing counters, locks them, drops their lapsed leases and answers their state, in order. */
  async #lockAndRead(tx: Db, rows: readonly CounterRow[], now: number): Promise<BudgetState[]> {
    const locked = await this.#lockAndPrune(tx, rows, now);
    const counters = rows.map((row) => row.counter);
    const states = await this.#sums(tx, counters, now, locked);
    return counters.map((counter) => states.get(counter) ?? { counter, spentNano: 0, reservedNano: 0 });
  }

  /**
   * Creates missing counters, locks them, and drops their lapsed leases (and the lapsed markers given).
   * Answers the locked counters' rows where a lock query read them (PostgreSQL and PGlite): their spend
   * cannot change until the transaction ends, so it need not be read again. On SQLite, undefined.
   */
  async #lockAndPrune(tx: Db, rows: readonly CounterRow[], now: number, markers: readonly string[] = []): Promise<SpentRow[] | undefined> {
    const counters = rows.map((row) => row.counter);
    await tx
      .insertInto('groundwork_budget_counters')
      .values(rows.map((row) => ({ counter: row.counter, spent_nano: 0, expires_at: toDate(row.expiresAt) })))
      .onConflict((conflict) => conflict.column('counter').doNothing())
      .execute();
    // SQLite's write lock is already held (BEGIN IMMEDIATE): nothing can delete them in between.
    let locked: SpentRow[] | undefined;
    if (!this.#sqlite) {
      // Under READ COMMITTED a sweep elsewhere may delete a counter between the insert and the lock:
      // the lock then returns no row for it, and the whole transaction runs again (see #locking).
      locked = await tx
        .selectFrom('groundwork_budget_counters')
        .select(['counter', 'spent_nano'])
        .where('counter', 'in', counters)
        .orderBy('counter')
        .forUpdate()
        .execute();
      if (locked.length < new Set(counters).size) throw new CounterVanished('a budget counter was deleted before its lock');
    }
    await tx
      .deleteFrom('groundwork_budget_reservations')
      .where('counter', 'in', [...counters, ...markers])
      .where('expires_at', '<=', new Date(now))
      .execute();
    return locked;
  }

  /** Runs a sweep; a failure is logged (its code only) and counted, and the next interval tries again. */
  async #sweepSafely(now: number, settling: readonly string[]): Promise<void> {
    try {
      await this.#sweep(now, settling);
    } catch (error) {
      try {
        this.#metrics?.storeFailures.inc({ component: 'tenant_budget_sweep' });
        this.#logger?.error(
          { code: errorCode(error) ?? (error instanceof Error ? error.name : typeof error) },
          'Sweeping ended budget counters failed; the next sweep tries again (the settlement itself is kept).',
        );
      } catch {
        // The sweep runs detached: a logger or registry that throws must not turn into an unhandled rejection.
      }
    }
  }

  /**
   * Deletes up to a batch of counters whose period is over, with the leases and markers left under
   * them, outside any settlement's transaction: in one transaction, the counters still past their
   * expiry are locked, the rows under them are deleted a bounded delete at a time, and then so are
   * they. Rows are deleted only under counters this sweep holds, and every other writer takes a
   * counter's lock before touching its rows, so no two wait on each other. At most {@link SWEEP_DELETES} deletes: a sweep cut short keeps what it
   * deleted and leaves the rest, and its counters, to the next one.
   * Counters another transaction holds are skipped (on SQLite none is: it has one writer), and so
   * are those being settled (`settling`): a late settlement keeps its counter and marker until the next sweep.
   */
  async #sweep(now: number, settling: readonly string[]): Promise<void> {
    const ended = await this.#db
      .selectFrom('groundwork_budget_counters')
      .select('counter')
      .where('expires_at', '<=', new Date(now))
      .where('counter', 'not in', settling)
      // The expiry's own order, which its index gives without a sort; the locks below are taken in the counters' order.
      .orderBy('expires_at')
      .limit(this.#sweepBatch)
      .execute();
    const counters = ended.map((row) => row.counter);
    if (counters.length === 0) return;
    await this.#db.transaction().execute(async (tx) => {
      let still = tx
        .selectFrom('groundwork_budget_counters')
        .select('counter')
        .where('counter', 'in', counters)
        .where('expires_at', '<=', new Date(now))
        .orderBy('counter');
      if (!this.#sqlite) still = still.forUpdate().skipLocked();
      const locked = (await still.execute()).map((row) => row.counter);
      if (locked.length === 0) return;
      const lockedUnder = [...locked, ...locked.map(markerCounter)];
      for (let deletes = 1; (await this.#deleteRowsUnder(tx, lockedUnder)) >= this.#sweepBatch; deletes++) {
        if (deletes >= SWEEP_DELETES) return;
      }
      await tx.deleteFrom('groundwork_budget_counters').where('counter', 'in', locked).execute();
    });
  }

  /**
   * Deletes a bounded number of the rows under `counters` (a batch of ids, with their rows under
   * those counters); answers how many. Fewer than a batch: none is left.
   */
  async #deleteRowsUnder(db: Db, counters: readonly string[]): Promise<number> {
    const batch = db.selectFrom('groundwork_budget_reservations').select('id').where('counter', 'in', counters).limit(this.#sweepBatch);
    const result = await db
      .deleteFrom('groundwork_budget_reservations')
      .where('counter', 'in', counters)
      .where('id', 'in', batch)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * The spend and live reservations of `counters`. `locked`: their counter rows as a lock query in this
   * transaction already read them, so their spend is not read a second time.
   */
  async #sums(db: Db, counters: readonly string[], now: number, locked?: readonly SpentRow[]): Promise<Map<string, BudgetState>> {
    const spent =
      locked ??
      (await db.selectFrom('groundwork_budget_counters').select(['counter', 'spent_nano']).where('counter', 'in', counters).execute());
    const reserved = await db
      .selectFrom('groundwork_budget_reservations')
      .select((select) => ['counter', select.fn.sum<string | number>('amount_nano').as('reserved')])
      .where('counter', 'in', counters)
      .where('expires_at', '>', new Date(now))
      .groupBy('counter')
      .execute();
    const states = new Map<string, BudgetState>();
    for (const row of spent) states.set(row.counter, { counter: row.counter, spentNano: Number(row.spent_nano), reservedNano: 0 });
    for (const row of reserved) {
      const state = states.get(row.counter) ?? { counter: row.counter, spentNano: 0, reservedNano: 0 };
      state.reservedNano = Number(row.reserved);
      states.set(row.counter, state);
    }
    return states;
  }
}

/** The counter a settlement's marker on `counter` is kept under: outside the range any real counter's sum walks. */
function markerCounter(counter: string): string {
  return `settled:${counter}`;
}

function toDate(ms: number | undefined): Date | null {
  return ms === undefined ? null : new Date(ms);
}

function pick(state: BudgetState): { spentNano: number; reservedNano: number } {
  return { spentNano: state.spentNano, reservedNano: state.reservedNano };
}
