const BRAND = Symbol.for('groundwork.error');

/** Options shared by every Groundwork error. */
export interface GroundworkErrorOptions {
  /** The underlying error, kept for debugging. Its message must already be free of secrets. */
  cause?: unknown;
  /** Whether repeating the same operation may succeed. @default false */
  retryable?: boolean;
}

/**
 * The root of every error Groundwork throws.
 *
 * Recognise it with {@link GroundworkError.isInstance} rather than `instanceof`, so that two
 * copies of the package still agree. Every subclass carries its facts as fields and a `code`
 * that is stable across releases.
 */
export class GroundworkError extends Error {
  /** A stable, machine-readable identifier for the kind of failure. */
  readonly code: string;
  /** Whether repeating the same operation may succeed. */
  readonly retryable: boolean;
  readonly [BRAND] = true;

  constructor(code: string, message: string, options: GroundworkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }

  /** True for any error created by any copy of Groundwork. */
  static isInstance(value: unknown): value is GroundworkError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
