import type { Clock } from '../internal/clock.js';
import { callAbortError, callAborted } from '../llm/call-signal.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { type CallContext, deadlineError } from './call-context.js';
import { PipelineClosedError, QueueFullError, QueueTimeoutError } from './errors.js';
import { Waiter, type WaiterOwner, WaitQueue } from './waiter.js';

/** A caller waiting for a slot. */
class SlotWaiter extends Waiter {
  provider = '';
  context!: CallContext;
  byDeadline = false;
}

/** The slots and line of one provider. */
class ProviderSlots extends WaitQueue<SlotWaiter> {
  active = 0;
  constructor(readonly inFlight: { inc(): void; dec(): void } | undefined) {
    super();
  }
}

/**
 * The concurrency stage: at most `maxConcurrent` attempts in flight per provider. Further
 * callers wait in line, first come first served; the line holds at most `queueMax` callers
 * ({@link QueueFullError} beyond) for at most `queueTimeoutMs` ({@link QueueTimeoutError}).
 * A freed slot goes straight to the first caller in line.
 */
export class ConcurrencyLimiter implements WaiterOwner<SlotWaiter> {
  readonly #maxConcurrent: number;
  readonly #queueMax: number;
  readonly #queueTimeoutMs: number;
  readonly #clock: Clock;
  readonly #metrics: GroundworkMetrics | undefined;
  readonly #providers = new Map<string, ProviderSlots>();
  #closed = false;

  constructor(options: {
    maxConcurrent: number;
    queueMax: number;
    queueTimeoutMs: number;
    clock: Clock;
    metrics?: GroundworkMetrics | undefined;
  }) {
    this.#maxConcurrent = options.maxConcurrent;
    this.#queueMax = options.queueMax;
    this.#queueTimeoutMs = options.queueTimeoutMs;
    this.#clock = options.clock;
    this.#metrics = options.metrics;
  }

  /** Takes a slot if one is free and nobody is in line; true when it did. */
  tryAcquire(provider: string): boolean {
    const slots = this.#slots(provider);
    if (slots.active >= this.#maxConcurrent || slots.live > 0) return false;
    slots.active++;
    slots.inFlight?.inc();
    return true;
  }

  /** Waits in line for a slot (call after {@link tryAcquire} said no); resolves with the ms waited. */
  wait(provider: string, context: CallContext): Promise<number> {
    const slots = this.#slots(provider);
    const now = this.#clock.now();
    if (callAborted(context)) return Promise.reject(callAbortError(context));
    if (this.#closed) return Promise.reject(new PipelineClosedError());
    if (slots.live >= this.#queueMax) {
      this.#metrics?.llmRefusals.inc({ provider, model: '', reason: 'queue_full' });
      return Promise.reject(new QueueFullError({ provider, queueMax: this.#queueMax, maxConcurrent: this.#maxConcurrent }));
    }
    const queueLimit = now + this.#queueTimeoutMs;
    const waiter = new SlotWaiter(this, this.#clock, context.signal, now, Math.min(context.deadlineAt, queueLimit));
    waiter.provider = provider;
    waiter.context = context;
    waiter.byDeadline = context.deadlineAt < queueLimit;
    slots.push(waiter);
    return waiter.promise;
  }

  /** Frees a slot: it goes to the first caller in line, if any. */
  release(provider: string): void {
    const slots = this.#slots(provider);
    const next = slots.peek();
    if (next !== undefined) {
      slots.live--;
      next.resolve(this.#clock.now());
      return;
    }
    slots.active--;
    slots.inFlight?.dec();
  }

  /** Calls in flight for `provider`. */
  active(provider: string): number {
    return this.#providers.get(provider)?.active ?? 0;
  }

  /** Every provider with calls in flight or in line: its calls in flight, the callers waiting for a slot, and the slots. Read-only. */
  snapshot(): Array<{ provider: string; active: number; waiting: number; maxConcurrent: number }> {
    return [...this.#providers].map(([provider, slots]) => ({
      provider,
      active: slots.active,
      waiting: slots.live,
      maxConcurrent: this.#maxConcurrent,
    }));
  }

  /** Refuses every caller still in line. */
  close(): void {
    this.#closed = true;
    for (const slots of this.#providers.values()) for (const waiter of slots.drain()) waiter.reject(new PipelineClosedError());
  }

  onExpired(waiter: SlotWaiter): void {
    const slots = this.#slots(waiter.provider);
    slots.live--;
    const now = this.#clock.now();
    this.#metrics?.llmRefusals.inc({ provider: waiter.provider, model: '', reason: 'queue_timeout' });
    waiter.reject(
      waiter.byDeadline
        ? deadlineError(waiter.context, now, 'would pass while waiting for a concurrency slot')
        : new QueueTimeoutError({ provider: waiter.provider, waitedMs: now - waiter.enqueuedAt, maxConcurrent: this.#maxConcurrent }),
    );
  }

  onCancelled(waiter: SlotWaiter): void {
    this.#slots(waiter.provider).live--;
  }

  #slots(provider: string): ProviderSlots {
    let slots = this.#providers.get(provider);
    if (slots === undefined) {
      slots = new ProviderSlots(this.#metrics?.llmInFlight.labels({ provider }));
      this.#providers.set(provider, slots);
    }
    return slots;
  }
}
