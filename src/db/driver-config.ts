import type { Clock } from '../internal/clock.js';

/** What every Groundwork driver receives besides its client. */
export interface DriverConfig {
  /** Longest wait for a connection, in ms (`DB_ACQUIRE_TIMEOUT_MS`). */
  readonly acquireTimeoutMs: number;
  /** The URL with the password masked, for messages. */
  readonly displayUrl: string;
  readonly clock: Clock;
}
