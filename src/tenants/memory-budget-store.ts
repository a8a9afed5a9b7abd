import {
  type BudgetState,
  type BudgetStore,
  type ReserveRequest,
  type ReserveResult,
  SETTLED_MARKER_MS,
  type SettleOptions,
} from './budget-store.js';

interface Counter {
  spentNano: number;
  /** Live reservations: id → amount and lease end. */
  reservations: Map<string, { amountNano: number; leaseUntil: number }>;
}

/**
 * Budgets in this process's memory: exact for one process, no I/O. A replica's local share
 * while the shared store (Redis) is unreachable; each operation runs synchronously, so it is
 * atomic within the process.
 */
export class MemoryBudgetStore implements BudgetStore {
  readonly #counters = new Map<string, Counter>();
  /** Reservations settled with spend: id → until when a repeat is recognised; all `SETTLED_MARKER_MS` on, so in expiry order. */
  readonly #settled = new Map<string, number>();
  /** Those whose lease outlives that (batches): few, so scanned whole. */
  readonly #settledLong = new Map<string, number>();

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const minimum = Math.min(request.minimumNano ?? request.amountNano, request.amountNano);
    let grant = request.amountNano;
    const committedNano: number[] = [];
    for (const budget of request.budgets) {
      const state = this.#state(budget.counter, request.now);
      committedNano.push(state.spentNano + state.reservedNano);
      grant = Math.min(grant, budget.limitNano - state.spentNano - state.reservedNano);
      if (grant < minimum) return { granted: false, counter: budget.counter, limitNano: budget.limitNano, ...pick(state) };
    }
    for (const budget of request.budgets) {
      this.#counter(budget.counter).reservations.set(request.reservationId, { amountNano: grant, leaseUntil: request.leaseUntil });
    }
    return { granted: true, amountNano: grant, committedNano };
  }

  async settle(
    reservationId: string,
    counters: readonly string[],
    spentNano: number,
    now?: number,
    options?: SettleOptions,
  ): Promise<void> {
    const at = now ?? Date.now();
    for (const [id, until] of this.#settled) {
      if (until > at) break;
      this.#settled.delete(id);
    }
    for (const [id, until] of this.#settledLong) if (until <= at) this.#settledLong.delete(id);
    const spent = Math.max(0, Math.ceil(spentNano));
    const repeated = spent > 0 && (this.#settled.has(reservationId) || this.#settledLong.has(reservationId));
    let remember = at + SETTLED_MARKER_MS;
    for (const name of new Set(counters)) {
      const counter = this.#counter(name);
      const held = counter.reservations.get(reservationId);
      counter.reservations.delete(reservationId);
      if (held !== undefined) remember = Math.max(remember, held.leaseUntil);
      if (repeated) continue;
      if (options?.once === true && (held === undefined || (now !== undefined && held.leaseUntil <= now))) continue;
      counter.spentNano += spent;
    }
    if (spent > 0 && !repeated) {
      if (remember > at + SETTLED_MARKER_MS) this.#settledLong.set(reservationId, remember);
      else this.#settled.set(reservationId, remember);
    }
  }

  async read(counters: readonly string[], now: number): Promise<BudgetState[]> {
    return counters.map((counter) => this.#state(counter, now));
  }

  /** Forgets every counter (a new outage starts its local share afresh). */
  reset(): void {
    this.#counters.clear();
  }

  #state(name: string, now: number): BudgetState {
    const counter = this.#counter(name);
    let reservedNano = 0;
    for (const [id, reservation] of counter.reservations) {
      if (reservation.leaseUntil <= now) counter.reservations.delete(id);
      else reservedNano += reservation.amountNano;
    }
    return { counter: name, spentNano: counter.spentNano, reservedNano };
  }

  #counter(name: string): Counter {
    let counter = this.#counters.get(name);
    if (counter === undefined) {
      counter = { spentNano: 0, reservations: new Map() };
      this.#counters.set(name, counter);
    }
    return counter;
  }
}

function pick(state: BudgetState): { spentNano: number; reservedNano: number } {
  return { spentNano: state.spentNano, reservedNano: state.reservedNano };
}
