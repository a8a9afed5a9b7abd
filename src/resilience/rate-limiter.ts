import type { Clock, TimerHandle } from '../internal/clock.js';
import type { CallTarget } from '../llm/call-pipeline.js';
import { callAbortError, callAborted } from '../llm/call-signal.js';
import { observe } from '../observability/metric-series.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { type CallContext, deadlineError } from './call-context.js';
import { PipelineClosedError, RateLimitExceededError, type RateLimitKind } from './errors.js';
import type { RateLimitRules, RateLimitStore, TakeResult } from './rate-limit-store.js';
import { Waiter, type WaiterOwner, WaitQueue } from './waiter.js';

/** One bucket's level against its capacity (`capacity` units per `windowMs`). */
export interface BucketLevel {
  level: number;
  capacity: number;
  windowMs: number;
}

/** A provider and model's buckets, and how many callers wait for a permit. */
export interface RateLimitLevels {
  requests: BucketLevel;
  /** Undefined without a token limit. */
  tokens: BucketLevel | undefined;
  waiting: number;
}

/** A caller waiting for a permit. */
class PermitWaiter extends Waiter {
  target!: CallTarget;
  tokens = 0;
  context!: CallContext;
  /** True when the deadline, not the rate-limit wait, bounds this wait. */
  byDeadline = false;
}

/** The FIFO line and retry timer of one provider and model. */
class KeyLine extends WaitQueue<PermitWaiter> {
  timer: TimerHandle | undefined;
  pumping = false;
  lastResult: TakeResult | undefined;
  constructor(readonly key: string) {
    super();
  }
}

/**
 * The rate-limit stage: each attempt takes one request and its estimated tokens from the
 * provider and model's buckets. When they are empty callers wait in line, first come first
 * served, up to `maxWaitMs` (and never past the call's deadline), then get {@link RateLimitExceededError}.
 * A timer runs only while someone waits.
 */
export class RateLimiter implements WaiterOwner<PermitWaiter> {
  readonly #store: RateLimitStore;
  readonly #rules: RateLimitRules;
  readonly #maxWaitMs: number;
  readonly #clock: Clock;
  readonly #metrics: GroundworkMetrics | undefined;
  readonly #lines = new Map<string, KeyLine>();
  #closed = false;

  constructor(options: {
    store: RateLimitStore;
    rules: RateLimitRules;
    maxWaitMs: number;
    clock: Clock;
    metrics?: GroundworkMetrics | undefined;
  }) {
    this.#store = options.store;
    this.#rules = options.rules;
    this.#maxWaitMs = options.maxWaitMs;
    this.#clock = options.clock;
    this.#metrics = options.metrics;
  }

  /** Waits for a permit for one attempt on `target`; resolves with the ms waited. */
  async acquire(target: CallTarget, tokens: number, context: CallContext): Promise<number> {
    const key = `${target.provider}:${target.model}`;
    const line = this.#lines.get(key);
    const now = this.#clock.now();
    if (line === undefined || line.live === 0) {
      const result = await this.#store.take(key, tokens, now);
      if (result.granted) return 0;
      return this.#enqueue(key, target, tokens, context, this.#clock.now(), result);
    }
    return this.#enqueue(key, target, tokens, context, now, undefined);
  }

  /** Gives back (or takes more of) the token reservation once the real usage is known. */
  async reconcile(target: CallTarget, reservedTokens: number, usedTokens: number): Promise<void> {
    if (this.#rules.tokens === undefined || reservedTokens === usedTokens) return;
    await this.#store.adjustTokens(`${target.provider}:${target.model}`, reservedTokens - usedTokens, this.#clock.now());
  }

  /**
   * The buckets of `provider`/`model` now, against their capacity, and the callers waiting in line
   * for a permit; undefined when the store cannot report levels. Reads only: no permit is taken.
   */
  async levels(provider: string, model: string): Promise<RateLimitLevels | undefined> {
    const key = `${provider}:${model}`;
    if (this.#store.peek === undefined) return undefined;
    const levels = await this.#store.peek(key, this.#clock.now());
    const tokenRule = this.#rules.tokens;
    return {
      requests: { level: levels.requests, capacity: this.#rules.requests.capacity, windowMs: this.#rules.requests.windowMs },
      tokens:
        tokenRule === undefined || levels.tokens === undefined
          ? undefined
          : { level: levels.tokens, capacity: tokenRule.capacity, windowMs: tokenRule.windowMs },
      waiting: this.#lines.get(key)?.live ?? 0,
    };
  }

  /** Refuses every caller still waiting and stops the timers. */
  close(): void {
    this.#closed = true;
    for (const line of this.#lines.values()) {
      if (line.timer !== undefined) this.#clock.clearTimeout(line.timer);
      line.timer = undefined;
      for (const waiter of line.drain()) waiter.reject(new PipelineClosedError());
    }
    this.#lines.clear();
  }

  onExpired(waiter: PermitWaiter): void {
    const line = this.#lines.get(`${waiter.target.provider}:${waiter.target.model}`);
    this.#refuse(waiter, line?.lastResult, this.#clock.now());
    if (line !== undefined) this.#afterLeave(line);
  }

  onCancelled(waiter: PermitWaiter): void {
    const line = this.#lines.get(`${waiter.target.provider}:${waiter.target.model}`);
    if (line !== undefined) {
      line.live--;
      this.#afterLeave(line);
    }
  }

  #enqueue(
    key: string,
    target: CallTarget,
    tokens: number,
    context: CallContext,
    now: number,
    first: TakeResult | undefined,
  ): Promise<number> {
    const waitLimit = now + this.#maxWaitMs;
    const limitAt = Math.min(context.deadlineAt, waitLimit);
    const byDeadline = context.deadlineAt < waitLimit;
    if (callAborted(context)) return Promise.reject(callAbortError(context));
    if (this.#closed) return Promise.reject(new PipelineClosedError());
    if (first !== undefined && now + first.waitMs > limitAt) {
      // The bucket will not grant in time: refuse at once instead of waiting to refuse.
      return Promise.reject(this.#refusal(target, context, byDeadline, first, now, now));
    }
    let line = this.#lines.get(key);
    if (line === undefined) {
      line = new KeyLine(key);
      this.#lines.set(key, line);
    }
    if (first !== undefined) line.lastResult = first;
    const waiter = new PermitWaiter(this, this.#clock, context.signal, now, limitAt);
    waiter.target = target;
    waiter.tokens = tokens;
    waiter.context = context;
    waiter.byDeadline = byDeadline;
    line.push(waiter);
    if (first !== undefined && line.live === 1) this.#schedule(line, first.waitMs);
    return waiter.promise;
  }

  #schedule(line: KeyLine, delayMs: number): void {
    if (line.timer !== undefined || line.pumping) return;
    line.timer = this.#clock.setTimeout(() => {
      line.timer = undefined;
      void this.#pump(line);
    }, delayMs);
  }

  /** The line's first caller left: the next one may be able to go sooner. */
  #afterLeave(line: KeyLine): void {
    if (line.live === 0) {
      if (line.timer !== undefined) this.#clock.clearTimeout(line.timer);
      line.timer = undefined;
      return;
    }
    if (line.pumping) return;
    if (line.timer !== undefined) this.#clock.clearTimeout(line.timer);
    line.timer = undefined;
    void this.#pump(line);
  }

  /** Grants permits to the callers at the front of the line until the buckets run dry. */
  async #pump(line: KeyLine): Promise<void> {
    if (line.pumping) return;
    line.pumping = true;
    try {
      for (let head = line.peek(); head !== undefined; head = line.peek()) {
        const now = this.#clock.now();
        let result: TakeResult;
        try {
          result = await this.#store.take(line.key, head.tokens, now);
        } catch (error) {
          if (!head.settled) line.live--;
          head.reject(error);
          continue;
        }
        if (head.settled) {
          // The caller left while its take was on the way (a shared store's round trip): nothing will
          // be sent, so its tokens go back. The request permit cannot be returned; it lapses with its window.
          if (result.granted) void this.#giveBack(line.key, head.tokens);
          continue;
        }
        const after = this.#clock.now();
        if (result.granted) {
          line.live--;
          if (this.#metrics !== undefined) {
            observe(
              this.#metrics.rateLimitWait,
              { provider: head.target.provider, model: head.target.model, limit: line.lastResult?.limit ?? 'requests' },
              (after - head.enqueuedAt) / 1000,
            );
          }
          head.resolve(after);
          continue;
        }
        line.lastResult = result;
        if (after + result.waitMs > head.limitAt) {
          this.#refuse(head, result, after);
          continue;
        }
        line.pumping = false;
        this.#schedule(line, result.waitMs);
        return;
      }
    } finally {
      line.pumping = false;
    }
  }

  async #giveBack(key: string, tokens: number): Promise<void> {
    try {
      await this.#store.adjustTokens(key, tokens, this.#clock.now());
    } catch {
      // The store is unreachable: the tokens refill with the bucket, as any reservation's would.
    }
  }

  #refuse(waiter: PermitWaiter, result: TakeResult | undefined, now: number): void {
    if (waiter.settled) return;
    const line = this.#lines.get(`${waiter.target.provider}:${waiter.target.model}`);
    if (line !== undefined) line.live--;
    waiter.reject(this.#refusal(waiter.target, waiter.context, waiter.byDeadline, result, waiter.enqueuedAt, now));
  }

  #refusal(
    target: CallTarget,
    context: CallContext,
    byDeadline: boolean,
    result: TakeResult | undefined,
    since: number,
    now: number,
  ): Error {
    const { provider, model } = target;
    const limit: RateLimitKind = result?.limit ?? 'requests';
    const retryAfterMs = Math.max(1, result?.waitMs ?? 1);
    this.#metrics?.llmRefusals.inc({ provider, model, reason: 'rate_limit' });
    if (byDeadline) return deadlineError(context, now, 'would pass while waiting for a rate-limit permit', undefined, retryAfterMs);
    const rule = limit === 'tokens' ? this.#rules.tokens : this.#rules.requests;
    return new RateLimitExceededError({
      provider,
      model,
      limit,
      limitPerMinute: rule === undefined ? 0 : Math.round((rule.capacity * 60_000) / rule.windowMs),
      waitedMs: now - since,
      retryAfterMs,
    });
  }
}
