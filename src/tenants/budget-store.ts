import type { Kysely } from 'kysely';

/** One budget a reservation counts against: a counter (key or team, and period) and its limit. */
export interface BudgetLimit {
  /** `key:<id>:day:2026-11-29`, `team:<id>:month:2026-11`, `key:<id>:total`… */
  counter: string;
  /** The budget, in nano-USD (1e-9 USD): whole numbers, so sums are exact. */
  limitNano: number;
  /** When the counter may be forgotten (the period's end plus a margin), in ms since the epoch; undefined: never. */
  expiresAt: number | undefined;
}

/** A request to reserve spend against every budget that applies to a call. */
export interface ReserveRequest {
  /** Unique per call; settlement refers to it. */
  reservationId: string;
  budgets: readonly BudgetLimit[];
  /** The call's worst-case cost, in nano-USD. */
  amountNano: number;
  /**
   * The least the caller accepts: when less than `amountNano` fits, grant what fits if it is at
   * least this (the caller then lowers the call's output allowance to match). @default amountNano
   */
  minimumNano?: number | undefined;
  /** When the reservation lapses if never settled (its process died), in ms since the epoch. */
  leaseUntil: number;
  now: number;
  /**
   * Reserve in the store the fleet shares, or not at all: while it is unreachable the reservation
   * is refused rather than made in a replica's local share. For a reservation another process may
   * settle (a batch, settled by whichever worker polls it last), which only the shared store holds
   * for every process to see. @default false
   */
  sharedOnly?: boolean | undefined;
}

/** What {@link BudgetStore.reserve} answers. */
export type ReserveResult =
  | {
      granted: true;
      amountNano: number;
      /** Settled plus reserved spend on each budget before this grant, in the order given (when the store tells). */
      committedNano?: readonly number[];
    }
  | {
      granted: false;
      /** The budget that had no room. */
      counter: string;
      limitNano: number;
      /** Settled spend on that budget. */
      spentNano: number;
      /** Spend reserved by calls in flight on that budget (live leases only). */
      reservedNano: number;
      /**
       * Refused by a replica's local share while the shared store is unreachable, or not known
       * (the shared store answered too late): the budget itself may have room, so the caller
       * should wait or retry rather than call it spent.
       */
      localShare?: true;
    };

/** How {@link BudgetStore.settle} ends a reservation. */
export interface SettleOptions {
  /**
   * Adds the spend on a counter only while the reservation is still held there (not settled yet,
   * lease not lapsed), so settling the same reservation again adds nothing: a settlement that may
   * be repeated (a batch's final poll retried) counts exactly once. @default false
   */
  once?: boolean | undefined;
}

/** Where a budget stands. */
export interface BudgetState {
  counter: string;
  spentNano: number;
  reservedNano: number;
}

/**
 * Where spend budgets live: Redis (a Lua script per operation) or the database (a transaction per
 * operation). Either way each operation is atomic across every process sharing the store, so
 * two calls can never both take the last room in a budget.
 */
export interface BudgetStore {
  /** Reserves against every budget or none: refused when any budget's limit − spent − reserved is short. */
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /**
   * Ends a reservation: releases what was reserved on each counter and adds the real spend
   * (0 for a call that failed before the provider answered). Spend is added even when the lease
   * has lapsed, because it was spent. Idempotent: a settlement with spend is remembered for
   * {@link SETTLED_MARKER_MS} (or until the reservation's lease would have ended, when later), and
   * settling the same reservation with spend again in that time adds nothing, so a settlement
   * replayed after its answer was lost counts once. A settlement of 0 is a release, remembered by
   * nothing: spend settled after it (a replay of what a local share spent) still counts.
   */
  settle(reservationId: string, counters: readonly string[], spentNano: number, now: number, options?: SettleOptions): Promise<void>;
  /** The counters' settled and live reserved spend, in the order given. */
  read(counters: readonly string[], now: number): Promise<BudgetState[]>;
  /**
   * Sets a spend counter's settled spend to the usage ledger's (a store that can lose counters,
   * Redis, also does this by itself when it finds one missing). Answers the spend set, in nano-USD.
   * Optional: a store that never loses counters may leave it out.
   */
  rebuild?(counter: string, expiresAt: number | undefined): Promise<number>;
  /**
   * Ends the store's own background work, resolving once what is under way has ended (before the
   * connection it uses closes). Optional: a store with none may leave it out. Idempotent.
   */
  close?(): Promise<void>;
  /**
   * The store with every operation run on `session`, the caller's open transaction, instead of a
   * transaction of its own: a reservation made through it commits or rolls back with that
   * transaction (and holds its counters' locks until then). Only a store in the application's
   * database has it; a store elsewhere (Redis) cannot take part in the transaction.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the caller's transaction is over the application's schema.
  within?(session: Kysely<any>): BudgetStore;
}

/**
 * How long a settlement with spend is remembered, in ms, so that a repeat adds nothing: the
 * default reservation lease (10 minutes); a reservation held longer is remembered until its lease
 * would have ended.
 */
export const SETTLED_MARKER_MS = 600_000;

/** Nano-USD from USD, rounded up: a reservation or a charge is never smaller than the cost. */
export function toNano(usd: number): number {
  return Math.ceil(Math.round(usd * 1e12) / 1e3);
}

/** Nano-USD from a budget in USD, rounded down: a budget is never larger than set. */
export function budgetToNano(usd: number): number {
  return Math.floor(Math.round(usd * 1e12) / 1e3);
}

/** USD from nano-USD. */
export function fromNano(nano: number): number {
  return nano / 1e9;
}
