import { inspect } from 'node:util';
import { Secret } from './secret.js';

/**
 * The secrets of one list variable (`GROUNDWORK_API_KEYS`): a {@link Secret} per entry, named
 * `NAME[index]`. A reload may change how many there are, so holders read {@link SecretList.items}
 * at each use rather than keeping the array.
 */
export class SecretList {
  /** The environment variable the list came from. */
  readonly variable: string;
  #items: readonly Secret[];

  constructor(variable: string, values: readonly string[]) {
    this.variable = variable;
    this.#items = Object.freeze(values.map((value, index) => new Secret(`${variable}[${index}]`, value)));
  }

  /** The entries now: a frozen array, replaced (never changed) by {@link SecretList.replace}. */
  get items(): readonly Secret[] {
    return this.#items;
  }

  /**
   * Replaces the entries (secret rotation), keeping each index's {@link Secret} and adding or
   * dropping entries as the count changes. Returns whether anything changed.
   * @internal
   */
  replace(values: readonly string[]): boolean {
    const current = this.#items;
    let changed = values.length !== current.length;
    const next = values.map((value, index) => {
      const existing = current[index];
      if (existing === undefined) return new Secret(`${this.variable}[${index}]`, value);
      if (existing.replace(value)) changed = true;
      return existing;
    });
    this.#items = Object.freeze(next);
    return changed;
  }

  toJSON(): string[] {
    return this.#items.map((item) => item.toJSON());
  }

  [inspect.custom](): string {
    return `SecretList(${this.variable}: ${this.#items.length} [redacted])`;
  }
}
