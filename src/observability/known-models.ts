/** The value a model outside the known set is recorded under, in metric labels and breaker and rate-limit keys. */
export const OTHER_MODEL = 'other';

/**
 * The models that get a metric label, a circuit breaker and rate-limit buckets of their own. Open
 * (every model is its own) until {@link restrictTo} is called; `groundwork serve` restricts it to
 * the models it knows (configured, fallbacks, embeddings, model groups and their deployments, and
 * the priced models), since there any caller chooses the model name. Every other name is then
 * folded into {@link OTHER_MODEL}, so that the series, breakers and buckets stay bounded whatever
 * names callers send; a known model keeps its own.
 */
export class KnownModels {
  #known: ReadonlySet<string> | undefined;

  /** Folds every model outside `models` (and those added later) into {@link OTHER_MODEL}. */
  restrictTo(models: Iterable<string>): void {
    const known = new Set(this.#known);
    for (const model of models) known.add(model);
    this.#known = known;
  }

  /** Whether names are folded. */
  get restricted(): boolean {
    return this.#known !== undefined;
  }

  /** The label (and breaker and rate-limit key) of `model`: itself when known or when open, else {@link OTHER_MODEL}. */
  label(model: string): string {
    const known = this.#known;
    return known === undefined || known.has(model) ? model : OTHER_MODEL;
  }
}
