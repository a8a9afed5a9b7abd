import { errorCode } from '../db/driver-errors.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';

/** Settings of {@link KeptSettlements}. */
export interface KeptSettlementsOptions {
  /** Where a failed settlement is reported (its error's code, never its message or values). */
  logger?: Logger | undefined;
  /** Counts failed settlements as `groundwork_store_failures_total{component="tenant_budget"}`. */
  metrics?: GroundworkMetrics | undefined;
  /** Failed settlements kept to run again; past it the oldest is dropped, logged and counted. @default 10000 */
  max?: number | undefined;
}

/**
 * The store operations that end calls' admissions (a charge, a reservation or a slot released)
 * when they fail: an answered call has been billed by its provider whatever the budget store
 * says, so a failure must not fail the call. Each failure is logged and counted; a charge or a
 * release is kept and run again by {@link KeptSettlements.retry} (settlements are idempotent, so
 * one whose answer was lost counts once), so its spend reaches the budget and its reservation
 * stops holding room before its lease ends.
 */
export class KeptSettlements {
  readonly #options: KeptSettlementsOptions;
  readonly #kept: Array<() => Promise<void>> = [];
  #retrying: Promise<void> | undefined;

  constructor(options: KeptSettlementsOptions = {}) {
    this.#options = options;
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
      if (keep) this.#keep(operation);
    }
  }

  /** Runs the kept settlements again, in their order (one retry at a time); those that fail again stay. Never rejects. */
  retry(): Promise<void> {
    if (this.#kept.length === 0) return Promise.resolve();
    this.#retrying ??= (async () => {
      try {
        const due = this.#kept.splice(0, this.#kept.length);
        const outcomes = await Promise.allSettled(due.map((operation) => operation()));
        const failed = due.filter((_, index) => outcomes[index]?.status === 'rejected');
        // Still failing: kept in front of those kept since, once more in their order, and not reported again.
        if (failed.length > 0) this.#kept.unshift(...failed);
      } finally {
        this.#retrying = undefined;
      }
    })();
    return this.#retrying;
  }

  #keep(operation: () => Promise<void>): void {
    const max = this.#options.max ?? 10_000;
    this.#kept.push(operation);
    if (this.#kept.length <= max) return;
    this.#kept.shift();
    this.#safely(() => {
      this.#options.metrics?.storeFailures.inc({ component: 'tenant_budget' });
      this.#options.logger?.error(
        { maxKept: max },
        'Dropped a budget settlement kept to run again: too many are waiting; its spend is in the usage ledger (rebuild the counters from it).',
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
