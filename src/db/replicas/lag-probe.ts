import type { DatabaseConfig } from '../../config/app-config.js';
import type { Logger } from '../../observability/logger.js';
import type { PgPool, PgPoolClient } from '../postgres/pg-client.js';
import { type LagMark, type LagReading, measureLag } from './replica-lag.js';

/** What {@link LagProbe.open} needs. */
export interface LagProbeOptions {
  /** The replica's settings (its URL, TLS, statement timeout); the probe's own pool has one connection. */
  readonly config: DatabaseConfig;
  /** A measurement's bound in ms: connecting and the query each give up after it. */
  readonly timeoutMs: number;
  readonly label: string;
  readonly logger: Logger;
  readonly applicationName?: string;
}

/** The socket under a `pg` client, which a measurement that timed out destroys. */
interface Destroyable {
  readonly connection?: { readonly stream?: { destroy?(): void } };
}

/** pg-pool's clients, those still connecting among them; {@link LagProbe.close} destroys their sockets. */
interface PoolClients {
  readonly _clients?: ReadonlyArray<Destroyable>;
}

/**
 * The lag measurement's own connection to one replica, apart from the replica's session pool: a
 * pool full of long reads cannot hold a measurement back (and the replica counted down for it),
 * and a measurement that timed out can have its connection discarded without touching a session.
 *
 * At most one measurement runs at a time: {@link LagProbe.measure} answers the running one's
 * promise instead of starting another. {@link LagProbe.abandon} destroys the socket of a
 * measurement that took too long, so its query fails at once instead of running on in the
 * background while the next measurement starts beside it.
 */
export class LagProbe {
  readonly #pool: PgPool;
  readonly #label: string;
  readonly #logger: Logger;
  readonly #listened = new WeakSet<PgPoolClient>();
  #client: (PgPoolClient & Destroyable) | undefined;
  #running: Promise<LagReading> | undefined;
  #closed: Promise<void> | undefined;

  private constructor(pool: PgPool, options: LagProbeOptions) {
    this.#pool = pool;
    this.#label = options.label;
    this.#logger = options.logger;
    // An idle probe connection whose backend went away is dropped by the pool; this keeps that from crashing the process.
    pool.on('error', (error) => this.#lost(error));
  }

  /** Makes the probe's one-connection pool (lazily: it connects at the first measurement). */
  static async open(options: LagProbeOptions): Promise<LagProbe> {
    const { createPgPool } = await import('../postgres/create-pg-pool.js');
    const { config, timeoutMs } = options;
    const pool = await createPgPool(
      // One connection, kept between measurements (idle timeout off), and never waited for longer than a measurement.
      { ...config, poolSize: 1, maxOverflow: 0, acquireTimeoutMs: timeoutMs, idleTimeoutMs: 0 },
      options.applicationName === undefined ? {} : { applicationName: options.applicationName },
    );
    return new LagProbe(pool, options);
  }

  /** Whether a measurement is running now. */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Measures the replica's lag, or answers the measurement already running. */
  measure(previous: LagMark | undefined, now: () => number): Promise<LagReading> {
    if (this.#running !== undefined) return this.#running;
    const running = this.#measure(previous, now).finally(() => {
      this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  async #measure(previous: LagMark | undefined, now: () => number): Promise<LagReading> {
    const client = (await this.#pool.connect()) as PgPoolClient & Destroyable;
    if (!this.#listened.has(client)) {
      this.#listened.add(client);
      client.on('error', (error) => this.#lost(error));
    }
    this.#client = client;
    try {
      const reading = await measureLag(client, previous, now);
      client.release();
      return reading;
    } catch (error) {
      // Whatever failed, the connection is not trusted again: the next measurement opens a new one.
      client.release(error instanceof Error ? error : true);
      throw error;
    } finally {
      this.#client = undefined;
    }
  }

  /**
   * Gives up on the running measurement: its connection's socket is destroyed, so its query fails
   * now and the connection leaves the pool. A measurement still connecting fails at the pool's
   * connect timeout, which is the measurement's bound.
   */
  abandon(): void {
    this.#client?.connection?.stream?.destroy?.();
  }

  #lost(error: Error): void {
    this.#logger.debug({ replica: this.#label, err: error }, 'database: the replica lag measurement connection was closed');
  }

  /**
   * Ends the running measurement, if any, and closes the probe's connection, promptly: a
   * measurement still connecting (a replica that accepts connections and says nothing) would hold
   * the pool's end until its connect timeout, so that connection's socket is destroyed too.
   * Idempotent: a second call answers the first one's promise (pg's pool ends only once).
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.abandon();
    for (const client of (this.#pool as PgPool & PoolClients)._clients ?? []) client.connection?.stream?.destroy?.();
    await this.#running?.catch(() => undefined);
    await this.#pool.end();
  }
}
