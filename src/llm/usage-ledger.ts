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
 * logged and counted (`ledgerRows{result="failed"}`), never thrown at the caller; rows the database
 * refuses are found by writing the batch again in halves, and only they are lost (`refused`, see
 * `#writeBatch`); a full buffer drops rows (`dropped`). The flush timer does not keep the process
 * alive and is cleared on close.
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

  /**
   * Writes a batch whole. When the sink says the database refused some rows' values
   * (`sink.isRowRefusal`), writes it again in halves, and each half that fails so in halves again,
   * until the rows refused are alone: those are lost (logged and counted `refused`), the others
   * written. A batch of n rows with one refused row takes about 2·log2(n) writes. Any other failure
   * (the database unreachable, a pool or statement timeout), of the batch or of a part, is not
   * about the rows: nothing more is tried, and every row not yet written is lost (`failed`), as one
   * write against a database that is down would be.
   */
  async #writeBatch(batch: UsageRecord[]): Promise<void> {
    // Parts still to write, in the batch's order.
    const parts: UsageRecord[][] = [batch];
    for (let part = parts.shift(); part !== undefined; part = parts.shift()) {
      try {
        await this.#options.sink.writeBatch(part);
        this.#options.metrics?.ledgerRows.inc({ result: 'written' }, part.length);
      } catch (error) {
        if (this.#options.sink.isRowRefusal?.(error) !== true) {
          this.#lose(part.length + parts.reduce((sum, rest) => sum + rest.length, 0), error);
          return;
        }
        if (part.length === 1) this.#refuse(part[0]!, error);
        else parts.unshift(part.slice(0, Math.ceil(part.length / 2)), part.slice(Math.ceil(part.length / 2)));
      }
    }
  }

  #lose(rows: number, error: unknown): void {
    this.#options.metrics?.ledgerRows.inc({ result: 'failed' }, rows);
    const err = errorSummary(error);
    this.#options.logger.error({ err, rows }, `usage ledger write failed; ${rows} rows lost: ${err.message}`);
  }

  /** Logs a row the database refused, by what identifies the call; never its prompt or answer text. */
  #refuse(row: UsageRecord, error: unknown): void {
    this.#options.metrics?.ledgerRows.inc({ result: 'refused' });
    const err = errorSummary(error);
    this.#options.logger.error(
      {
        err,
        row: {
          createdAt: row.createdAt,
          operation: row.operation ?? 'chat',
          provider: row.provider,
          model: row.model,
          outcome: row.outcome,
          requestId: row.requestId,
          keyId: row.keyId ?? null,
          teamId: row.teamId ?? null,
          totalTokens: row.totalTokens,
          costUsd: row.costUsd,
        },
      },
      `usage ledger row refused by the database and lost; the rest of its batch was written: ${err.message}`,
    );
  }
}

/**
 * An error's type, code and message (secrets scrubbed), and nothing else: a database error's other
 * fields (PostgreSQL's `detail`, "Failing row contains (…)") can quote a whole row, prompt text included.
 */
function errorSummary(error: unknown): { type: string; code: string | undefined; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    type: error instanceof Error ? error.name : typeof error,
    code: typeof code === 'string' ? code : undefined,
    message: scrubSecrets(error instanceof Error ? error.message : String(error)),
  };
}
