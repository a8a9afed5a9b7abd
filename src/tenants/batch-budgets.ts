import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type Clock, systemClock } from '../internal/clock.js';
import { DEFAULT_BATCH_FACTOR, type PriceBook } from '../llm/pricing.js';
import type { ChatRequest } from '../llm/types.js';
import type { UsageAttribution } from '../llm/usage-record.js';
import { type BudgetOwner, budgetLimits } from './budget-limits.js';
import { type BudgetState, type BudgetStore, fromNano, toNano } from './budget-store.js';
import { callCostBound } from './call-cost-bound.js';
import type { TenantAdmission } from './tenant-admission.js';
import { budgetHeldError, budgetRefusal, ModelNotPricedError } from './tenant-refusals.js';
import type { TenantRepository } from './tenant-repository.js';

/** A batch's reservation on its tenant's budgets, kept with the batch until it is settled. */
export interface BatchReservation {
  /** The reservation's id in the budget store. */
  readonly id: string;
  /** The budgets it holds (key and team; day, month, total). */
  readonly counters: readonly string[];
  /** The batch's worst-case cost reserved, in USD. */
  readonly reservedUsd: number;
}

/** A batch let through for a tenant: whom its ledger rows are billed to, and what it reserved (none when no budget applies). */
export interface TenantBatch {
  readonly attribution: UsageAttribution;
  readonly reservation: BatchReservation | undefined;
}

/** What {@link BatchBudgets.reserve} needs of a batch. */
export interface BatchToReserve {
  /** The model every item is sent to. */
  readonly model: string;
  /** Every item's request, each with the output maximum it is sent with (`maxTokens` must be set). */
  readonly requests: ReadonlyArray<Pick<ChatRequest, 'model' | 'messages' | 'tools' | 'n' | 'maxTokens'>>;
  /** How long the reservation holds if never settled, in ms: beyond the provider's batch window. */
  readonly leaseMs: number;
}

/** What {@link BatchBudgets} is built from. */
export interface BatchBudgetsOptions {
  budgets: BudgetStore;
  prices: PriceBook;
  admission: Pick<TenantAdmission, 'check'>;
  repository: Pick<TenantRepository, 'showKey' | 'showTeam'>;
  /** The repository reading through a caller's transaction (for a batch reserved in it). @default `repository` */
  repositoryWithin?: ((session: BudgetSession) => Pick<TenantRepository, 'showKey' | 'showTeam'>) | undefined;
  clock?: Clock | undefined;
}

/**
 * The caller's open transaction a batch is reserved (or settled) in: the reservation then commits
 * or rolls back with the batch's submit job.
 */
// biome-ignore lint/suspicious/noExplicitAny: the caller's transaction is over the application's schema.
export type BudgetSession = Kysely<any>;

/**
 * A tenant's budgets for batches through the providers' Batch APIs. A batch is admitted whole at
 * enqueue: the key (and team) must be usable and allowed the model, and the batch's worst case
 * (every item's prompt bound and output maximum at the batch price share) is reserved on every
 * budget that applies, under a lease that outlives the batch window. It is settled once, to what
 * the provider charged, when the batch ends. Requests and tokens per minute and the concurrency
 * cap do not apply: the provider runs a batch in its own window, outside the live traffic.
 */
export class BatchBudgets {
  readonly #options: BatchBudgetsOptions;
  readonly #clock: Clock;

  constructor(options: BatchBudgetsOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Whether a batch can be reserved in the caller's transaction (`session` of
   * {@link BatchBudgets.reserve}): true when the budgets live in the application's database, false
   * when they live in Redis.
   */
  get joinsTransactions(): boolean {
    return this.#options.budgets.within !== undefined;
  }

  /**
   * Checks `tenant` (a key's name or id) and reserves the batch's worst case, or throws a refusal:
   * `KeyRefusedError`, `ModelNotAllowedError`, `ModelNotPricedError`, `BudgetExceededError`
   * (settled spend leaves no room for it) or `TenantLimitError` (`budget`: reservations of
   * calls and batches in flight hold the room; retry later) or, while Redis is unreachable,
   * `BudgetStoreUnavailableError` (a batch is reserved only where the worker that settles it sees
   * it, never in a replica's local share; retry later). With `session` (the caller's open
   * transaction; only when {@link BatchBudgets.joinsTransactions}), the key is read and the
   * reservation made in it, so they commit or roll back with it.
   */
  async reserve(tenant: string, batch: BatchToReserve, session?: BudgetSession): Promise<TenantBatch> {
    const { admission } = this.#options;
    const { repository, budgets } = this.#parts(session);
    const key = await repository.showKey(tenant);
    const team = key.teamId === null ? undefined : await repository.showTeam(key.teamId);
    admission.check({ key, team }, batch.model);
    const attribution = { keyId: key.id, teamId: team?.id ?? null };
    const owners: BudgetOwner[] = [{ scope: 'key', id: key.id, settings: key }];
    if (team !== undefined) owners.push({ scope: 'team', id: team.id, settings: team });
    const now = this.#clock.now();
    const limits = budgetLimits(owners, now);
    if (limits.length === 0) return { attribution, reservation: undefined };
    const amountNano = this.worstCaseNano(batch);
    const id = `batch:${randomUUID()}`;
    // Only where every process sees it: a worker settles it, and a replica's local share is this process's alone.
    const result = await budgets.reserve({
      reservationId: id,
      budgets: limits,
      amountNano,
      leaseUntil: now + batch.leaseMs,
      now,
      sharedOnly: true,
    });
    if (!result.granted) throw budgetRefusal(result, amountNano) ?? budgetHeldError(result.counter, 60_000);
    const counters = limits.map((limit) => limit.counter);
    return { attribution, reservation: { id, counters, reservedUsd: fromNano(result.amountNano) } };
  }

  /**
   * The most a batch may cost, in nano-USD: for each item, its prompt bound (as a call's) and its
   * output maximum, priced at the model's batch share of the list price, each rounded up.
   */
  worstCaseNano(batch: Omit<BatchToReserve, 'leaseMs'>): number {
    const price = this.#options.prices.priceOf(batch.model);
    if (price === undefined) throw new ModelNotPricedError(batch.model);
    const share = price.batch ?? DEFAULT_BATCH_FACTOR;
    const batchPrice = { input: price.input * share, output: price.output * share };
    let total = 0;
    for (const request of batch.requests) {
      if (request.maxTokens === undefined) throw new Error('every request of a budgeted batch must carry its output maximum');
      // One nano-USD more per item: the ledger rounds each item's cost to 1e-10 USD, twice.
      total += toNano(callCostBound({ ...request, model: batch.model }, batchPrice, request.maxTokens).costUsd) + 1;
    }
    return total;
  }

  /** The budgets' settled and live reserved spend, in the order given, as of `now` (@default the clock's now). */
  read(counters: readonly string[], now?: number): Promise<BudgetState[]> {
    return this.#options.budgets.read(counters, now ?? this.#clock.now());
  }

  /**
   * Settles the batch's reservation to `costUsd` (what the provider charged: the answered items)
   * and releases the rest. Exactly once: a repeated settlement of the same reservation (a final
   * poll run again) adds nothing.
   */
  async settle(reservation: BatchReservation, costUsd: number, session?: BudgetSession): Promise<void> {
    const { budgets } = this.#parts(session);
    await budgets.settle(reservation.id, reservation.counters, toNano(costUsd), this.#clock.now(), { once: true });
  }

  /** The repository and budget store to use: the instance's own, or those working in `session`. */
  #parts(session: BudgetSession | undefined): { repository: BatchBudgetsOptions['repository']; budgets: BudgetStore } {
    const { repository, repositoryWithin, budgets } = this.#options;
    if (session === undefined) return { repository, budgets };
    if (budgets.within === undefined) {
      throw new Error('these budgets live outside the database (Redis), so they cannot be reserved in its transaction');
    }
    return { repository: repositoryWithin?.(session) ?? repository, budgets: budgets.within(session) };
  }
}
