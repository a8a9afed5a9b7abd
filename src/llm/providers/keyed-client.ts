/**
 * Holds one SDK client per credential value, rebuilding it when the value changes. Reading the
 * key at each call this way lets a rotated secret (`reloadSecrets()`) take effect on the next call.
 */
export class KeyedClient<T> {
  readonly #build: (key: string | undefined) => T;
  #key: string | undefined;
  #client: T | undefined;

  constructor(build: (key: string | undefined) => T) {
    this.#build = build;
  }

  /** The client for `key`, built on first use and after every change of key. */
  get(key: string | undefined): T {
    if (this.#client === undefined || key !== this.#key) {
      this.#client = this.#build(key);
      this.#key = key;
    }
    return this.#client;
  }
}
