/** The value a model outside the known set is recorded under, in metric labels and breaker and rate-limit keys. */
export const OTHER_MODEL = 'other';

/**
 * The models that get a metric label, a circuit breaker and rate-limit buckets of their own. Open
 * (every model is its own) until {@link restrictTo} is called; `groundwork serve` restricts it to
 * the models it knows (configured, fallbacks, embeddings, model groups and their deployments, the
 * priced models, and those a virtual key or team allows), since there any caller chooses the model name. Every other name is then
 * folded into {@link OTHER_MODEL}, so that the series, breakers and buckets stay bounded whatever
 * names callers send; a known model keeps its own. A name outside the set that `family` places
 * (serve: the price-table entry that prices it, so `claude-haiku-4-5-20251001` is counted under
 * `claude-haiku-4-5`) is counted under that name instead of {@link OTHER_MODEL}.
 */
export class KnownModels {
  #known: ReadonlySet<string> | undefined;
  #family: ((model: string) => string | undefined) | undefined;

  /**
   * Folds every model outside `models` (and those added later) into {@link OTHER_MODEL}, or into
   * what `family` names for it. `family` must answer from a bounded set of names (it replaces an
   * earlier one), and is asked only for names outside `models`.
   */
  restrictTo(models: Iterable<string>, family?: (model: string) => string | undefined): void {
    const known = new Set(this.#known);
    for (const model of models) known.add(model);
    this.#known = known;
    if (family !== undefined) this.#family = family;
  }

  /**
   * Gives each of `models` a label, breaker and buckets of its own from now on (the models an
   * administrator allowed a virtual key or team: a list callers cannot grow). Nothing while open.
   */
  admit(models: Iterable<string>): void {
    const known = this.#known;
    if (known === undefined) return;
    let added: Set<string> | undefined;
    for (const model of models) {
      if (known.has(model)) continue;
      added ??= new Set(known);
      added.add(model);
    }
    if (added !== undefined) this.#known = added;
  }

  /** Whether names are folded. */
  get restricted(): boolean {
    return this.#known !== undefined;
  }

  /** The label (and breaker and rate-limit key) of `model`: itself when known or when open, else its family, else {@link OTHER_MODEL}. */
  label(model: string): string {
    const known = this.#known;
    if (known === undefined || known.has(model)) return model;
    return this.#family?.(model) ?? OTHER_MODEL;
  }
}
