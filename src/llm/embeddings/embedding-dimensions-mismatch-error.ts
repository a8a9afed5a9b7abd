import { GroundworkError } from '../../errors/groundwork-error.js';

/**
 * A provider answered vectors of another length than the call expects: the model ignored the
 * call's `dimensions` (a local model, an Azure deployment of a model that cannot shorten), or
 * answered another length than its known one or than its other vectors. Not retryable: the same
 * model answers the same length again.
 */
export class EmbeddingDimensionsMismatchError extends GroundworkError {
  /** `'dimensions'` when the call itself asked the length the model did not return (the caller's to change); otherwise null. */
  readonly param: 'dimensions' | null;
  readonly provider: string;
  readonly model: string;
  /** The length expected. */
  readonly expected: number;
  /** The length the provider answered. */
  readonly got: number;

  constructor(options: { provider: string; model: string; expected: number; got: number; askedByCall: boolean }) {
    const { provider, model, expected, got, askedByCall } = options;
    super(
      'embedding_dimensions_mismatch',
      askedByCall
        ? `${provider} model ${model} returned ${got}-dimension vectors where dimensions asked ${expected}: it does not shorten its vectors; ` +
            'leave dimensions out, or embed with a model that takes dimensions.'
        : `${provider} model ${model} returned ${got}-dimension vectors where ${expected} were expected; ` +
            'set LLM_EMBEDDING_DIMENSIONS or an embedding model of that length.',
    );
    this.param = askedByCall ? 'dimensions' : null;
    this.provider = provider;
    this.model = model;
    this.expected = expected;
    this.got = got;
  }
}
