/** The error of a step that did not finish within its time limit. */
export class TimeLimitError extends Error {
  override readonly name = 'TimeLimitError';
}

/** Resolves or rejects as `work` does, or rejects with a {@link TimeLimitError} after `ms` (whatever `work` does later). */
export function withTimeLimit<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeLimitError(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
