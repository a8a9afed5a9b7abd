import { randomUUID } from 'node:crypto';
import { errorCode } from '../db/driver-errors.js';
import { type Clock, systemClock } from '../internal/clock.js';
import type { PriceBook } from '../llm/pricing.js';
import type { ChatRequest } from '../llm/types.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { RateLimitRules, RateLimitStore } from '../resilience/rate-limit-store.js';
import type { ModelGroupConfig } from '../routing/routes-config.js';
import { type BudgetOwner, budgetLimits } from './budget-limits.js';
import { type BudgetStore, fromNano, toNano } from './budget-store.js';
import { BudgetWaiters } from './budget-waiters.js';
import { billableModels, callCostBound } from './call-cost-bound.js';
import { KeptSettlements } from './kept-settlements.js';
import { rateLimitState, type TenantRateLimitState } from './rate-limit-state.js';
import type { Team } from './team.js';
import {
  BudgetExceededError,
  budgetHeldError,
  budgetRefusal,
  KeyRefusedError,
  ModelNotAllowedError,
  ModelNotPricedError,
  TenantLimitError,
} from './tenant-refusals.js';
import type { TenantSettings } from './tenant-settings.js';
import { keyStatus, type VirtualKey } from './virtual-key.js';

/** Settings of a {@link TenantAdmission}. */
export interface TenantAdmissionOptions {
  /** Where spend budgets and concurrency slots are counted. */
  budgets: BudgetStore;
  /** A rate-limit store enforcing `rules` (one per distinct rule set; the same Redis or memory for all). */
  rateLimits: (rules: RateLimitRules) => RateLimitStore;
  prices: PriceBook;
  clock?: Clock | undefined;
  /** How long a reservation holds when never settled (its process died), in ms. Keep it above the longest call. @default 600000 */
  leaseMs?: number | undefined;
  /** Output tokens reserved for a call that sets no maximum (`TENANT_MAX_OUTPUT_TOKENS_ESTIMATE`). @default 4096 */
  maxOutputTokens?: number | undefined;
  /** Least output allowance a call without its own maximum is shrunk to when the budget is nearly spent. @default 256 */
  minOutputTokens?: number | undefined;
  /** Longest a call waits for budget held by calls in flight to be settled, in ms. @default 30000 */
  maxWaitMs?: number | undefined;
  /**
   * Models a call may fall back to when its own model fails (`LLM_FALLBACKS`): a call is reserved
   * at the worst case over its model and these, so a dearer fallback stays within its reservation.
   * @default []
   */
  fallbackModels?: readonly string[] | undefined;
  /**
   * The model groups of the routes file (`GROUNDWORK_ROUTES`): a call for a group is reserved at
   * the worst case over the deployments it may reach (its own and its fallback groups'), each at
   * its model's price, and settled at the price of the deployment that answered.
   * @default none
   */
  groups?: Readonly<Record<string, ModelGroupConfig>> | undefined;
  /** Where a failed settlement is reported (its error's code only). @default silent */
  logger?: Logger | undefined;
  /** Counts failed settlements as `groundwork_store_failures_total{component="tenant_budget"}`. */
  metrics?: GroundworkMetrics | undefined;
}

/** What {@link TenantAdmission.admit} needs of a call: everything of it a provider bills as prompt, and its output maximum. */
export type AdmittedRequest = Pick<ChatRequest, 'model' | 'messages' | 'tools' | 'toolChoice' | 'responseFormat' | 'n' | 'maxTokens'> & {
  /** The call is pinned to its provider and cannot fall back (the library's `provider` option). @default false */
  noFallbacks?: boolean | undefined;
  /** The models the call may fall back to, instead of the admission's `fallbackModels` (embeddings have their own). */
  fallbackModels?: readonly string[] | undefined;
  /** An upper bound of the input's tokens counted by the caller, instead of the bound of `messages` (embeddings' inputs). */
  inputTokens?: number | undefined;
};

/** Who calls: a key and its team, if any. */
export interface TenantCaller {
  key: VirtualKey;
  team: Team | undefined;
}

/** A call let through: settle it exactly once, when it ends. */
export interface Admission {
  /**
   * The most output tokens the call may use: the request's own maximum, or the configured
   * ceiling, or less when the remaining budget affords less. Send it as the call's maximum.
   */
  readonly maxTokens: number;
  /** The worst-case cost reserved, in USD (0 when no budget applies). */
  readonly reservedUsd: number;
  /**
   * Ends the call's reservations: charges `costUsd` (0 for a call that failed before an answer) and
   * gives back unused tokens. Never rejects: a store that fails is logged and counted, and the
   * charge or release is kept and tried again before a later admission.
   */
  settle(costUsd: number, usedTokens: number): Promise<void>;
}

const MINUTE = 60_000;
const POLL_MIN_MS = 10;
const POLL_MAX_MS = 50;

/**
 * Lets a tenant's call through, or refuses it, before it reaches a provider: the key's status,
 * its allowed models, its and its team's rates per minute, their calls in flight, and their spend
 * budgets. Budgets are held exactly: each call reserves its worst-case cost on every budget that
 * applies (atomically, in a store shared by the fleet), and settles to the real cost when it
 * ends. A call that does not fit next to calls still in flight waits for them; it is refused only
 * when settled spend alone leaves no room for it.
 */
export class TenantAdmission {
  readonly #options: TenantAdmissionOptions;
  readonly #clock: Clock;
  readonly #stores = new Map<string, RateLimitStore>();
  readonly #waiters: BudgetWaiters;
  readonly #kept: KeptSettlements;

  constructor(options: TenantAdmissionOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#waiters = new BudgetWaiters(this.#clock);
    this.#kept = new KeptSettlements({ logger: options.logger, metrics: options.metrics, clock: this.#clock });
  }

  /** Settlements the budget store failed, waiting to be tried again. */
  get keptSettlements(): number {
    return this.#kept.size;
  }

  /**
   * Tries the settlements the budget store failed once more and drops, logged and counted, those it
   * still refuses or has not answered within 1 s: call it at shutdown, before the store closes.
   * Never rejects.
   */
  close(): Promise<void> {
    return this.#kept.close();
  }

  /**
   * Whether `caller` may call `model` at all (the key's and its team's status and allowed models),
   * without taking anything: throws {@link KeyRefusedError} or {@link ModelNotAllowedError}.
   * {@link admit} checks it too; a caller that may answer from a cache checks it first.
   */
  check(caller: TenantCaller, model: string): void {
    const { key, team } = caller;
    this.checkStatus(caller);
    checkModel(key, 'key', model);
    if (team !== undefined) checkModel(team, 'team', model);
  }

  /**
   * Whether `caller` may use the service at all, whatever it asks for: throws {@link KeyRefusedError}
   * when its key is not active or its team is disabled. {@link check} checks it too.
   */
  checkStatus(caller: TenantCaller): void {
    const status = keyStatus(caller.key, new Date(this.#clock.now()));
    if (status !== 'active') throw new KeyRefusedError(status);
    if (caller.team !== undefined && !caller.team.enabled) throw new KeyRefusedError('team_disabled');
  }

  /** Admits one call, or throws a refusal ({@link KeyRefusedError}, {@link ModelNotAllowedError}, {@link TenantLimitError}, {@link BudgetExceededError}). */
  async admit(
    caller: TenantCaller,
    request: AdmittedRequest,
    signal?: AbortSignal,
    /** Told the key's per-minute limits (its team's when it has none) once their buckets answered, granted or not. */
    onRateLimit?: (state: TenantRateLimitState) => void,
  ): Promise<Admission> {
    const { key, team } = caller;
    this.check(caller, request.model);
    // What the store missed reaches it before this call is reserved against the same budgets (waited for a bounded time).
    await this.#kept.retry();

    const owners: BudgetOwner[] = [{ scope: 'key', id: key.id, settings: key }];
    if (team !== undefined) owners.push({ scope: 'team', id: team.id, settings: team });
    const ceiling = request.maxTokens ?? this.#options.maxOutputTokens ?? 4096;
    const limits = budgetLimits(owners, this.#clock.now());
    const models = billableModels(request.model, {
      groups: this.#options.groups,
      fallbackModels: request.fallbackModels ?? this.#options.fallbackModels ?? [],
      noFallbacks: request.noFallbacks === true,
    });
    const costs = this.#costs(request, models, ceiling, limits.length > 0);
    // Unpriced and unbudgeted: the inputs' bound (embeddings') counts against the per-minute tokens with the allowance.
    const tokens = costs === undefined ? (request.inputTokens ?? 0) + ceiling * Math.max(1, request.n ?? 1) : costs.tokens;

    const releases: Array<() => Promise<void>> = [];
    // How many owners, in order, this call's per-minute buckets were taken from: a refusal gives their tokens back.
    let rated = 0;
    try {
      const reported = owners.find((owner) => rulesFor(owner.settings as TenantSettings) !== undefined);
      for (const owner of owners) {
        await this.#takeRate(owner, tokens, owner === reported ? onRateLimit : undefined);
        rated++;
      }
      for (const owner of owners) await this.#takeSlot(owner, releases);
      if (limits.length === 0 || costs === undefined) return this.#admission(ceiling, 0, releases, undefined, owners, tokens);
      // A call without its own maximum may be shrunk down to minOutputTokens when that is all the budget affords.
      const minimumTokens = request.maxTokens === undefined ? Math.min(ceiling, this.#options.minOutputTokens ?? 256) : ceiling;
      const amountNano = costs.nanoAt(ceiling);
      const minimumNano = costs.nanoAt(minimumTokens);
      const { reservationId, reservedNano } = await this.#reserve({ limits, amountNano, minimumNano }, signal);
      const maxTokens = reservedNano >= amountNano ? ceiling : Math.max(minimumTokens, Math.min(ceiling, costs.tokensFor(reservedNano)));
      const counters = limits.map((limit) => limit.counter);
      const charge = (costUsd: number) => this.#options.budgets.settle(reservationId, counters, toNano(costUsd), this.#clock.now());
      return this.#admission(maxTokens, reservedNano, releases, charge, owners, tokens);
    } catch (error) {
      // A refused call never ran: its tokens go back, as a call that failed settles with none used.
      // Its request stays counted, as any call's does.
      const work: Array<Promise<unknown>> = [Promise.allSettled(releases.map((release) => release()))];
      for (const owner of owners.slice(0, rated)) work.push(this.#giveBackTokens(owner, tokens));
      await Promise.all(work);
      throw error;
    }
  }

  /**
   * The call's worst case over every model it may reach: the cost at an output allowance (the
   * highest of the models' costs, rounded up), the largest allowance a reserved amount covers on
   * every model, and the most tokens it may take. Undefined when no model is priced and no budget
   * applies; refused when a budget applies and a model it may reach has no price.
   */
  #costs(request: AdmittedRequest, models: readonly string[], ceiling: number, budgeted: boolean) {
    const choices = Math.max(1, request.n ?? 1);
    const lines: Array<{ inputNano: number; perTokenNano: number }> = [];
    let tokens = 0;
    for (const model of models) {
      const price = this.#options.prices.priceOf(model);
      if (price === undefined) {
        if (budgeted) throw new ModelNotPricedError(model);
        continue;
      }
      const bound =
        request.inputTokens === undefined
          ? callCostBound({ ...request, model }, price, ceiling)
          : { inputTokens: request.inputTokens, outputTokens: ceiling * choices };
      tokens = Math.max(tokens, bound.inputTokens + bound.outputTokens);
      lines.push({ inputNano: bound.inputTokens * price.input * 1000, perTokenNano: price.output * 1000 * choices });
    }
    if (lines.length === 0) return undefined;
    return {
      tokens,
      nanoAt: (outputTokens: number) => Math.max(...lines.map((line) => toNano((line.inputNano + outputTokens * line.perTokenNano) / 1e9))),
      tokensFor: (nano: number) =>
        Math.min(...lines.map((line) => (line.perTokenNano === 0 ? ceiling : Math.floor((nano - line.inputNano) / line.perTokenNano)))),
    };
  }

  #admission(
    maxTokens: number,
    reservedNano: number,
    releases: ReadonlyArray<() => Promise<void>>,
    charge: ((costUsd: number) => Promise<void>) | undefined,
    owners: readonly BudgetOwner[],
    reservedTokens: number,
  ): Admission {
    let settled = false;
    return {
      maxTokens,
      reservedUsd: fromNano(reservedNano),
      settle: async (costUsd, usedTokens) => {
        if (settled) return;
        settled = true;
        const now = this.#clock.now();
        const kept = this.#kept;
        // The call has ended (answered, and billed by its provider): a failing store must not fail it.
        const work: Array<Promise<void>> = releases.map((release) => kept.run(release, true));
        if (charge !== undefined) work.push(kept.run(() => charge(costUsd), true));
        for (const owner of owners) {
          const rules = rulesFor(owner.settings as TenantSettings);
          if (rules?.tokens !== undefined) {
            const refund = async () => {
              await this.#store(rules).adjustTokens(`${owner.scope}:${owner.id}`, reservedTokens - usedTokens, now);
            };
            work.push(kept.run(refund, false));
          }
        }
        await Promise.all(work);
        // Room was freed: the calls of this process waiting for it ask now rather than at their next poll.
        if (charge !== undefined) this.#waiters.wake();
      },
    };
  }

  /** Takes a request and `tokens` from the owner's per-minute buckets, if it has any, or throws the refusal. */
  async #takeRate(owner: BudgetOwner, tokens: number, onRateLimit: ((state: TenantRateLimitState) => void) | undefined): Promise<void> {
    const rules = rulesFor(owner.settings as TenantSettings);
    if (rules === undefined) return;
    const result = await this.#store(rules).take(`${owner.scope}:${owner.id}`, tokens, this.#clock.now());
    const state =
      onRateLimit === undefined ? undefined : rateLimitState(rules, result, (owner.settings as TenantSettings).requestsPerMinute !== null);
    if (state !== undefined) onRateLimit?.(state);
    if (!result.granted) throw new TenantLimitError(result.limit, owner.scope, Math.max(1, result.waitMs));
  }

  /** Gives `tokens` back to the owner's per-minute bucket; a store that fails is logged and counted, and they return as it refills. */
  async #giveBackTokens(owner: BudgetOwner, tokens: number): Promise<void> {
    const rules = rulesFor(owner.settings as TenantSettings);
    if (rules?.tokens === undefined) return;
    try {
      await this.#store(rules).adjustTokens(`${owner.scope}:${owner.id}`, tokens, this.#clock.now());
    } catch (error) {
      this.#options.metrics?.storeFailures.inc({ component: 'tenant_rate_limit' });
      this.#options.logger?.error(
        { code: errorCode(error) ?? (error instanceof Error ? error.name : typeof error) },
        'Giving back the tokens of a refused call to its rate limit failed; they return as the limit refills.',
      );
    }
  }

  async #takeSlot(owner: BudgetOwner, releases: Array<() => Promise<void>>): Promise<void> {
    const cap = (owner.settings as TenantSettings).maxConcurrent;
    if (cap === null || cap === undefined) return;
    const id = randomUUID();
    const counter = `${owner.scope}:${owner.id}:concurrency`;
    const now = this.#clock.now();
    const result = await this.#options.budgets.reserve({
      reservationId: id,
      budgets: [{ counter, limitNano: cap, expiresAt: undefined }],
      amountNano: 1,
      leaseUntil: now + this.#leaseMs(),
      now,
    });
    if (!result.granted) throw new TenantLimitError('concurrency', owner.scope, 1000);
    releases.push(() => this.#options.budgets.settle(id, [counter], 0, this.#clock.now()));
  }

  /**
   * Reserves, waiting while calls in flight hold the room; refuses once settled spend alone leaves
   * none. A call that finds others of this process already waiting on the same budgets queues
   * behind them (first come, first served), and only the head of the line asks the store.
   */
  async #reserve(
    call: { limits: ReturnType<typeof budgetLimits>; amountNano: number; minimumNano: number },
    signal: AbortSignal | undefined,
  ): Promise<{ reservationId: string; reservedNano: number }> {
    const started = this.#clock.now();
    const maxWaitMs = this.#options.maxWaitMs ?? 30_000;
    const line = call.limits.map((limit) => limit.counter).join(' ');
    // The budget that refused this call last, named by the 429 when waiting runs out.
    let heldBy: string | undefined;
    // Each attempt under its own id: an attempt whose answer was lost (a store timeout) can then be
    // released on its own, and can never be confused with a later one that was granted.
    const attempt = async (): Promise<{ reservationId: string; reservedNano: number } | undefined> => {
      const now = this.#clock.now();
      const reservationId = randomUUID();
      const result = await this.#options.budgets.reserve({
        reservationId,
        budgets: call.limits,
        amountNano: call.amountNano,
        minimumNano: call.minimumNano,
        leaseUntil: now + this.#leaseMs(),
        now,
      });
      if (result.granted) return { reservationId, reservedNano: result.amountNano };
      // Held by calls in flight, or a local share answered (the shared store is away): wait, then 429.
      const refusal = budgetRefusal(result, call.minimumNano);
      if (refusal !== undefined) throw refusal;
      heldBy = result.counter;
      return undefined;
    };
    if (!this.#waiters.busy(line)) {
      const granted = await attempt();
      if (granted !== undefined) return granted;
    }
    // A call whose wait runs out in the line before it has asked names what refused the line's head.
    const timedOut = (lineHeldBy?: string) => budgetHeldError(heldBy ?? lineHeldBy ?? call.limits[0]?.counter ?? 'key', 1000);
    const turn = await this.#waiters.enter(line, maxWaitMs - (this.#clock.now() - started), signal, timedOut);
    try {
      let pause = POLL_MIN_MS;
      for (;;) {
        const granted = await attempt();
        if (granted !== undefined) return granted;
        if (heldBy !== undefined) turn.heldBy(heldBy);
        const left = maxWaitMs - (this.#clock.now() - started);
        if (left <= 0) throw timedOut();
        await turn.pause(Math.min(pause, left), signal);
        pause = Math.min(POLL_MAX_MS, pause * 2);
      }
    } finally {
      turn.release();
    }
  }

  /**
   * A key's (or team's) per-minute buckets now, as `x-ratelimit-*` would show them; undefined when
   * it has no rate limits or its store cannot report levels. Reads only: nothing is taken.
   */
  async rateLimitLevels(scope: 'key' | 'team', id: string, settings: TenantSettings): Promise<TenantRateLimitState | undefined> {
    const rules = rulesFor(settings);
    const store = rules === undefined ? undefined : this.#store(rules);
    if (rules === undefined || store?.peek === undefined) return undefined;
    const levels = await store.peek(`${scope}:${id}`, this.#clock.now());
    return rateLimitState(rules, { granted: true, waitMs: 0, limit: 'requests', levels }, settings.requestsPerMinute !== null);
  }

  #leaseMs(): number {
    return this.#options.leaseMs ?? 600_000;
  }

  #store(rules: RateLimitRules): RateLimitStore {
    const id = `${rules.requests.capacity}/${rules.tokens?.capacity ?? 0}`;
    let store = this.#stores.get(id);
    if (store === undefined) {
      store = this.#options.rateLimits(rules);
      this.#stores.set(id, store);
    }
    return store;
  }
}

/** The per-minute buckets of a key or team; undefined when it has no rate limits. */
function rulesFor(settings: TenantSettings): RateLimitRules | undefined {
  if (settings.requestsPerMinute === null && settings.tokensPerMinute === null) return undefined;
  return {
    requests: { capacity: settings.requestsPerMinute ?? Number.MAX_SAFE_INTEGER, windowMs: MINUTE },
    tokens: settings.tokensPerMinute === null ? undefined : { capacity: settings.tokensPerMinute, windowMs: MINUTE },
  };
}

/**
 * The models `caller` may call, by the same rule as {@link TenantAdmission.check}: those both its
 * key and its team allow; undefined when neither restricts them.
 */
export function callerModels(caller: TenantCaller): readonly string[] | undefined {
  const lists = [caller.key.allowedModels, caller.team?.allowedModels ?? null].filter(restricts);
  const [first, second] = lists;
  if (first === undefined) return undefined;
  return second === undefined ? first : first.filter((model) => second.includes(model));
}

/** Whether an allowed-models setting limits the models at all (null, or one holding `*`, does not). */
function restricts(allowed: readonly string[] | null): allowed is string[] {
  return allowed !== null && !allowed.includes('*');
}

function checkModel(settings: Pick<TenantSettings, 'allowedModels'>, by: 'key' | 'team', model: string): void {
  const allowed = settings.allowedModels;
  if (!restricts(allowed) || allowed.includes(model)) return;
  throw new ModelNotAllowedError(model, by);
}
