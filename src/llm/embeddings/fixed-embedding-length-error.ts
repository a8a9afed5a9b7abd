import { GroundworkError } from '../../errors/groundwork-error.js';

/**
 * A call asked `dimensions` a model cannot return: another length than its one fixed length
 * (`text-embedding-ada-002`, `nomic-embed-text`, the Cohere models, Titan v1), or more than the
 * full length of a model that shortens (`text-embedding-3-small` asked 4000). The call is refused
 * before any request rather than answered with vectors of another length than it asked.
 */
export class FixedEmbeddingLengthError extends GroundworkError {
  /** The request field at fault, for an HTTP error's `param`. */
  readonly param = 'dimensions';
  /** The model asked. */
  readonly model: string;
  /** The length of its vectors: the only one it returns, or, when it shortens, the most. */
  readonly modelDimensions: number;
  /** The length asked for. */
  readonly requested: number;

  /**
   * `fromSettings`: the length came from `LLM_EMBEDDING_DIMENSIONS`, not from the call.
   * `shortens`: the model takes `dimensions` up to its own length, and was asked more.
   */
  constructor(model: string, modelDimensions: number, requested: number, fromSettings: boolean, shortens = false) {
    const asked = fromSettings ? `dimensions is ${requested} (LLM_EMBEDDING_DIMENSIONS)` : `dimensions is ${requested}`;
    super(
      'llm_invalid_request',
      shortens
        ? `Invalid LLM request: ${asked}, but ${model} returns at most ${modelDimensions}-dimension vectors; ` +
            `ask ${modelDimensions} or fewer, or leave dimensions out.`
        : `Invalid LLM request: ${asked}, but ${model} returns ${modelDimensions}-dimension vectors only and cannot shorten them; ` +
            `leave dimensions out (or ask ${modelDimensions}), or embed with a model that takes dimensions (text-embedding-3-*).`,
    );
    this.model = model;
    this.modelDimensions = modelDimensions;
    this.requested = requested;
  }
}
