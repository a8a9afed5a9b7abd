import type { Clock, TimerHandle } from '../internal/clock.js';
import { systemClock, unrefTimer } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { scrubSecrets } from '../observability/redact.js';
import type { UsageRecord, UsageSink } from './usage-record.js';

/** Settings of a {@link UsageLedger}. */
export interface UsageLedgerOptions {
  sink: UsageSink;
  logger: Logger;
  metrics?: GroundworkMetrics | undefined;
  clock?: Clock | undefined;
  /** Rows per write; reaching it starts a write at once. @default 100 */
  batchSize?: number | undefined;
  /** Longest a row waits before it is written, in ms. @default 1000 */
  flushIntervalMs?: number | undefined;
  /** Rows held at most, buffered or being written; beyond it new rows are dropped and counted. @default 10 × batchSize */
  maxBuffered?: number | undefined;
}

/**
 * Writes usage rows to a {@link UsageSink} in batches, off the call's path. A failed write is
 * logged and counted (`ledgerRows{result="failed"}`), never thrown at the caller; a full buffer
 * drops rows (`dropped`). The flush timer does not keep the process alive and is cleared on close.
 */
export class UsageLedger {
  readonly #options: UsageLedgerOptions;
  readonly #clock: Clock;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  #buffer: UsageRecord[] = [];
  /** Rows handed to writes that have not finished. */
  #pending = 0;
  #timer: TimerHandle | undefined;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: UsageLedgerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#batchSize = Math.max(1, options.batchSize ?? 100);
    this.#maxBuffered = Math.max(this.#batchSize, options.maxBuffered ?? this.#batchSize * 10);
  }

  /** Rows waiting to be written. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** Queues one row. Never throws, never waits. */
  record(row: UsageRecord): void {
    if (this.#closed || this.#buffer.length + this.#pending >= this.#maxBuffered) {
      this.#options.metrics?.ledgerRows.inc({ result: 'dropped' });
      this.#options.logger.warn(
        { buffered: this.#buffer.length, outcome: row.outcome },
        this.#closed ? 'usage ledger closed; a call that ended after close() was not recorded' : 'usage ledger buffer full; row dropped',
      );
      return;
    }
    this.#buffer.push(row);
    if (this.#buffer.length >= this.#batchSize) void this.flush();
    else this.#timer ??= unrefTimer(this.#clock.setTimeout(() => void this.flush(), this.#options.flushIntervalMs ?? 1000));
  }

  /** Writes everything buffered now; resolves when written (or failed, which is logged). */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#batchSize);
      this.#pending += batch.length;
      this.#writing = this.#writing.then(() => this.#write(batch));
    }
    return this.#writing;
  }

  /** Flushes and stops taking rows. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  async #write(batch: UsageRecord[]): Promise<void> {
    try {
      await this.#writeBatch(batch);
    } finally {
      this.#pending -= batch.length;
    }
  }

  async #writeBatch(batch: UsageRecord[]): Promise<void> {
    try {
      await this.#options.sink.writeBatch(batch);
      this.#options.metrics?.ledgerRows.inc({ result: 'written' }, batch.length);
    } catch (error) {
      this.#options.metrics?.ledgerRows.inc({ result: 'failed' }, batch.length);
      this.#options.logger.error(
        { err: error, rows: batch.length },
        `usage ledger write failed; ${batch.length} rows lost: ${scrubSecrets((error as Error).message)}`,
      );
    }
  }
}
