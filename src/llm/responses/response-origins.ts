import type { CallTarget } from '../call-pipeline.js';

/** How many response ids {@link ResponseOrigins} keeps by default. */
export const RESPONSE_ORIGINS_CAPACITY = 4096;

/**
 * Which target made each recent forwarded response, by id, so that retrieving it asks that
 * upstream first. Bounded: past `capacity` ids, the one least recently made or retrieved is
 * forgotten (a forgotten id is still found, by asking every upstream in turn).
 */
export class ResponseOrigins {
  readonly #capacity: number;
  /** In order of use, oldest first: a `Map` keeps insertion order. */
  readonly #targets = new Map<string, CallTarget>();

  /** @param capacity ids kept at most. @default 4096 */
  constructor(capacity = RESPONSE_ORIGINS_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a whole number of at least 1, not ${capacity}`);
    this.#capacity = capacity;
  }

  /** Notes that `target` made the response `id`, forgetting the least recently used id when full. */
  remember(id: string, target: CallTarget): void {
    this.#targets.delete(id);
    this.#targets.set(id, target);
    if (this.#targets.size > this.#capacity) this.#targets.delete(this.#targets.keys().next().value as string);
  }

  /** The target that made `id`, if it is still known; knowing it again makes it the most recently used. */
  recall(id: string): CallTarget | undefined {
    const target = this.#targets.get(id);
    if (target === undefined) return undefined;
    this.#targets.delete(id);
    this.#targets.set(id, target);
    return target;
  }

  /**
   * Forgets `id` when `target` is still the one remembered for it: that upstream answered 404. An
   * id remembered for another target since (a retrieval or a call that found it elsewhere) is kept.
   */
  forget(id: string, target: CallTarget): void {
    if (this.#targets.get(id) === target) this.#targets.delete(id);
  }

  /** Forgets `id` whichever target is remembered for it: the response is gone (deleted). */
  drop(id: string): void {
    this.#targets.delete(id);
  }

  /** How many ids are known. */
  get size(): number {
    return this.#targets.size;
  }
}
