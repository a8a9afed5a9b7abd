import { errorCode } from '../db/driver-errors.js';
import { type Clock, systemClock } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { SETTLED_MARKER_MS } from './budget-store.js';

/** Settings of {@link KeptSettlements}. */
export interface KeptSettlementsOptions {
  /** Where a failed settlement is reported (its error's code, never its message or values). */
  logger?: Logger | undefined;
  /** Counts failed settlements as `groundwork_store_failures_total{component="tenant_budget"}`. */
  metrics?: GroundworkMetrics | undefined;
  /** Failed settlements kept to run again; past it the oldest is dropped, logged and counted. @default 10000 */
  max?: number | undefined;
  /**
   * Times a kept settlement may fail again while the store takes others run with it (it, not the
   * store, is refused) before it is dropped, logged and counted. A retry in which every settlement
   * tried fails is the store being down: it counts against none of them, however many admissions
   * retry, and the settlements' age alone bounds how long they wait. @default 5
   */
  maxRetries?: number | undefined;
  /** Kept settlements run again together, a chunk after the other. @default 16 */
  chunkSize?: number | undefined;
  /**
   * How long {@link KeptSettlements.retry} waits for a running retry before it lets its caller go
   * on, and {@link KeptSettlements.close} before it drops what is left. @default 1000
   */
  waitMs?: number | undefined;
  /** Ages kept settlements and times the wait. @default systemClock */
  clock?: Clock | undefined;
}

/**
 * A kept settlement's marker may have been written a little before it was kept (the failed call's
 * time): it is dropped this long before the marker's lifetime ends, so a replay never outlives it.
 */
const MARKER_MARGIN_MS = 60_000;

interface Kept {
  readonly operation: () => Promise<void>;
  /** When it first failed: past the store's settled-marker lifetime a replay could count it twice. */
  readonly keptAt: number;
  retries: number;
}

/**
 * The store operations that end calls' admissions (a charge, a reservation or a slot released)
 * when they fail: an answered call has been billed by its provider whatever the budget store
 * says, so a failure must not fail the call. Each failure is logged and counted; a charge or a
 * release is kept and run again by {@link KeptSettlements.retry} (settlements are idempotent, so
 * one whose answer was lost counts once), so its spend reaches the budget and its reservation
 * stops holding room before its lease ends. A kept settlement is dropped, logged and counted when
 * the store has refused it {@link KeptSettlementsOptions.maxRetries} more times while taking
 * others (an outage, however many admissions retry in it, counts against none), or a minute before it is as
 * old as the store's settled marker ({@link SETTLED_MARKER_MS}), past which a charge that did
 * commit would be counted again; its spend stays in the usage ledger, from which `rebuild-budgets`
 * restores the counters.
 */
export class KeptSettlements {
  readonly #options: KeptSettlementsOptions;
  readonly #clock: Clock;
  readonly #kept: Kept[] = [];
  /** What the running retry has taken off {@link #kept} and not yet landed, dropped or put back. */
  readonly #held = new Set<Kept>();
  #retrying: Promise<void> | undefined;
  #closed = false;

  constructor(options: KeptSettlementsOptions = {}) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Settlements waiting to be run again. */
  get size(): number {
    return this.#kept.length;
  }

  /**
   * Runs `operation`; when it fails, reports the failure and, with `keep`, keeps it to run again.
   * Never rejects.
   */
  async run(operation: () => Promise<void>, keep: boolean): Promise<void> {
    try {
      await operation();
    } catch (error) {
      this.#report(error, keep);
      if (keep) this.#keep({ operation, keptAt: this.#clock.now(), retries: 0 });
    }
  }

  /**
   * Runs the kept settlements again, in their order and a chunk at a time (one retry at a time: a
   * call while one runs joins it); those that fail again stay, unless dropped. Resolves when the
   * retry has ended, or after {@link KeptSettlementsOptions.waitMs} while it still runs. Never rejects.
   */
  retry(): Promise<void> {
    if (this.#retrying === undefined) {
      if (this.#kept.length === 0) return Promise.resolve();
      this.#retrying = this.#runKept().finally(() => {
        this.#retrying = undefined;
      });
    }
    const running = this.#retrying;
    return new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(resolve, this.#options.waitMs ?? 1000);
      void running.then(() => {
        this.#clock.clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * At shutdown: runs the kept settlements once more (or joins a retry under way) and waits for it
   * at most {@link KeptSettlementsOptions.waitMs}, then drops those still kept or still awaiting
   * the store's answer, with one log line and their count in
   * `groundwork_store_failures_total{component="tenant_budget"}`: a process that exits cannot
   * replay them. A retry still under way then stops: its late failures are neither kept nor
   * reported again. Never rejects.
   */
  async close(): Promise<void> {
    await this.retry();
    this.#closed = true;
    const left = this.#kept.splice(0, this.#kept.length).length + this.#held.size;
    this.#held.clear();
    if (left === 0) return;
    this.#safely(() => {
      this.#options.metrics?.storeFailures.inc({ component: 'tenant_budget' }, left);
      this.#options.logger?.error(
        { kept: left },
        'Dropped budget settlements kept to run again: the process is closing and the budget store still refuses them; their spend is in the usage ledger (rebuild the counters from it).',
      );
    });
  }

  async #runKept(): Promise<void> {
    const due = this.#kept.splice(0, this.#kept.length);
    for (const kept of due) this.#held.add(kept);
    const chunkSize = Math.max(1, this.#options.chunkSize ?? 16);
    const again: Kept[] = [];
    let index = 0;
    while (index < due.length) {
      const chunk = due.slice(index, index + chunkSize).filter((kept) => this.#fresh(kept));
      index += chunkSize;
      if (chunk.length === 0) continue;
      const outcomes = await Promise.allSettled(chunk.map((kept) => kept.operation()));
      // Closed while this chunk awaited the store: what the retry held was reported dropped then.
      if (this.#closed) return;
      const failed = chunk.filter((_, at) => outcomes[at]?.status === 'rejected');
      for (const [at, kept] of chunk.entries()) if (outcomes[at]?.status === 'fulfilled') this.#held.delete(kept);
      // The whole chunk failed: the store is still down, and the rest waits for a later retry untried.
      if (failed.length === chunk.length) {
        again.push(...failed, ...due.slice(index));
        break;
      }
      for (const kept of failed) {
        kept.retries += 1;
        if (kept.retries < (this.#options.maxRetries ?? 5)) again.push(kept);
        else {
          this.#held.delete(kept);
          this.#dropped({ retries: kept.retries }, 'it kept failing');
        }
      }
    }
    this.#held.clear();
    // Still failing: kept in front of those kept since, once more in their order, and not reported again.
    if (again.length > 0) this.#kept.unshift(...again);
  }

  /** Whether `kept` may still be replayed without being counted twice; drops it otherwise. */
  #fresh(kept: Kept): boolean {
    if (this.#clock.now() - kept.keptAt < SETTLED_MARKER_MS - MARKER_MARGIN_MS) return true;
    this.#held.delete(kept);
    this.#dropped({ keptMs: this.#clock.now() - kept.keptAt }, 'it is older than the store remembers settlements');
    return false;
  }

  #keep(kept: Kept): void {
    const max = this.#options.max ?? 10_000;
    this.#kept.push(kept);
    if (this.#kept.length <= max) return;
    this.#kept.shift();
    this.#dropped({ maxKept: max }, 'too many are waiting');
  }

  #dropped(fields: Record<string, number>, why: string): void {
    this.#safely(() => {
      this.#options.metrics?.storeFailures.inc({ component: 'tenant_budget' });
      this.#options.logger?.error(
        fields,
        `Dropped a budget settlement kept to run again: ${why}; its spend is in the usage ledger (rebuild the counters from it).`,
      );
    });
  }

  #report(error: unknown, kept: boolean): void {
    this.#safely(() => {
      this.#options.metrics?.storeFailures.inc({ component: 'tenant_budget' });
      this.#options.logger?.error(
        { code: errorCode(error) ?? (error instanceof Error ? error.name : typeof error) },
        kept
          ? 'Settling a call on the budget store failed; the call is answered, and the settlement is kept and tried again before the next admission.'
          : 'Giving back unused tokens to a rate limit failed; the call is answered, and the tokens return as the limit refills.',
      );
    });
  }

  /** A logger or registry that throws must not fail a call that was answered. */
  #safely(report: () => void): void {
    try {
      report();
    } catch {
      // Nothing more can be done about a failing logger.
    }
  }
}
