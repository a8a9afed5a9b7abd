/** The value a model outside the known set is recorded under, in metric labels and breaker and rate-limit keys. */
export const OTHER_MODEL = 'other';

/** Names outside the known set whose label is remembered (a call asks for it in several places); past it, asked again. */
const REMEMBERED_LABELS = 1024;

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
  /** Labels of names outside the known set, as `family` answered them: bounded, and cleared whenever the set or `family` changes. */
  readonly #labels = new Map<string, string>();

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
    this.#labels.clear();
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
    if (added !== undefined) {
      this.#known = added;
      this.#labels.clear();
    }
  }

  /** Whether names are folded. */
  get restricted(): boolean {
    return this.#known !== undefined;
  }

  /** The label (and breaker and rate-limit key) of `model`: itself when known or when open, else its family, else {@link OTHER_MODEL}. */
  label(model: string): string {
    const known = this.#known;
    if (known === undefined || known.has(model)) return model;
    // A dated name's family is a walk over the price table: asked once per name, not once per use.
    let label = this.#labels.get(model);
    if (label === undefined) {
      label = this.#family?.(model) ?? OTHER_MODEL;
      if (this.#labels.size < REMEMBERED_LABELS) this.#labels.set(model, label);
    }
    return label;
  }
}
