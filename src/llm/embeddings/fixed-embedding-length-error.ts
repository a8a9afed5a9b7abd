import { GroundworkError } from '../../errors/groundwork-error.js';

/**
 * A call asked `dimensions` of a model whose vectors have one fixed length
 * (`text-embedding-ada-002`, `nomic-embed-text`, the Cohere models, Titan v1): it cannot shorten
 * them, so the call is refused before any request rather than answered with full-length vectors.
 */
export class FixedEmbeddingLengthError extends GroundworkError {
  /** The request field at fault, for an HTTP error's `param`. */
  readonly param = 'dimensions';
  /** The model asked. */
  readonly model: string;
  /** The length of its vectors, the only one it returns. */
  readonly modelDimensions: number;
  /** The length asked for. */
  readonly requested: number;

  /** `fromSettings`: the length came from `LLM_EMBEDDING_DIMENSIONS`, not from the call. */
  constructor(model: string, modelDimensions: number, requested: number, fromSettings: boolean) {
    const asked = fromSettings ? `dimensions is ${requested} (LLM_EMBEDDING_DIMENSIONS)` : `dimensions is ${requested}`;
    super(
      'llm_invalid_request',
      `Invalid LLM request: ${asked}, but ${model} returns ${modelDimensions}-dimension vectors only and cannot shorten them; ` +
        `leave dimensions out (or ask ${modelDimensions}), or embed with a model that takes dimensions (text-embedding-3-*).`,
    );
    this.model = model;
    this.modelDimensions = modelDimensions;
    this.requested = requested;
  }
}
