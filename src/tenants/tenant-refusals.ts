import { GroundworkError } from '../errors/groundwork-error.js';
import { fromNano, type ReserveResult } from './budget-store.js';
import type { KeyStatus } from './virtual-key.js';

/** The key may not be used: revoked, disabled, expired, or its team disabled. Answered as 401. */
export class KeyRefusedError extends GroundworkError {
  readonly status: Exclude<KeyStatus, 'active'> | 'team_disabled';

  constructor(status: Exclude<KeyStatus, 'active'> | 'team_disabled') {
    const why = status === 'team_disabled' ? "the key's team is disabled" : `the key is ${status}`;
    super('invalid_api_key', `This API key was refused: ${why}. Ask the service's operator for a valid key.`);
    this.status = status;
  }
}

/** The key (or its team) may not use the model asked for. Answered as 403, naming the model. */
export class ModelNotAllowedError extends GroundworkError {
  readonly model: string;

  constructor(model: string, by: 'key' | 'team') {
    super('model_not_allowed', `The model "${model}" is not allowed for this ${by}; ask the service's operator to allow it.`);
    this.model = model;
  }
}

/** A spend budget has no room left for the call. Answered as 429 with OpenAI's `insufficient_quota`. */
export class BudgetExceededError extends GroundworkError {
  /** The budget that refused, e.g. `key:<id>:day:2026-11-29`. */
  readonly budget: string;
  readonly limitUsd: number;
  readonly spentUsd: number;

  constructor(options: { budget: string; limitUsd: number; spentUsd: number; neededUsd: number }) {
    const [scope, , period] = options.budget.split(':');
    super(
      'insufficient_quota',
      `The ${period ?? ''} budget of this ${scope ?? 'key'} is used up: $${options.spentUsd.toFixed(6)} of $${options.limitUsd.toFixed(6)} spent, ` +
        `and this call may cost up to $${options.neededUsd.toFixed(6)}. Lower max_tokens, wait for the next period, or ask for a larger budget.`,
    );
    this.budget = options.budget;
    this.limitUsd = options.limitUsd;
    this.spentUsd = options.spentUsd;
  }
}

/** A budget applies but the model has no price, so its cost cannot be bounded. */
export class ModelNotPricedError extends GroundworkError {
  readonly model: string;

  constructor(model: string) {
    super('model_not_priced', `The model "${model}" has no price, so a spend budget cannot be enforced for it; add it to LLM_PRICES.`);
    this.model = model;
  }
}

/** What refused a call for a while: a per-minute limit, the concurrency cap, or a budget held by calls in flight. */
export type TenantLimitKind = 'requests' | 'tokens' | 'concurrency' | 'budget';

/** A key's or team's limit refused the call for now. Answered as 429 with `Retry-After`. */
export class TenantLimitError extends GroundworkError {
  readonly limit: TenantLimitKind;
  readonly scope: 'key' | 'team';
  readonly retryAfterMs: number;

  constructor(limit: TenantLimitKind, scope: 'key' | 'team', retryAfterMs: number) {
    const what = {
      requests: 'requests-per-minute limit',
      tokens: 'tokens-per-minute limit',
      concurrency: 'limit on calls in flight',
      budget: 'budget, held by calls still in flight,',
    }[limit];
    super('rate_limit_exceeded', `The ${what} of this ${scope} refused the call; retry in ${Math.ceil(retryAfterMs / 1000)} s.`, {
      retryable: true,
    });
    this.limit = limit;
    this.scope = scope;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The shared budget store (Redis) is unreachable and `LLM_RATE_LIMIT_ON_STORE_FAILURE=refuse`. Answered as 429 with `Retry-After`. */
export class BudgetStoreUnavailableError extends GroundworkError {
  /** When the store will be tried again, in ms from now. */
  readonly retryAfterMs: number;

  /** `sharedOnly`: refused a reservation another process settles (a batch), which a replica's local share cannot hold. */
  constructor(options: { retryAfterMs: number; cause?: unknown; sharedOnly?: boolean }) {
    const retry = Math.max(1, Math.ceil(options.retryAfterMs / 1000));
    super(
      'rate_limit_store_unavailable',
      options.sharedOnly === true
        ? "The shared store of tenants' budgets (Redis) is unreachable, and a batch's budget cannot be reserved in this replica's local share: " +
            `it is settled by another process, which would never see it. Try again in ${retry} s.`
        : "The shared store of tenants' budgets and limits (Redis) is unreachable and LLM_RATE_LIMIT_ON_STORE_FAILURE=refuse, so the call was not sent. " +
            `Try again in ${retry} s, or set it to "local".`,
      { cause: options.cause, retryable: true },
    );
    this.retryAfterMs = Math.max(1000, options.retryAfterMs);
  }
}

/** A budget store's answer that there was no room. */
export type BudgetStoreRefusal = Extract<ReserveResult, { granted: false }>;

/**
 * What a budget store's refusal means for a call (or batch) that needs at least `neededNano`:
 * {@link BudgetExceededError} when settled spend alone leaves no room, so waiting cannot help;
 * undefined when reservations in flight hold the room, or a local share answered (the budget
 * itself may have room), so the caller waits or refuses with {@link budgetHeldError}.
 */
export function budgetRefusal(refused: BudgetStoreRefusal, neededNano: number): BudgetExceededError | undefined {
  if (refused.localShare === true || refused.spentNano + neededNano <= refused.limitNano) return undefined;
  return new BudgetExceededError({
    budget: refused.counter,
    limitUsd: fromNano(refused.limitNano),
    spentUsd: fromNano(refused.spentNano),
    neededUsd: fromNano(neededNano),
  });
}

/** The refusal of a call whose budget `counter` is held by calls in flight: retry after `retryAfterMs`. */
export function budgetHeldError(counter: string, retryAfterMs: number): TenantLimitError {
  return new TenantLimitError('budget', counter.startsWith('team:') ? 'team' : 'key', retryAfterMs);
}
