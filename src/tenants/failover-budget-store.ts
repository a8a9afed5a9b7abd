import { isConnectionRefused } from '../db/driver-errors.js';
import { type Clock, systemClock } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { type StoreFailover, StoreTimeoutError } from '../resilience/store-failover.js';
import {
  type BudgetLimit,
  type BudgetState,
  type BudgetStore,
  type ReserveRequest,
  type ReserveResult,
  SETTLED_MARKER_MS,
  type SettleOptions,
} from './budget-store.js';
import type { LedgerSpend } from './ledger-spend.js';
import type { MemoryBudgetStore } from './memory-budget-store.js';
import { BudgetStoreUnavailableError } from './tenant-refusals.js';

/** Settings of a {@link FailoverBudgetStore}. */
export interface FailoverBudgetStoreOptions {
  /** The fleet's store (Redis). */
  shared: BudgetStore;
  /** This replica's share while `shared` fails (`LLM_RATE_LIMIT_ON_STORE_FAILURE=local`); undefined: refuse. */
  local: MemoryBudgetStore | undefined;
  failover: StoreFailover;
  /** Replicas sharing each budget (`LLM_EXPECTED_REPLICAS`): a local share is the room left ÷ this. */
  replicas: number;
  /** Settled spend of a counter not seen before the outage; without it such a counter's share starts from no spend. */
  ledger?: LedgerSpend | undefined;
  logger: Logger;
  metrics?: GroundworkMetrics | undefined;
  /** Settlements kept to replay into the shared store once it answers again. @default 10000 */
  maxPending?: number | undefined;
  /**
   * Settlements replayed at once after an outage: each group is sent together (one round trip on
   * Redis, whose connection keeps their order), and the next group when all of it has answered.
   * @default 64
   */
  replayBatch?: number | undefined;
  /**
   * Times the wait for the last replay at {@link FailoverBudgetStore.close}. (The store is left alone
   * for `failover.retryMs` from when a failure is seen by `failover`'s own clock.) @default systemClock
   */
  clock?: Clock | undefined;
}

/**
 * A settlement sent to the shared store may have been applied there though its answer was lost: it
 * is dropped this long before the store's settled marker lapses ({@link SETTLED_MARKER_MS} after it
 * was sent), so that a replay never outlives the marker that makes it count once.
 */
const MARKER_MARGIN_MS = 60_000;

interface PendingSettlement {
  reservationId: string;
  counters: readonly string[];
  spentNano: number;
  /** Replayed with {@link SettleOptions.once}: it adds its spend only where its reservation is still held. */
  once?: boolean;
  /**
   * When it was first sent to the shared store (its `now`), which may have applied it; undefined
   * while the shared store has never seen it (spend of a local share, or refused before it was sent).
   */
  sentAt?: number;
}

/**
 * A budget store shared by the fleet, with a plan for when it fails. `refuse`: calls are refused
 * with {@link BudgetStoreUnavailableError} (429, `Retry-After`). `local`: each replica admits
 * from its own share of every budget: the room the shared store last showed (limit − settled
 * spend − spend reserved by calls in flight, which may all still be charged; the ledger's spend
 * for a counter not seen yet), divided by the replicas; a concurrency cap is
 * divided likewise (at least 1). Settlements the shared store could not take, and the spend of
 * calls admitted locally, are replayed into it once it answers again, so it keeps the fleet's
 * real spend; one that may have reached it already (its answer was lost) only while the store
 * remembers settlements, and what is left at {@link FailoverBudgetStore.close} is reported. A
 * reservation asked with {@link ReserveRequest.sharedOnly} is refused rather than made locally.
 * Failures are logged (once per outage) and counted in `groundwork_store_failures_total`.
 */
export class FailoverBudgetStore implements BudgetStore {
  readonly #options: FailoverBudgetStoreOptions;
  readonly #clock: Clock;
  readonly #where = new Map<string, 'shared' | 'local'>();
  /** Settled and reserved spend per counter as the shared store last showed it: what a local share must leave. */
  readonly #lastSpent = new Map<string, number>();
  readonly #pending: PendingSettlement[] = [];
  /** The group a replay has sent and awaits the answers of. */
  #sending: readonly PendingSettlement[] = [];
  #closed = false;
  #closing: Promise<void> | undefined;
  #onLocal = false;
  /** Answers the shared store gave this process: a timeout while it kept answering others is slowness, not an outage. */
  #answers = 0;
  #replaying: Promise<void> | undefined;

  constructor(options: FailoverBudgetStoreOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Whether calls are admitted from the local share (an outage is under way). */
  get onLocal(): boolean {
    return this.#onLocal;
  }

  /** Settlements waiting to be replayed into the shared store. */
  get pending(): number {
    return this.#pending.length;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const { shared, local, failover } = this.#options;
    if (failover.usable(request.now)) {
      const answers = this.#answers;
      let operation: Promise<ReserveResult> | undefined;
      try {
        // Replayed first, so a counter Redis lost is seeded from the ledger after it has this spend.
        await this.#replay(request.now);
        operation = shared.reserve(request);
        const result = await failover.bounded(operation);
        this.#answered();
        this.#remember(request.budgets, result);
        if (result.granted) this.#where.set(request.reservationId, 'shared');
        return result;
      } catch (error) {
        // A reservation that timed out here may still have been made there: release it once the
        // shared store answers again, or it would hold its budget until its lease ends.
        const release = { reservationId: request.reservationId, counters: request.budgets.map((budget) => budget.counter), spentNano: 0 };
        this.#keep(release);
        // It may also be granted after that release was replayed (its ledger seeding took long): release it then.
        operation?.then(
          (late) => {
            if (!late.granted) return;
            failover.bounded(shared.settle(release.reservationId, release.counters, 0, request.now)).then(
              () => this.#answered(),
              () => this.#keep(release),
            );
          },
          () => {},
        );
        if (await this.#slowNotDown(error, answers)) return undetermined(request);
        failover.failed(error, request.now);
      }
    }
    // Settled by another process (a batch's worker), which would ask the shared store for it and find nothing,
    // whatever the fallback: refused as such, so its message does not advise a local share.
    if (request.sharedOnly === true) {
      throw new BudgetStoreUnavailableError({ retryAfterMs: failover.retryInMs(request.now), cause: failover.lastError, sharedOnly: true });
    }
    if (local === undefined)
      throw new BudgetStoreUnavailableError({ retryAfterMs: failover.retryInMs(request.now), cause: failover.lastError });
    if (!this.#onLocal) {
      // A new outage: the share starts from what the shared store last showed, with nothing local spent.
      this.#onLocal = true;
      local.reset();
    }
    const budgets = await Promise.all(request.budgets.map((budget) => this.#share(budget)));
    const result = await local.reserve({ ...request, budgets });
    if (!result.granted) return { ...result, localShare: true };
    this.#where.set(request.reservationId, 'local');
    return result;
  }

  async settle(reservationId: string, counters: readonly string[], spentNano: number, now: number, options?: SettleOptions): Promise<void> {
    const { shared, local, failover } = this.#options;
    const where = this.#where.get(reservationId) ?? 'shared';
    this.#where.delete(reservationId);
    if (where === 'local') {
      await local?.settle(reservationId, counters, spentNano, now, options);
      // Spent while the shared store was away: the fleet's counters must hear of it.
      if (spentNano > 0) this.#keep({ reservationId, counters, spentNano });
      return;
    }
    let sent = false;
    if (failover.usable(now)) {
      const answers = this.#answers;
      try {
        await failover.bounded(shared.settle(reservationId, counters, spentNano, now, options));
        this.#answered();
        return;
      } catch (error) {
        sent = !neverSent(error);
        if (!(await this.#slowNotDown(error, answers))) failover.failed(error, now);
      }
    }
    this.#keep({ reservationId, counters, spentNano, ...(options?.once === true ? { once: true } : {}), ...(sent ? { sentAt: now } : {}) });
  }

  async read(counters: readonly string[], now: number): Promise<BudgetState[]> {
    const { shared, local, failover } = this.#options;
    if (failover.usable(now)) {
      try {
        await this.#replay(now);
        const states = await failover.bounded(shared.read(counters, now));
        this.#answered();
        return states;
      } catch (error) {
        failover.failed(error, now);
      }
    }
    if (local === undefined) throw new BudgetStoreUnavailableError({ retryAfterMs: failover.retryInMs(now), cause: failover.lastError });
    return local.read(counters, now);
  }

  /**
   * At shutdown: replays what the shared store missed once more, waiting for it no longer than the
   * failover's time bound (`timeoutMs`), then drops what is still kept (a process that exits cannot
   * replay it) with one log line giving their number and spend, counted in
   * `groundwork_store_failures_total{component="tenant_budget"}`; their spend is in the usage
   * ledger. Then closes the shared store. Never rejects. Idempotent: a close while one is under way
   * waits for it.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const { failover, logger, metrics, shared } = this.#options;
    if (this.#pending.length > 0 || this.#replaying !== undefined) {
      const replay = (this.#pending.length > 0 ? this.#replay(this.#clock.now()) : (this.#replaying ?? Promise.resolve())).catch(() => {});
      await new Promise<void>((resolve) => {
        const timer = this.#clock.setTimeout(resolve, failover.timeoutMs);
        void replay.then(() => {
          this.#clock.clearTimeout(timer);
          resolve();
        });
      });
    }
    // A replay still under way sends nothing more, and what it still awaits is reported with the rest.
    this.#closed = true;
    const left = [...this.#sending, ...this.#pending.splice(0, this.#pending.length)];
    if (left.length > 0) {
      try {
        metrics?.storeFailures.inc({ component: 'tenant_budget' }, left.length);
        logger.error(
          { kept: left.length, spentNano: left.reduce((sum, settlement) => sum + settlement.spentNano, 0) },
          'Dropped budget settlements kept for the shared store (Redis): the process is closing and Redis did not take them in time; their spend is in the usage ledger (rebuild the counters from it).',
        );
      } catch {
        // A failing logger must not fail the shutdown.
      }
    }
    await shared.close?.();
  }

  async rebuild(counter: string, expiresAt: number | undefined): Promise<number> {
    const { shared } = this.#options;
    if (shared.rebuild === undefined) throw new Error('the shared budget store cannot rebuild counters');
    const spent = await this.#options.failover.bounded(shared.rebuild(counter, expiresAt));
    this.#lastSpent.set(counter, spent);
    return spent;
  }

  /** A budget as this replica's local share of it. */
  async #share(budget: BudgetLimit): Promise<BudgetLimit> {
    const { replicas, ledger } = this.#options;
    if (budget.counter.endsWith(':concurrency')) return { ...budget, limitNano: Math.max(1, Math.floor(budget.limitNano / replicas)) };
    let spent = this.#lastSpent.get(budget.counter);
    if (spent === undefined && ledger?.covers(budget.counter) === true) {
      spent = await ledger.spentNano(budget.counter).catch(() => undefined);
      if (spent !== undefined) this.#lastSpent.set(budget.counter, spent);
    }
    return { ...budget, limitNano: Math.floor(Math.max(0, budget.limitNano - (spent ?? 0)) / replicas) };
  }

  #remember(budgets: readonly BudgetLimit[], result: ReserveResult): void {
    if (result.granted) {
      for (const [index, budget] of budgets.entries()) {
        const committed = result.committedNano?.[index];
        // What this grant adds is committed too: the call will spend up to it.
        if (committed !== undefined) this.#lastSpent.set(budget.counter, committed + result.amountNano);
      }
    } else this.#lastSpent.set(result.counter, result.spentNano + result.reservedNano);
    // Counters of past periods are not needed again: keep the map from growing without bound.
    if (this.#lastSpent.size > 100_000) this.#lastSpent.clear();
  }

  #keep(settlement: PendingSettlement): void {
    const max = this.#options.maxPending ?? 10_000;
    this.#pending.push(settlement);
    if (this.#pending.length > max) {
      const dropped = this.#pending.shift() as PendingSettlement;
      this.#options.metrics?.storeFailures.inc({ component: 'tenant_budget' });
      this.#options.logger.error(
        { reservationId: dropped.reservationId, spentNano: dropped.spentNano, maxPending: max },
        'Dropped a budget settlement kept for the shared store (Redis): too many are waiting; its spend is in the usage ledger (rebuild the counters from it).',
      );
    }
  }

  /**
   * Whether `settlement` may be replayed at `now` without being counted twice. One with spend that
   * the shared store may have applied counts once only while its settled marker lasts; past that
   * (less a margin) it is dropped, logged and counted, and its spend stays in the usage ledger.
   * The spend of a local share, never sent, is replayed however long the outage lasted, as are
   * releases and settlements made `once` (a repeat of those adds nothing).
   */
  #replayable(settlement: PendingSettlement, now: number): boolean {
    const { sentAt, spentNano, once } = settlement;
    if (sentAt === undefined || spentNano <= 0 || once === true) return true;
    if (now - sentAt < SETTLED_MARKER_MS - MARKER_MARGIN_MS) return true;
    this.#options.metrics?.storeFailures.inc({ component: 'tenant_budget' });
    this.#options.logger.error(
      { reservationId: settlement.reservationId, spentNano, keptMs: now - sentAt },
      'Dropped a budget settlement kept for the shared store (Redis): it is older than the shared store remembers settlements, and it may have been applied there already; its spend is in the usage ledger (rebuild the counters from it).',
    );
    return false;
  }

  /**
   * Whether a failure is this process's slowness rather than the store's: an operation that timed
   * out while other operations of this process got their answers (a loaded machine: the timer
   * fired before the reply was read). Judged after the I/O already received has been read.
   * Admitting from a local share then would spend room the other replicas are still using.
   */
  async #slowNotDown(error: unknown, answersBefore: number): Promise<boolean> {
    if (!(error instanceof StoreTimeoutError)) return false;
    await new Promise((resolve) => setImmediate(resolve));
    return this.#answers > answersBefore;
  }

  /** The shared store answered: the outage, if any, is over. */
  #answered(): void {
    this.#answers++;
    this.#options.failover.succeeded();
    this.#onLocal = false;
  }

  /**
   * Replays into the shared store what it missed while away (one replay at a time), a group of
   * `replayBatch` settlements at once: N settlements take about N ÷ `replayBatch` round trips
   * instead of N. Within a group no reservation appears twice (a group ends before a repeated
   * one), so a reservation's settlements still reach the store in the order they were made. What
   * fails goes back to the front of the queue, in its order; then this throws.
   */
  async #replay(now: number): Promise<void> {
    if (this.#pending.length === 0) return;
    this.#replaying ??= (async () => {
      const { shared, failover } = this.#options;
      const size = Math.max(1, this.#options.replayBatch ?? 64);
      try {
        while (this.#pending.length > 0 && !this.#closed) {
          const group = takeGroup(this.#pending, size).filter((next) => this.#replayable(next, now));
          if (group.length === 0) continue;
          this.#sending = group;
          const outcomes = await Promise.allSettled(
            group.map((next) =>
              failover.bounded(shared.settle(next.reservationId, next.counters, next.spentNano, now, { once: next.once })),
            ),
          );
          this.#sending = [];
          // Reported as dropped at close while it waited for these answers: not kept again.
          if (this.#closed) return;
          const failed = group.filter((_, index) => outcomes[index]?.status === 'rejected');
          if (failed.length > 0) {
            for (const [index, next] of group.entries()) {
              const outcome = outcomes[index];
              // Sent, so perhaps applied: from now on the marker's lifetime bounds its replay.
              if (outcome?.status === 'rejected' && next.sentAt === undefined && !neverSent(outcome.reason)) next.sentAt = now;
            }
            this.#pending.unshift(...failed);
            throw (outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult).reason;
          }
        }
      } finally {
        this.#replaying = undefined;
      }
    })();
    await this.#replaying;
  }
}

/** What ioredis answers, at once, for a command it did not write: the client is not connected (no offline queue). */
const NOT_WRITTEN = /^Stream isn't writeable/;

/**
 * Whether a failed operation never reached the shared store, so that it cannot have been applied
 * there: no connection could be opened, or the client was not connected and wrote nothing (what
 * every command gets while ioredis reconnects). Anything else (a timeout, a connection closed with
 * the command in flight) may have been applied.
 */
function neverSent(error: unknown): boolean {
  return isConnectionRefused(error) || (error instanceof Error && NOT_WRITTEN.test(error.message));
}

/** Takes up to `size` settlements off the front of `pending`, stopping before a reservation already in the group. */
function takeGroup(pending: PendingSettlement[], size: number): PendingSettlement[] {
  const seen = new Set<string>();
  let count = 0;
  while (count < size && count < pending.length) {
    const id = (pending[count] as PendingSettlement).reservationId;
    if (seen.has(id)) break;
    seen.add(id);
    count++;
  }
  return pending.splice(0, count);
}

/**
 * The answer to a reservation whose fate is unknown (the store answered too late): no room
 * granted, and not a verdict on the budget either, so the caller waits and asks again.
 */
function undetermined(request: ReserveRequest): ReserveResult {
  const first = request.budgets[0];
  return {
    granted: false,
    counter: first?.counter ?? '',
    limitNano: first?.limitNano ?? 0,
    spentNano: 0,
    reservedNano: 0,
    localShare: true,
  };
}
